import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { createTestApp, type TestApp } from '../setup/app.js';

describe('GET /health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('reports the database as reachable', async () => {
    const response = await t.http().get('/health').expect(200);
    expect(response.body).toMatchObject({ status: 'ok', database: { status: 'up' } });
    expect(response.headers['content-type']).toMatch(/application\/json/);
  });
});

describe('malformed HTTP', () => {
  it('answers a request Node’s parser rejects in the one error shape', async () => {
    const t = await createTestApp();
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write('GET /api/v1/athletes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0001b\r\n\r\n'),
        );
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      const [head, body] = raw.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(body!)).toEqual({ code: 'BAD_REQUEST', message: expect.any(String) });
    } finally {
      await t.close();
    }
  });
});

describe('booting with no configuration', () => {
  it('starts on embedded PGlite under DATA_DIR, migrates it and answers /health', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'activity-api-boot-'));
    // Only the data folder and log level: no DATABASE_URL, no S3, no AUTH_SECRET.
    const app = await createApp(parseEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
    try {
      const response = await request(app.getHttpServer()).get('/health').expect(200);
      expect(response.body).toMatchObject({ status: 'ok', database: { status: 'up', kind: 'pglite' } });
      expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000); // a first boot: initdb, then PGlite opened again (src/database/database.ts, initialiseEmbeddedDataDir), on a loaded machine
});
