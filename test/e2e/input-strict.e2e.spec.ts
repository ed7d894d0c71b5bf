/**
 * Issue 9, "strict input": every reproduction below answered 500 or stored wrong data before the
 * fix. Each now answers a 4xx in the one error shape, and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createORPCClient, ORPCError } from '@orpc/client';
import { RPCLink } from '@orpc/client/fetch';
import type { ContractRouterClient } from '@orpc/contract';
import { eq } from 'drizzle-orm';
import type { contract } from '@unified-activity/contract';
import { activities, activityEvents, athletes, exportJobs, reprocessJobs } from '../../src/database/schema/index.js';
import { createActivity, runBody } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

type ApiClient = ContractRouterClient<typeof contract>;

let t: TestApp;
let rpcUrl: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  rpcUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}/api/rpc`;
});
afterAll(async () => {
  await t?.close();
});

const countActivities = async (user: SignedUpUser) =>
  (await t.database.db.select({ id: activities.id }).from(activities).where(eq(activities.athleteId, user.athleteId))).length;

/** Every 4xx answer has the one error shape; validation answers carry issues. */
function expectErrorShape(body: unknown) {
  expect(body).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
}

describe('dates: one strict ISO 8601 rule, years 1900–2200', () => {
  const OUT_OF_RANGE = ['0000-01-01T10:00:00Z', '1899-12-31T23:59:59Z', '2201-01-01T00:00:00Z'];
  // An expanded six-digit year is no RFC 3339 date-time at all: malformed rather than out of range.
  const MALFORMED: unknown[] = [true, 0, null, '1', '2026-02-30T10:00:00Z', 'May 1 2026 10:00', '2026-05-01T10:00:00', '+099999-01-01T10:00:00Z'];

  it.each(OUT_OF_RANGE)('create with startTime %s → 422, nothing written', async (startTime) => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(user.athleteId, { startTime }));
    expect(response.status).toBe(422);
    expect(response.body.issues[0].path).toEqual(['startTime']);
    expect(await countActivities(user)).toBe(0);
  });

  it.each(MALFORMED)('create with startTime %j → 400 (was stored as some other instant)', async (startTime) => {
    const user = await signUp(t);
    const response = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send({ ...runBody(user.athleteId), startTime, endTime: '2026-05-01T07:00:00Z' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'BAD_REQUEST', issues: [expect.objectContaining({ path: ['startTime'] })] });
    expect(await countActivities(user)).toBe(0);
  });

  it('an offset is honoured and normalised to UTC, whatever the server time zone', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user, { startTime: '2026-05-01T08:00:00+02:00', endTime: '2026-05-01T09:00:00+02:00' });
    expect(created.startTime).toBe('2026-05-01T06:00:00.000Z');
  });

  it('patch and events refuse out-of-range dates; the activity is unchanged', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user);
    const patch = await t.http().patch(`/api/v1/activities/${created.id}`).set(user.auth).send({ endTime: '+099999-01-01T10:00:00Z' });
    expect(patch.status).toBe(400);
    const event = await t
      .http()
      .patch(`/api/v1/activities/${created.id}`)
      .set(user.auth)
      .send({ events: [{ eventType: 'marker', startTime: '0000-01-01T10:00:00Z' }] });
    expect(event.status).toBe(422);
    expect(event.body.issues[0].path).toEqual(['events', 0, 'startTime']);
    const createWithEvent = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send(runBody(user.athleteId, { events: [{ eventType: 'lap', startTime: '2026-05-01T06:00:00Z', endTime: '+099999-01-01T10:00:00Z' }] }));
    expect(createWithEvent.status).toBe(400);
    const detail = await t.http().get(`/api/v1/activities/${created.id}`).set(user.auth).expect(200);
    expect(detail.body.endTime).toBe('2026-05-01T07:00:00.000Z');
    expect(detail.body.events).toEqual([]);
  });

  it('list filters and a crafted cursor with out-of-range dates → 4xx', async () => {
    const user = await signUp(t);
    for (const value of ['+099999-01-01T10:00:00Z', '0000-01-01T00:00:00Z', 'true', '1', '2026-05-01']) {
      const response = await t.http().get('/api/v1/activities').query({ startTimeFrom: value }).set(user.auth);
      expect([400, 422]).toContain(response.status);
      expectErrorShape(response.body);
    }
    for (const time of ['+099999-01-01T10:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-05-01T10:00:00']) {
      const cursor = Buffer.from(`${time}|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab`).toString('base64url');
      const response = await t.http().get('/api/v1/activities').query({ cursor }).set(user.auth);
      expect(response.status).toBe(400);
      expect(response.body.issues[0].path).toEqual(['cursor']);
    }
  });

  it('RPC list with an out-of-range Date → 422, with an in-range Date → 200', async () => {
    const user = await signUp(t);
    const client = createORPCClient<ApiClient>(new RPCLink({ url: rpcUrl, headers: user.auth }));
    const error = await client.activities.list({ startTimeFrom: new Date(Date.UTC(99_999, 0, 1)) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ORPCError);
    expect((error as ORPCError<string, unknown>).status).toBe(422);
    const ok = await client.activities.list({ startTimeFrom: new Date('2026-01-01T00:00:00Z'), includeTotals: true, limit: 5 });
    expect(ok.totals).toEqual({ count: 0, distanceM: 0, durationS: 0 });
  });

  it('stream ISO timestamps follow the same rule (offset-less and impossible dates refused)', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user);
    for (const timestamp of ['2026-05-01T06:00:00', '2026-02-30T06:00:00Z', '+099999-01-01T06:00:00Z']) {
      const response = await t
        .http()
        .put(`/api/v1/activities/${created.id}/streams/heart_rate`)
        .set(user.auth)
        .send({ timestamps: [timestamp], values: [120] });
      expect(response.status).toBe(422);
      expect(response.body.issues[0].path).toEqual(['timestamps', 0]);
    }
    await t
      .http()
      .put(`/api/v1/activities/${created.id}/streams/heart_rate`)
      .set(user.auth)
      .send({ timestamps: ['2026-05-01T08:00:01+02:00'], values: [120] })
      .expect(200);
  });
});

describe('text: NUL and control characters are refused (was a 500)', () => {
  it.each(['name', 'externalId', 'notes', 'sourceActivityType', 'deviceName'])('NUL in %s → 400, nothing written', async (field) => {
    const user = await signUp(t);
    const response = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send({ ...runBody(user.athleteId), [field]: 'a\u0000b' });
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([{ path: [field], message: expect.stringMatching(/control characters/) }]);
    expect(await countActivities(user)).toBe(0);
  });

  it('NUL in a statistic unit, an athlete displayName (create and update) → 400', async () => {
    const user = await signUp(t);
    const stat = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send(runBody(user.athleteId, { statistics: [{ key: 'a_w', value: 1, unit: 'W\u0000' }] }));
    expect(stat.status).toBe(400);
    expect((await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'A\u0000' })).status).toBe(400);
    expect((await t.http().patch(`/api/v1/athletes/${user.athleteId}`).set(user.auth).send({ displayName: 'A\u0000' })).status).toBe(400);
    const [athlete] = await t.database.db.select().from(athletes).where(eq(athletes.id, user.athleteId));
    expect(athlete!.displayName).toBe('Test User');
  });

  it('NUL inside event metadata and sourceData (values and keys) → 400, nothing written', async () => {
    const user = await signUp(t);
    const bodies = [
      runBody(user.athleteId, { events: [{ eventType: 'marker', startTime: '2026-05-01T06:10:00Z', metadata: { label: 'a\u0000' } }] }),
      runBody(user.athleteId, { events: [{ eventType: 'marker', startTime: '2026-05-01T06:10:00Z', metadata: { 'k\u0000': 1 } }] }),
      runBody(user.athleteId, { sourceData: { nested: [{ text: 'x\u0000y' }] } }),
    ];
    for (const body of bodies) {
      const response = await t.http().post('/api/v1/activities').set(user.auth).send(body);
      expect(response.status).toBe(400);
      expectErrorShape(response.body);
    }
    expect(await countActivities(user)).toBe(0);
    expect(await t.database.db.select().from(activityEvents).limit(1)).toBeDefined();
  });

  it('no stack trace or SQL leaks from a request that reached the database with a NUL byte', async () => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/activities').set(user.auth).send({ ...runBody(user.athleteId), name: 'x\u0000' });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).not.toMatch(/stack|select|insert|activities_|SQLSTATE|at .*\.[jt]s/i);
  });
});

describe('sourceData and metadata: depth and size bounded before recursion', () => {
  it('sourceData nested 5,000 levels deep → 422 naming the bound (was RangeError in zod, a 500)', async () => {
    const user = await signUp(t);
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const body = JSON.stringify(runBody(user.athleteId)).replace(/}$/, `,"sourceData":${deep}}`);
    const response = await t.http().post('/api/v1/activities').set(user.auth).set('content-type', 'application/json').send(body);
    expect(response.status).toBe(422);
    expect(response.body.issues[0].message).toMatch(/64 levels/);
    expect(await countActivities(user)).toBe(0);
  });

  it('metadata nested past its bound → 422; a real provider payload is stored byte for byte', async () => {
    const user = await signUp(t);
    let metadata: Record<string, unknown> = { x: 1 };
    for (let i = 0; i < 20; i++) metadata = { m: metadata };
    const deepMeta = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send(runBody(user.athleteId, { events: [{ eventType: 'marker', startTime: '2026-05-01T06:10:00Z', metadata }] }));
    expect(deepMeta.status).toBe(422);
    const payload = { id: 1, laps: [{ n: 1, splits: [{ d: 1000 }] }], 'key with spaces': 'Zürich 🏃' };
    const created = await createActivity(t, user, { sourceData: payload });
    expect(created.sourceData).toEqual(payload);
  });
});

describe('list filters are bound parameters', () => {
  it.each(['a"b', "a'b", 'a\\b', '{a}', 'a,"b"}'])('activityType=%s → 200 with no items (was a 500)', async (activityType) => {
    const user = await signUp(t);
    await createActivity(t, user);
    const response = await t.http().get('/api/v1/activities').query({ activityType, includeTotals: 'true' }).set(user.auth);
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([]);
    expect(response.body.totals.count).toBe(0);
  });

  it('several types and sources still filter', async () => {
    const user = await signUp(t);
    await createActivity(t, user, { activityType: 'running', source: 'strava', externalId: 's-1' });
    await createActivity(t, user, { activityType: 'cycling', source: 'garmin', externalId: 'g-1' });
    await createActivity(t, user, { activityType: 'swimming' });
    const both = await t.http().get('/api/v1/activities?activityType=running,cycling&includeTotals=true').set(user.auth).expect(200);
    expect(both.body.totals.count).toBe(2);
    const sources = await t.http().get('/api/v1/activities?source=garmin,manual').set(user.auth).expect(200);
    expect(sources.body.items.map((item: { activityType: string }) => item.activityType).sort()).toEqual(['cycling', 'swimming']);
  });
});

describe('query parameters: typed, and one rule for unknown ones', () => {
  it('REST booleans and numbers are read from their spelling; anything else is a 400', async () => {
    const user = await signUp(t);
    await createActivity(t, user);
    const ok = await t.http().get('/api/v1/activities?includeTotals=true&topLevelOnly=false&limit=1').set(user.auth).expect(200);
    expect(ok.body.totals.count).toBe(1);
    const off = await t.http().get('/api/v1/activities?includeTotals=false').set(user.auth).expect(200);
    expect(off.body.totals).toBeUndefined();
    for (const query of ['includeTotals=yes', 'includeTotals=1', 'limit=x', 'limit=', 'limit=1.5e', 'topLevelOnly=TRUE']) {
      const response = await t.http().get(`/api/v1/activities?${query}`).set(user.auth);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('BAD_REQUEST');
    }
  });

  it('a value out of range is a 422 — for limit=500 as for a 501-character name', async () => {
    const user = await signUp(t);
    const limit = await t.http().get('/api/v1/activities?limit=500').set(user.auth);
    expect(limit.status).toBe(422);
    const name = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(user.athleteId, { name: 'x'.repeat(501) }));
    expect(name.status).toBe(422);
    const maxPoints = await t.http().get(`/api/v1/activities/${(await createActivity(t, user)).id}/streams/power?maxPoints=1`).set(user.auth);
    expect(maxPoints.status).toBe(422);
  });

  it.each([
    '/api/v1/athletes?nope=1',
    '/api/v1/activities?nope=1',
    '/api/v1/activity-types?nope=1',
    '/api/v1/activity-types/running?nope=1',
  ])('an unknown query parameter is a 400 everywhere: %s', async (url) => {
    const user = await signUp(t);
    const response = await t.http().get(url).set(user.auth);
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([{ path: ['nope'], message: 'Unknown field' }]);
  });

  it('unknown query parameters on id routes and on the stream upload are a 400 too', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user);
    expect((await t.http().get(`/api/v1/athletes/${user.athleteId}?nope=1`).set(user.auth)).status).toBe(400);
    expect((await t.http().get(`/api/v1/activities/${created.id}?nope=1`).set(user.auth)).status).toBe(400);
    expect((await t.http().get(`/api/v1/activities/${created.id}/streams?nope=1`).set(user.auth)).status).toBe(400);
    const upload = await t
      .http()
      .put(`/api/v1/activities/${created.id}/streams/heart_rate?nope=1`)
      .set(user.auth)
      .send({ timestamps: ['2026-05-01T06:00:01Z'], values: [120] });
    expect(upload.status).toBe(400);
    expect(upload.body.issues).toEqual([{ path: ['nope'], message: 'Unknown field' }]);
  });

  it('a JSON body that is not an object is a 400 on every route, with nothing queued or written (oRPC dropped it beside path parameters)', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user);
    const before = await t.database.db.select().from(activities).where(eq(activities.id, created.id));
    for (const body of ['[1]', '"text"', 'null', '5', '[]']) {
      for (const [method, url] of [
        ['post', `/api/v1/athletes/${user.athleteId}/exports`],
        ['post', `/api/v1/athletes/${user.athleteId}/reprocess`],
        ['patch', `/api/v1/activities/${created.id}`],
        ['post', '/api/v1/athletes'],
      ] as const) {
        const response = await t.http()[method](url).set(user.auth).set('content-type', 'application/json').send(body);
        expect({ body, url, status: response.status, answer: response.body }).toEqual({ body, url, status: 400, answer: { code: 'BAD_REQUEST', message: 'The request body must be a JSON object' } });
      }
    }
    expect(await t.database.db.select().from(activities).where(eq(activities.id, created.id))).toEqual(before);
    expect(await t.database.db.select().from(athletes).where(eq(athletes.userId, user.userId))).toHaveLength(1);
    expect(await t.database.db.select().from(exportJobs).where(eq(exportJobs.userId, user.userId))).toEqual([]);
    expect(await t.database.db.select().from(reprocessJobs).where(eq(reprocessJobs.userId, user.userId))).toEqual([]);
  });

  it('RPC clients pass real booleans and numbers (typed as such)', async () => {
    const user = await signUp(t);
    await createActivity(t, user);
    const client = createORPCClient<ApiClient>(new RPCLink({ url: rpcUrl, headers: user.auth }));
    const page = await client.activities.list({ includeTotals: true, topLevelOnly: true, limit: 1 });
    expect(page.totals?.count).toBe(1);
    const athletesPage = await client.athletes.list();
    expect(athletesPage.items).toHaveLength(1);
    // @ts-expect-error limit is a number: a string must not compile
    const wrong = await client.activities.list({ limit: 'x' }).catch((e: unknown) => e);
    expect((wrong as ORPCError<string, unknown>).status).toBe(400);
  });
});

describe('sign-up', () => {
  const email = () => `${Math.random().toString(36).slice(2)}@example.test`;

  it('a 100,000-character name → 422, no user (was copied into the athlete, whose limit is 200)', async () => {
    const address = email();
    const response = await t.http().post('/api/auth/sign-up/email').send({ name: 'x'.repeat(100_000), email: address, password: 'correct horse battery' });
    expect(response.status).toBe(422);
    expect(response.body).toEqual({ code: 'UNPROCESSABLE_CONTENT', message: expect.any(String), issues: [{ path: ['name'], message: expect.any(String) }] });
    const signIn = await t.http().post('/api/auth/sign-in/email').send({ email: address, password: 'correct horse battery' });
    expect(signIn.status).toBe(401);
  });

  it('a name of 200 characters is accepted and becomes the athlete displayName', async () => {
    const user = await signUp(t, 'n'.repeat(200));
    const [athlete] = await t.database.db.select().from(athletes).where(eq(athletes.id, user.athleteId));
    expect(athlete!.displayName).toBe('n'.repeat(200));
  });

  it('NUL in the name → 400 (was a 500)', async () => {
    const response = await t.http().post('/api/auth/sign-up/email').send({ name: 'A\u0000', email: email(), password: 'correct horse battery' });
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([{ path: ['name'], message: expect.any(String) }]);
  });

  it('better-auth validation errors answer 400 with issues', async () => {
    const response = await t.http().post('/api/auth/sign-up/email').send({ name: 'Ada', email: 'not-an-email', password: 'correct horse battery' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 'BAD_REQUEST', message: expect.any(String), issues: [expect.objectContaining({ path: ['email'] })] });
    const missing = await t.http().post('/api/auth/sign-up/email').send({ email: email() });
    expect(missing.status).toBe(400);
    expect(missing.body.issues.length).toBeGreaterThan(0);
  });

  it('a duplicate email answers 409 CONFLICT', async () => {
    const user = await signUp(t);
    const response = await t.http().post('/api/auth/sign-up/email').send({ name: 'Again', email: user.email, password: 'correct horse battery' });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'CONFLICT', issues: [{ path: ['email'], message: expect.any(String) }] });
  });
});
