import { parseEnv, type Env } from '../src/config/env.js';

/**
 * The configuration an in-process benchmark runs the project's services with: silent, no rate
 * limit, no import workers of its own, the given DATA_DIR, PostgreSQL when `databaseUrl` is given
 * (else the embedded PGlite under DATA_DIR), plus `extra`.
 */
export function benchEnv(dataDir: string, databaseUrl?: string, extra: Record<string, string> = {}): Env {
  return parseEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SECRET: 'bench-secret-that-is-long-enough-0123456789',
    AUTH_RATE_LIMIT: 'false',
    DATA_DIR: dataDir,
    IMPORT_WORKERS: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...extra,
  });
}
