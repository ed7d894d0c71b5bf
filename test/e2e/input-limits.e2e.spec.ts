/**
 * Issue 9: body limits and credentials before the body. /api/v1 and /api/rpc accept 1 MiB unless a
 * procedure needs more (stream upload: 128 MiB); credentials are checked in onRequest, before a
 * byte of the body is read.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActivity, runBody } from '../factories/activities.js';
import { signUp } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.getHttpServer().address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.close();
});

const MiB = 1024 * 1024;

interface EarlyAnswer {
  status: number;
  body: string;
  /** Bytes of the body written before the answer arrived. */
  sent: number;
  ms: number;
}

/**
 * Announces a body of `declared` bytes, writes it in 64 KiB chunks, and stops writing as soon as
 * the server answers: an answer that arrives long before the body is complete was given without
 * reading it.
 */
function sendLargeBody(path: string, declared: number, headers: Record<string, string> = {}): Promise<EarlyAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let answered = false;
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(declared), ...headers } },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), sent, ms: performance.now() - started });
          request.destroy();
        });
      },
    );
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!answered && sent < declared) {
        sent += chunk.length;
        if (!request.write(chunk)) {
          request.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

describe('credentials are checked before the body is read', () => {
  it('a 100 MiB body without credentials → 401 after at most a few MiB were sent', async () => {
    const answer = await sendLargeBody('/api/v1/activities', 100 * MiB);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    expect(answer.sent).toBeLessThan(16 * MiB);
  });

  it('the same for an invalid token, for RPC and for the stream upload route', async () => {
    for (const path of ['/api/v1/activities', '/api/rpc/activities/create', '/api/v1/activities/3f0c7a1e-9b2d-4c4e-8f00-0123456789ab/streams/power']) {
      const answer = await sendLargeBody(path, 100 * MiB, { authorization: 'Bearer not-a-token' });
      expect(answer.status).toBe(401);
      expect(answer.sent).toBeLessThan(16 * MiB);
    }
  });

  it('public procedures still answer without credentials, over REST and RPC', async () => {
    await t.http().get('/api/v1/activity-types?tier=1').expect(200);
    await t.http().get('/api/v1/activity-types/running').expect(200);
    const rpc = await t.http().post('/api/rpc/activityTypes/list').send({ json: { category: 'running' } });
    expect(rpc.status).toBe(200);
  });
});

describe('body limits', () => {
  it('a 2 MiB create body → 413 in the one error shape (REST and RPC)', async () => {
    const user = await signUp(t);
    const big = runBody(user.athleteId, { sourceData: { blob: 'x'.repeat(2 * MiB) } });
    const rest = await t.http().post('/api/v1/activities').set(user.auth).send(big);
    expect(rest.status).toBe(413);
    expect(rest.body).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    const rpc = await t.http().post('/api/rpc/activities/create').set(user.auth).send({ json: big });
    expect(rpc.status).toBe(413);
  });

  it('a body under 1 MiB is accepted', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user, { sourceData: { blob: 'x'.repeat(900 * 1024) } });
    expect((created.sourceData as { blob: string }).blob).toHaveLength(900 * 1024);
  });

  it('the stream upload keeps its large limit: a 3.5 MiB JSON stream is stored', async () => {
    const user = await signUp(t);
    const activity = await createActivity(t, user);
    const start = Date.parse('2026-05-01T06:00:00Z');
    const count = 200_000;
    const timestamps = Array.from({ length: count }, (_, i) => start + Math.floor((i * 3_600_000) / count));
    const values = Array.from({ length: count }, (_, i) => 100 + (i % 50));
    const body = JSON.stringify({ timestamps, values });
    expect(body.length).toBeGreaterThan(3 * MiB);
    const response = await t
      .http()
      .put(`/api/v1/activities/${activity.id}/streams/heart_rate`)
      .set(user.auth)
      .set('content-type', 'application/json')
      .send(body);
    expect(response.status).toBe(200);
    expect(response.body.sampleCount).toBe(count);
  });
});
