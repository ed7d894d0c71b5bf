import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type Database, type DatabaseHandle } from '../../src/database/database.js';
import { DATABASE_HANDLE } from '../../src/database/database.module.js';

/**
 * The embedded database's buffer cache (issue 24, footprint): PGlite would keep PostgreSQL's 128MB
 * of shared_buffers inside its never-shrinking WebAssembly memory; the server starts it with
 * PGLITE_SHARED_BUFFERS (16MB by default) instead.
 */
async function sharedBuffers(db: Database): Promise<string> {
  const result = (await db.execute(sql`show shared_buffers`)) as unknown as { rows: { shared_buffers: string }[] };
  return result.rows[0]!.shared_buffers;
}

describe('the embedded database’s buffer cache', () => {
  it('is 16MB unless configured', async () => {
    const database = openDatabase({});
    try {
      expect(await sharedBuffers(database.db)).toBe('16MB');
    } finally {
      await database.close();
    }
  });

  it('follows PGLITE_SHARED_BUFFERS, and the server works on it (migrated, /health up, data kept across a restart)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pglite-buffers-'));
    const env = parseEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PGLITE_SHARED_BUFFERS: '8MB' });
    try {
      let app = await createApp(env);
      try {
        expect(await sharedBuffers(app.get<DatabaseHandle>(DATABASE_HANDLE).db)).toBe('8MB');
        await request(app.getHttpServer()).get('/health').expect(200);
        await request(app.getHttpServer()).post('/api/auth/sign-up/email').send({ name: 'Ada', email: 'ada@example.test', password: 'a-long-password-123' }).expect(200);
      } finally {
        await app.close();
      }
      app = await createApp(parseEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PGLITE_SHARED_BUFFERS: '1MB' }));
      try {
        expect(await sharedBuffers(app.get<DatabaseHandle>(DATABASE_HANDLE).db)).toBe('1MB');
        await request(app.getHttpServer()).post('/api/auth/sign-in/email').send({ email: 'ada@example.test', password: 'a-long-password-123' }).expect(200);
      } finally {
        await app.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
