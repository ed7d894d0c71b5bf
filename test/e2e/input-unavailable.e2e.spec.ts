/**
 * Issue 9: an unreachable database answers 503 SERVICE_UNAVAILABLE (was a 500) on /api/v1 and
 * /api/rpc. (The auth routes answer 503 too: test/e2e/auth-errors.e2e.spec.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { TEST_AUTH_SECRET } from '../setup/app.js';

let app: NestFastifyApplication;
let database: DatabaseHandle;

beforeAll(async () => {
  // Port 1 on loopback: nothing listens there, so every query fails with ECONNREFUSED.
  database = openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', maxConnections: 1 });
  const env = parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_SECRET: TEST_AUTH_SECRET, AUTH_RATE_LIMIT: 'false', DATA_DIR: '/tmp' });
  app = await createApp(env, { database });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

describe('database unreachable', () => {
  it('an authenticated request answers 503 in the one error shape', async () => {
    const response = await request(app.getHttpServer()).get('/api/v1/athletes').set('authorization', 'Bearer some-token');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.any(String) });
  });

  it('keeps answering 503 while the database stays down (reconnect attempts do not back off for 20 s each)', async () => {
    // With postgres.js's default backoff these three took 60–100 s each behind the background work's
    // queued queries on the one connection; this test's default timeout is what would catch it again.
    for (let i = 0; i < 3; i++) {
      const response = await request(app.getHttpServer()).get('/api/v1/athletes').set('authorization', 'Bearer some-token');
      expect(response.status).toBe(503);
    }
  });

});
