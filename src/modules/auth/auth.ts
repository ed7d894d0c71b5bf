import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
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

/**
 * The origin a browser request came from when it is this server's own address: a page served by this
 * server at http://127.0.0.1:3000 or http://[::1]:3000 (or any address of this machine, or
 * localhost) posting back to the same address. Only IP literals and localhost count, never a DNS name,
 * so a rebinding attack (evil.example resolving to 127.0.0.1) gains nothing; a cross-site page
 * always sends its own Origin, which then differs from the address.
 */
export function ownAddressOrigins(request: Request | undefined): string[] {
  if (!request) return [];
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const local =
    host === 'localhost' ||
    (isIP(host) !== 0 &&
      Object.values(networkInterfaces())
        .flat()
        .some((address) => address?.address === host));
  return local ? [url.origin] : [];
}

export function createAuth(env: Env, db: Database, secret: string) {
  const origins = env.AUTH_TRUSTED_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [];
  return betterAuth({
    appName: 'Unified Activity API',
    baseURL: publicUrl(env),
    basePath: '/api/auth',
    secret,
    // PUBLIC_URL, AUTH_TRUSTED_ORIGINS, and the addresses this server is reached at directly.
    trustedOrigins: (request) => [publicUrl(env), ...origins, ...ownAddressOrigins(request)],
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
