import { randomBytes } from 'node:crypto';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { bearer, openAPI } from 'better-auth/plugins';
import type { Env } from '../../config/env.js';
import type { Database } from '../../database/database.js';
import { account, session, user, verification } from '../../database/schema/auth.js';

/** Header the auth route sets from Fastify's own view of the client address (clients cannot spoof it). */
export const CLIENT_IP_HEADER = 'x-activity-api-client-ip';

export function publicUrl(env: Env): string {
  return env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
}

/**
 * In development a missing AUTH_SECRET is replaced by a random one (sessions then end with the
 * process); production refuses to start without one (checked in env.ts).
 */
export function resolveAuthSecret(env: Env, warn: (message: string) => void): string {
  if (env.AUTH_SECRET) return env.AUTH_SECRET;
  warn('AUTH_SECRET is not set: using a random secret for this process; sessions will not survive a restart.');
  return randomBytes(32).toString('base64url');
}

export function createAuth(env: Env, db: Database, secret: string) {
  const origins = env.AUTH_TRUSTED_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [];
  return betterAuth({
    appName: 'Unified Activity API',
    baseURL: publicUrl(env),
    basePath: '/api/auth',
    secret,
    trustedOrigins: origins,
    database: drizzleAdapter(db, { provider: 'pg', schema: { user, session, account, verification } }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128, autoSignIn: true },
    plugins: [bearer(), openAPI({ disableDefaultReference: true })],
    rateLimit: {
      enabled: env.AUTH_RATE_LIMIT ?? true,
      window: 60,
      max: 100,
      customRules: {
        '/sign-in/email': { window: 60, max: 10 },
        '/sign-up/email': { window: 60, max: 10 },
      },
    },
    // Origin checks stay on in every environment (better-auth turns them off under NODE_ENV=test).
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] }, disableOriginCheck: false },
    telemetry: { enabled: false },
    logger: { disabled: env.LOG_LEVEL === 'silent', level: 'warn' },
  });
}

export type Auth = ReturnType<typeof createAuth>;
export type AuthSession = NonNullable<Awaited<ReturnType<Auth['api']['getSession']>>>;
