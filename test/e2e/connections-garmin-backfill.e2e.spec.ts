/**
 * The Garmin backfill's recovery and the push endpoints' limits, against the fake Garmin: a 429 on
 * a window → rate_limited with nextAttemptAt, the next run goes on from the first window not yet
 * requested (none twice), an access token expired meanwhile is refreshed once; pushes over the
 * per-address rate limit → 429; a body over the limit → 413.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { providerConnections } from '../../src/database/schema/index.js';
import { GARMIN_RATE_LIMIT_WAIT_MS, GarminBackfill, NOT_QUEUED } from '../../src/modules/connections/garmin/garmin-backfill.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { startFakeGarmin, type FakeGarmin } from '../fakes/garmin/index.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const DAYS = 400; // 5 windows
const BACKFILL = 'GET /wellness-api/rest/backfill/activities';

let garmin: FakeGarmin;
let t: TestApp;
let user: SignedUpUser;

beforeAll(async () => {
  // A Garmin user of this file alone: the test database is shared, and one Garmin account connects to one athlete.
  garmin = await startFakeGarmin({ activities: 3, users: [randomBytes(16).toString('hex')] });
  t = await createTestApp({
    PUBLIC_URL: 'http://api.example.test',
    GARMIN_CLIENT_ID: garmin.clientId,
    GARMIN_CLIENT_SECRET: garmin.clientSecret,
    GARMIN_OAUTH_URL: garmin.authorizeUrl,
    GARMIN_TOKEN_URL: garmin.tokenUrl,
    GARMIN_API_URL: garmin.apiUrl,
    GARMIN_BACKFILL_DAYS: String(DAYS),
    GARMIN_PUSH_RATE_LIMIT: '5',
  });
  user = await signUp(t);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await garmin?.close();
});

const row = async () => (await t.database.db.select().from(providerConnections).where(eq(providerConnections.athleteId, user.athleteId)))[0]!;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Garmin backfill recovery', () => {
  it('a 429 stops the backfill as rate_limited; the next run requests only the windows left, refreshing an expired token once', async () => {
    garmin.injectFault({ endpoint: BACKFILL, status: 429, atRequest: 3 });
    const started = await t.http().post(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).send({}).expect(200);
    const approved = await fetch(started.body.authorizeUrl, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    const before = Date.now();
    await t.http().get(back.pathname + back.search).expect(200);

    const limited = await until(row, (r) => r.backfillStatus === 'rate_limited');
    expect(limited).toMatchObject({ status: 'rate_limited', backfillPending: 3 });
    expect(limited.backfillNextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before + GARMIN_RATE_LIMIT_WAIT_MS - 1000);
    expect(garmin.state.backfills).toHaveLength(2);
    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body.items[0]).toMatchObject({ status: 'rate_limited', backfill: { status: 'rate_limited', pending: 3 } });

    // The delayed job fires (here: at once), after the access token expired.
    garmin.expireAccessTokens();
    const refreshesBefore = garmin.state.requests.filter((r) => r.endpoint === 'POST /di-oauth2-service/oauth/token').length;
    await t.app.get(GarminBackfill).run(limited.id);
    const done = await row();
    expect(done).toMatchObject({ status: 'active', backfillStatus: 'done', backfillPending: 0, backfillLastError: null });
    expect(garmin.state.requests.filter((r) => r.endpoint === 'POST /di-oauth2-service/oauth/token').length).toBe(refreshesBefore + 1);

    // Five windows, each requested once (the 429 and the 401 are the only repeats), covering DAYS.
    const windows = garmin.state.backfills;
    expect(windows).toHaveLength(Math.ceil(DAYS / 90));
    expect(new Set(windows.map((w) => w.start)).size).toBe(windows.length);
    expect(windows.reduce((sum, w) => sum + (w.end - w.start), 0)).toBe(DAYS * 86_400);
    expect(garmin.state.count(BACKFILL)).toBe(windows.length + 2);
  });

  it('a connection whose user did not grant ACTIVITY_EXPORT stops with the reason; granting it resumes', async () => {
    await t.http().delete(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).expect(204);
    garmin.state.backfills.length = 0;
    garmin.state.permissions.set(garmin.state.loggedInUserId, ['HEALTH_EXPORT']);
    const started = await t.http().post(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).send({}).expect(200);
    const approved = await fetch(started.body.authorizeUrl, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    await t.http().get(back.pathname + back.search).expect(200);
    const stopped = await until(row, (r) => r.backfillStatus === 'error');
    expect(stopped.backfillLastError).toContain('ACTIVITY_EXPORT');
    expect(stopped.status).toBe('active');
    expect(garmin.state.backfills).toHaveLength(0);

    garmin.state.permissions.set(garmin.state.loggedInUserId, ['HEALTH_EXPORT', 'ACTIVITY_EXPORT']);
    const pushed = await t
      .http()
      .post('/api/v1/webhooks/garmin/userPermissionsChange')
      .set('garmin-client-id', garmin.clientId)
      .send({ userPermissionsChange: [{ userId: garmin.state.loggedInUserId, summaryId: 'p-1', permissions: ['HEALTH_EXPORT', 'ACTIVITY_EXPORT'], changeTimeInSeconds: 1 }] })
      .expect(200);
    expect(pushed.body).toMatchObject({ handled: 1, dropped: 0 });
    const resumed = await until(row, (r) => r.backfillStatus === 'done');
    expect(resumed.scopes).toEqual(['HEALTH_EXPORT', 'ACTIVITY_EXPORT']);
    expect(resumed.backfillPending).toBe(0);
  });

  it('a backfill left pending without a job (the queue was down at connect) is queued again at start', async () => {
    const current = await row();
    await t.database.db
      .update(providerConnections)
      .set({ backfillStatus: 'pending', backfillPending: 2, status: 'backfilling', backfillLastError: NOT_QUEUED })
      .where(eq(providerConnections.id, current.id));
    garmin.state.backfills.length = 0;
    const before = garmin.state.count(BACKFILL);
    expect(await t.app.get(GarminBackfill).requeuePending()).toBeGreaterThanOrEqual(1);
    const done = await until(row, (r) => r.backfillStatus === 'done');
    expect(done).toMatchObject({ status: 'active', backfillPending: 0, backfillLastError: null });
    // Only the two oldest windows, the ones left.
    expect(garmin.state.count(BACKFILL) - before).toBe(2);
    const windows = garmin.state.backfills;
    expect(windows.map((w) => w.start)).toEqual([...windows.map((w) => w.start)].sort((a, b) => b - a));
    expect(windows.at(-1)!.start).toBe(Math.floor(done.connectedAt.getTime() / 1000) - DAYS * 86_400);
  });
});

describe('Garmin push endpoint limits', () => {
  it('answers 429 past GARMIN_PUSH_RATE_LIMIT pushes a minute from one address, before reading the body', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await t
        .http()
        .post('/api/v1/webhooks/garmin/deregistrations')
        .set('garmin-client-id', garmin.clientId)
        .send({ deregistrations: [{ userId: `nobody-${i}` }] });
      statuses.push(answer.status);
      if (answer.status === 429) {
        expect(answer.body.code).toBe('TOO_MANY_REQUESTS');
        expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    // At most 5 a minute get through (two minutes, should the window turn during the loop).
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });
});
