import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp, type CreateAppOptions } from '../../src/app.js';
import { parseEnv, type Env } from '../../src/config/env.js';
import type { DatabaseHandle } from '../../src/database/database.js';
import { openIsolatedDatabase, openTestDatabase } from './database.js';

export interface TestApp {
  app: NestFastifyApplication;
  database: DatabaseHandle;
  env: Env;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

export const TEST_AUTH_SECRET = 'test-secret-that-is-long-enough-0123456789';

/** The environment of a test app: quiet, no rate limits, no import worker and no webhook deliveries unless asked. */
export function testEnv(dataDir: string, overrides: Record<string, string> = {}) {
  return parseEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SECRET: TEST_AUTH_SECRET,
    AUTH_RATE_LIMIT: 'false',
    DATA_DIR: dataDir,
    // Import jobs run only in the tests that ask for a worker (IMPORT_WORKERS: '1').
    IMPORT_WORKERS: '0',
    // Webhook deliveries are sent only by the test apps that ask (WEBHOOK_DISPATCH: 'true'): test files
    // share one database in CI, and another file's app must not take (and refuse) their deliveries.
    WEBHOOK_DISPATCH: 'false',
    ...overrides,
  });
}

/** Boots the real application (createApp, as main.ts does) on the test database. */
export async function createTestApp(
  overrides: Record<string, string> = {},
  { isolatedDatabase = false, ...options }: Pick<CreateAppOptions, 'mappingTweaks'> & { isolatedDatabase?: boolean } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'activity-api-test-'));
  const env = testEnv(dataDir, overrides);
  const database = isolatedDatabase ? await openIsolatedDatabase() : await openTestDatabase();
  const app = await createApp(env, { database, ...options });
  return {
    app,
    database,
    env,
    http: () => request(app.getHttpServer()),
    async close() {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
