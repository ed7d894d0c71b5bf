/**
 * One Fastify route per procedure (src/modules/api/transport): every procedure of the contract has
 * its REST route and its RPC route, each with the limit its module declares; what matches no
 * procedure answers in the one error shape.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isContractProcedure, type AnyContractProcedure, type AnyContractRouter } from '@orpc/contract';
import { contract } from '@unified-activity/contract';
import type { FastifyInstance } from 'fastify';
import { createActivity } from '../factories/activities.js';
import { signUp } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const MiB = 1024 * 1024;

function contractProcedures(router: AnyContractRouter, path: string[] = []): { path: string[]; procedure: AnyContractProcedure }[] {
  if (isContractProcedure(router)) return [{ path, procedure: router }];
  return Object.entries(router).flatMap(([key, value]) => contractProcedures(value as AnyContractRouter, [...path, key]));
}

let t: TestApp;
let fastify: FastifyInstance;

beforeAll(async () => {
  t = await createTestApp();
  fastify = t.app.getHttpAdapter().getInstance();
});
afterAll(async () => {
  await t?.close();
});

describe('one route per procedure', () => {
  it('registers the REST route (contract method and path) and the RPC route of every procedure', () => {
    const all = contractProcedures(contract);
    expect(all.length).toBeGreaterThan(20);
    for (const { path, procedure } of all) {
      const { method = 'POST', path: template = '' } = procedure['~orpc'].route;
      const rest = { method, url: `/api${template.replace(/\{([^}]+)\}/g, ':$1')}` };
      expect({ procedure: path.join('.'), rest: fastify.hasRoute(rest) }).toEqual({ procedure: path.join('.'), rest: true });
      expect({ procedure: path.join('.'), rpc: fastify.hasRoute({ method: 'POST', url: `/api/rpc/${path.join('/')}` }) }).toEqual({
        procedure: path.join('.'),
        rpc: true,
      });
    }
  });

  it('answers what matches no procedure with 404 in the one error shape (401 first without credentials)', async () => {
    const user = await signUp(t);
    const rest = await t.http().get('/api/v1/nothing-here').set(user.auth);
    expect(rest.status).toBe(404);
    expect(rest.body).toEqual({ code: 'NOT_FOUND', message: 'No route for GET /api/v1/nothing-here' });
    // A known path with a method it does not take.
    const method = await t.http().patch('/api/v1/activity-types').set(user.auth).send({});
    expect(method.status).toBe(404);
    expect(method.body).toMatchObject({ code: 'NOT_FOUND' });
    const rpc = await t.http().post('/api/rpc/activities/nothing').set(user.auth).send({ json: {} });
    expect(rpc.status).toBe(404);
    expect(rpc.body).toEqual({ code: 'NOT_FOUND', message: 'No such procedure' });
    const anonymous = await t.http().get('/api/v1/nothing-here');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('gives the RPC route its procedure’s body limit: a 3 MiB stream upload is stored, a 3 MiB create is 413', async () => {
    const user = await signUp(t);
    const activity = await createActivity(t, user);
    const start = Date.parse('2026-05-01T06:00:00Z');
    const count = 200_000;
    const timestamps = Array.from({ length: count }, (_, i) => start + Math.floor((i * 3_600_000) / count));
    const values = Array.from({ length: count }, (_, i) => 100 + (i % 50));
    const input = { params: { id: activity.id, type: 'heart_rate' }, body: { timestamps, values } };
    const body = JSON.stringify({ json: input });
    expect(body.length).toBeGreaterThan(3 * MiB);
    const upload = await t.http().post('/api/rpc/streams/upload').set(user.auth).set('content-type', 'application/json').send(body);
    expect(upload.status).toBe(200);
    expect(upload.body.json).toMatchObject({ streamType: 'heart_rate', sampleCount: count });

    const create = await t
      .http()
      .post('/api/rpc/activities/create')
      .set(user.auth)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ json: { athleteId: user.athleteId, activityType: 'running', name: 'x'.repeat(3 * MiB) } }));
    expect(create.status).toBe(413);
    expect(create.body).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
  });

  it('keeps the raw body where the module declares it: a sync batch over its limit gets 413 with the module’s message', async () => {
    const user = await signUp(t);
    const padding = 'x'.repeat(33 * MiB);
    const response = await t
      .http()
      .post(`/api/v1/athletes/${user.athleteId}/sync/strava/batches`)
      .set(user.auth)
      .set('content-type', 'application/json')
      .send(`{"activities":[],"cursor":"${padding}"}`);
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'The batch body is larger than 32 MiB; send fewer activities per batch' });
  });

  it('reads multipart as import files only on the REST import route: elsewhere it is refused (415) and nothing is written', async () => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/activities').set(user.auth).attach('files', Buffer.from('<gpx/>'), 'a.gpx');
    expect(response.status).toBe(415);
    expect(response.body).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) });
    const list = await t.http().get('/api/v1/activities').query({ athleteId: user.athleteId }).set(user.auth).expect(200);
    expect(list.body.items).toEqual([]);
  });
});
