import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError, createAuthMiddleware } from 'better-auth/api';
import { bearer, openAPI } from 'better-auth/plugins';
import { betterAuthLogger } from './auth-logging.js';
import type { Env } from '../../config/env.js';
import type { Database } from '../../database/database.js';
import { account, rateLimit, session, user, verification } from '../../database/schema/auth.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PASSWORD_FIELDS, passwordProblem } from './password-policy.js';

/** Header the auth route sets from Fastify's own view of the client address (clients cannot spoof it). */
export const CLIENT_IP_HEADER = 'x-activity-api-client-ip';

export function publicUrl(env: Env): string {
  return env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
}

/** Where a generated development secret is kept, so restarts (and processes sharing DATA_DIR) keep sessions. */
export const authSecretFile = (env: Env): string => join(resolve(env.DATA_DIR), 'auth-secret');

/**
 * In development a missing AUTH_SECRET is generated once and kept in DATA_DIR/auth-secret (mode
 * 0600), so signed tokens survive restarts; production refuses to start without one (env.ts).
 */
export function resolveAuthSecret(env: Env, warn: (message: string) => void): string {
  if (env.AUTH_SECRET) return env.AUTH_SECRET;
  const file = authSecretFile(env);
  const read = (): string | undefined => {
    try {
      const stored = readFileSync(file, 'utf8').trim();
      return stored.length >= 32 ? stored : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing) return existing;
  mkdirSync(resolve(env.DATA_DIR), { recursive: true });
  try {
    // 'wx': when two processes start at once, exactly one writes and both read its secret.
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    warn(`AUTH_SECRET is not set: generated a development secret in ${file}. Set AUTH_SECRET in production.`);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }
  const created = read();
  if (!created) throw new Error(`Could not read the generated auth secret from ${file}`);
  return created;
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

/** Refuses a new password that breaks the policy (password-policy.ts) with 400 PASSWORD_TOO_WEAK. */
const passwordPolicy = createAuthMiddleware(async (ctx) => {
  const field = PASSWORD_FIELDS[ctx.path];
  if (!field) return;
  const value = (ctx.body as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== 'string') return;
  const problem = passwordProblem(value);
  if (problem) throw new APIError('BAD_REQUEST', { code: 'PASSWORD_TOO_WEAK', message: problem });
});

export function createAuth(env: Env, db: Database, secret: string) {
  const origins = env.AUTH_TRUSTED_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [];
  return betterAuth({
    appName: 'Unified Activity API',
    baseURL: publicUrl(env),
    basePath: '/api/auth',
    secret,
    // PUBLIC_URL, AUTH_TRUSTED_ORIGINS, and the addresses this server is reached at directly.
    trustedOrigins: (request) => [publicUrl(env), ...origins, ...ownAddressOrigins(request)],
    database: drizzleAdapter(db, { provider: 'pg', schema: { user, session, account, verification, rateLimit } }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      autoSignIn: true,
    },
    hooks: { before: passwordPolicy },
    plugins: [bearer(), openAPI({ disableDefaultReference: true })],
    rateLimit: {
      enabled: env.AUTH_RATE_LIMIT ?? true,
      window: 60,
      max: 100,
      // In the database, so every replica counts against one window per client address.
      storage: 'database',
      modelName: 'rateLimit',
      customRules: {
        '/sign-in/email': { window: 60, max: 10 },
        '/sign-up/email': { window: 60, max: 10 },
      },
    },
    // Origin checks stay on in every environment (better-auth turns them off under NODE_ENV=test).
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] }, disableOriginCheck: false },
    telemetry: { enabled: false },
    // Through the API's logger and its redaction (README "Errors"): better-auth's own prints coloured console lines.
    logger: betterAuthLogger(env.LOG_LEVEL === 'silent'),
    // A failure that is not better-auth's own answer (a failed query) is thrown to the auth route, which
    // answers and logs it as every other route does. Otherwise better-auth logs client mistakes at error
    // level through a console logger and prints failed queries with their parameters (the user's email).
    onAPIError: { throw: true },
  });
}

export type Auth = ReturnType<typeof createAuth>;
export type AuthSession = NonNullable<Awaited<ReturnType<Auth['api']['getSession']>>>;
