import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { seedCatalog } from '../../src/database/seed.js';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { signUp } from '../factories/api.js';
import { upload } from '../factories/imports.js';
import { TEST_AUTH_SECRET, type TestApp } from '../setup/app.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

const kinds = TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

/**
 * A job accepted by one process is run by the next one: the first app only enqueues
 * (IMPORT_WORKERS=0) and is shut down with the job still queued; a second app on the same
 * database and object store (a restart, or another replica) picks it up and completes it.
 * On PGlite the database itself is closed and reopened from its folder in between.
 */
describe.each(kinds)('an import job survives a restart (%s)', (kind) => {
  it('is enqueued by one app and completed by the next', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'import-restart-'));
    const open = async (): Promise<DatabaseHandle> => {
      const database = kind === 'pglite' ? openDatabase({ pgliteDir: join(dataDir, 'pglite') }) : openDatabase({ url: TEST_DATABASE_URL, maxConnections: 5 });
      await database.migrate();
      await seedCatalog(database.db);
      return database;
    };
    // An hour-long poll: the next app runs the job because its worker's first fetch finds it, not a poll.
    const env = (workers: string) =>
      parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_SECRET: TEST_AUTH_SECRET, AUTH_RATE_LIMIT: 'false', DATA_DIR: dataDir, IMPORT_WORKERS: workers, JOB_POLL_SECONDS: '3600' });
    const asTestApp = (app: NestFastifyApplication) => ({ http: () => request(app.getHttpServer()) }) as unknown as TestApp;

    let database = await open();
    let app = await createApp(env('0'), { database });
    try {
      const user = await signUp(asTestApp(app));
      const files = [0, 1].map((n) => ({
        name: `run-${n}.fit`,
        bytes: fitActivityFixture({ sport: 'running', startTime: new Date(Date.UTC(2024, 2, 1 + n, 7)), seconds: 600, channels: { heartRate: true, position: true } }).bytes,
      }));
      const accepted = await upload(asTestApp(app), user, files, '?async=true');
      expect(accepted.status).toBe(202);
      const jobId = accepted.body.id as string;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await asTestApp(app).http().get(`/api/v1/imports/${jobId}`).set(user.auth)).body).toMatchObject({ status: 'queued', filesDone: 0 });

      await app.close();
      await database.close();
      database = await open();
      app = await createApp(env('1'), { database });

      let job = { status: 'queued' } as { status: string; [key: string]: unknown };
      for (let i = 0; i < 120 && job.status !== 'completed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        job = (await asTestApp(app).http().get(`/api/v1/imports/${jobId}`).set(user.auth)).body;
      }
      expect(job).toMatchObject({ status: 'completed', filesDone: 2, summary: { created: 2, activities: 2, rejected: 0 } });
      const list = await asTestApp(app).http().get(`/api/v1/activities?athleteId=${user.athleteId}`).set(user.auth);
      expect(list.body.items).toHaveLength(2);
    } finally {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Creating an embedded database in a folder runs initdb in WASM: ~5 s idle, over 30 s on a loaded machine.
  }, 300_000);
});
