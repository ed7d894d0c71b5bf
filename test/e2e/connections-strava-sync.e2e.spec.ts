/**
 * Strava backfill and webhooks against the fake Strava (test/fakes/strava), over real HTTP and the
 * real database: connect → backfill → every activity and stream as the fake holds them; a restart
 * mid-backfill; a 429; an expired token; webhook events; the push subscription.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { activities, providerApps, providerConnections, providerSyncItems } from '../../src/database/schema/index.js';
import { RateBudget } from '../../src/modules/connections/backfill/rate-budget.js';
import { subscribeStrava } from '../../src/modules/connections/strava/strava-subscription.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { defaultStravaAthlete, startFakeStrava, type FakeStrava, type FakeStravaOptions } from '../fakes/strava/index.js';
import { until as waitUntil } from '../setup/until.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const VERIFY_TOKEN = 'verify-me-0123456789';
const HIGH_LIMITS = { overall: [1_000_000, 10_000_000] as [number, number], read: [1_000_000, 10_000_000] as [number, number] };
let clientIds = 0;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Setup {
  strava: FakeStrava;
  stravaAthleteId: number;
  t: TestApp;
  publicUrl: string;
  dataDir: string;
  env: Record<string, string>;
}

/** A fake Strava (its own client id: the rate budget is per application) and an app listening on PUBLIC_URL. */
async function setup(fake: FakeStravaOptions, env: Record<string, string> = {}): Promise<Setup> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  // Its own client id (the rate budget is per application) and Strava athlete (one account connects to one athlete).
  const athleteId = 900_000_000 + Math.floor(Math.random() * 90_000_000);
  const strava = await startFakeStrava({ clientId: `e2e-${process.pid}-${Date.now()}-${++clientIds}`, athletes: [defaultStravaAthlete(athleteId)], ...fake });
  cleanups.push(() => strava.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'strava-sync-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const appEnv = {
    PUBLIC_URL: publicUrl,
    DATA_DIR: dataDir,
    STRAVA_CLIENT_ID: strava.clientId,
    STRAVA_CLIENT_SECRET: strava.clientSecret,
    STRAVA_OAUTH_URL: strava.oauthUrl,
    STRAVA_API_URL: strava.apiUrl,
    STRAVA_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
  const t = await boot(appEnv, port);
  return { strava, stravaAthleteId: athleteId, t, publicUrl, dataDir, env: appEnv };
}

async function boot(env: Record<string, string>, port: number): Promise<TestApp> {
  const t = await createTestApp(env);
  await t.app.listen(port, '127.0.0.1');
  let closed = false;
  const close = t.close.bind(t);
  t.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  cleanups.push(() => t.close());
  return t;
}

async function connect(s: Setup, user: SignedUpUser): Promise<void> {
  const started = await s.t.http().post(`/api/v1/athletes/${user.athleteId}/connections/strava`).set(user.auth).send({}).expect(200);
  const approved = await fetch(started.body.authorizeUrl, { redirect: 'manual' });
  const back = new URL(approved.headers.get('location')!);
  await s.t.http().get(back.pathname + back.search).expect(200);
}

async function connection(t: TestApp, user: SignedUpUser) {
  const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
  return listed.body.items[0] as { status: string; lastEventAt: string | null; backfill: { status: string; fetched: number; pending: number; nextAttemptAt: string | null; lastError: string | null } };
}

/** Backfills take a while on a loaded machine: two minutes by default, every 100 ms. */
const until = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000, everyMs = 100) => waitUntil(what, probe, timeoutMs, everyMs);

const backfillDone = (t: TestApp, user: SignedUpUser, timeoutMs?: number) =>
  until('the backfill to finish', async () => {
    const c = await connection(t, user);
    return c.backfill.status === 'done' && c.status === 'active' ? c : undefined;
  }, timeoutMs);

async function stored(t: TestApp, athleteId: string) {
  return t.database.db
    .select({ id: activities.id, externalId: activities.externalId, name: activities.name, sourceData: activities.sourceData })
    .from(activities)
    .where(and(eq(activities.athleteId, athleteId), eq(activities.source, 'strava')));
}

const detailRequests = (strava: FakeStrava) => strava.state.count('GET /api/v3/activities/:id');
const listRequests = (strava: FakeStrava) => strava.state.requests.filter((r) => r.endpoint === 'GET /api/v3/athlete/activities');

describe('backfill', () => {
  it('1,000 activities with streams: summaries first, then every activity and stream as the fake holds them, with the fewest requests', async () => {
    const s = await setup({ activities: 1000, limits: HIGH_LIMITS });
    const user = await signUp(s.t);
    await connect(s, user);

    // The timeline fills from the top before the details are in.
    const firstSeen = await until('the first page of summaries', async () => {
      const page = await s.t.http().get(`/api/v1/activities?athleteId=${user.athleteId}&limit=20`).set(user.auth).expect(200);
      return page.body.items.length > 0 ? { items: page.body.items.length, details: detailRequests(s.strava) } : undefined;
    }, 60_000, 20);
    expect(firstSeen.items).toBe(20);
    expect(firstSeen.details).toBeLessThan(1000);
    const summariesAllIn = await until('all 1,000 summaries', async () => {
      const rows = await stored(s.t, user.athleteId);
      return rows.length === 1000 ? { details: detailRequests(s.strava) } : undefined;
    }, 120_000, 50);
    expect(summariesAllIn.details).toBeLessThan(1000);

    const done = await backfillDone(s.t, user, 1_500_000);
    expect(done.backfill).toMatchObject({ status: 'done', fetched: 1000, pending: 0, lastError: null });

    // The fewest requests: 5 full pages and the empty one that ends the list, one detail and one streams request each.
    expect(listRequests(s.strava).map((r) => r.query.before ?? 'newest')).toHaveLength(6);
    expect(new Set(listRequests(s.strava).map((r) => r.query.before ?? 'newest')).size).toBe(6);
    expect(detailRequests(s.strava)).toBe(1000);
    expect(s.strava.state.count('GET /api/v3/activities/:id/streams')).toBe(1000);
    // Newest first: the first page has no `before`; the first detail fetched is of the newest activity.
    expect(listRequests(s.strava)[0]!.query.before).toBeUndefined();

    const rows = await stored(s.t, user.athleteId);
    const held = s.strava.state.activities.get(s.stravaAthleteId)!;
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.externalId))).toEqual(new Set(held.map((a) => String(a.id))));
    // Every stored activity is the detailed one (with its streams), not the summary.
    expect(rows.filter((r) => (r.sourceData as Record<string, unknown>).streams === undefined)).toEqual([]);
    // The streams, sample for sample, for a spread of activities.
    for (const activity of [held[0]!, held[333]!, held[999]!]) {
      const row = rows.find((r) => r.externalId === String(activity.id))!;
      const detail = await s.t.http().get(`/api/v1/activities/${row.id}`).set(user.auth).expect(200);
      expect(detail.body.name).toBe(activity.detail.name);
      const heartrate = activity.streams.heartrate as number[] | undefined;
      if (heartrate) {
        const hr = await s.t.http().get(`/api/v1/activities/${row.id}/streams/heart_rate`).set(user.auth).expect(200);
        expect(hr.body.values).toEqual(heartrate.filter((v) => typeof v === 'number'));
      }
    }
  }, 1_800_000);

  it('a restart mid-backfill resumes: no page asked for twice, no activity stored twice', async () => {
    const s = await setup({ activities: 450, limits: HIGH_LIMITS, latencyMs: 5 });
    const user = await signUp(s.t);
    await connect(s, user);
    await until('the second page and some details', async () => listRequests(s.strava).length >= 2 && detailRequests(s.strava) >= 20, 120_000, 10);
    await s.t.close();
    const before = { pages: listRequests(s.strava).length, details: detailRequests(s.strava) };
    expect(before.pages).toBeLessThan(4);

    const port = Number(new URL(s.publicUrl).port);
    const restarted = await boot(s.env, port);
    const done = await backfillDone(restarted, user, 600_000);
    expect(done.backfill).toMatchObject({ status: 'done', pending: 0 });

    const pages = listRequests(s.strava).map((r) => r.query.before ?? 'newest');
    expect(pages).toHaveLength(3); // 200 + 200 + 50: three pages, the last one short
    expect(new Set(pages).size).toBe(pages.length);
    // A graceful stop finishes the rows in hand: no detail is asked for twice either.
    const detailIds = s.strava.state.requests.filter((r) => r.endpoint === 'GET /api/v3/activities/:id').map((r) => r.path);
    expect(new Set(detailIds).size).toBe(detailIds.length);
    const rows = await stored(restarted, user.athleteId);
    expect(rows).toHaveLength(450);
    expect(new Set(rows.map((r) => r.externalId)).size).toBe(450);
  }, 900_000);

  it('a 429 at request 50 waits for the next window (no retry storm), shows rate_limited with nextAttemptAt, then finishes', async () => {
    const windowMs = 4000;
    const s = await setup({ activities: 60, limits: { ...HIGH_LIMITS, windowMs } }, { PROVIDER_RATE_WINDOW_MS: String(windowMs) });
    s.strava.injectFault({ status: 429, atRequest: 50 });
    const user = await signUp(s.t);
    await connect(s, user);
    const limited = await until('rate_limited', async () => {
      const c = await connection(s.t, user);
      return c.status === 'rate_limited' ? c : undefined;
    }, 120_000, 20);
    expect(limited.backfill.status).toBe('rate_limited');
    expect(Date.parse(limited.backfill.nextAttemptAt!)).toBeGreaterThan(Date.now() - 1000);

    const done = await backfillDone(s.t, user, 120_000);
    expect(done.backfill).toMatchObject({ status: 'done', fetched: 60, pending: 0 });
    const api = s.strava.state.requests.filter((r) => r.endpoint.includes(' /api/v3/'));
    const refused = api.filter((r) => r.status === 429);
    expect(refused).toHaveLength(1);
    const refusedAt = refused[0]!.at;
    const nextWindow = (Math.floor(refusedAt / windowMs) + 1) * windowMs;
    // Requests sent after the 429 was answered (the backfill's workers run side by side: one already
    // in flight when the 429 came arrived before it and may be answered after it, which is no retry).
    const after = api.filter((r) => r.arrivedAt > refusedAt);
    expect(after.length).toBeGreaterThan(0);
    // Nothing was asked until the next window; then the work went on.
    expect(Math.min(...after.map((r) => r.arrivedAt))).toBeGreaterThanOrEqual(nextWindow);
    expect(await stored(s.t, user.athleteId)).toHaveLength(60);
  }, 300_000);

  it('plans under the limits the provider reports: never a 429 when the window is smaller than the work', async () => {
    const windowMs = 2500;
    const s = await setup({ activities: 30, limits: { overall: [40, 100_000], read: [25, 100_000], windowMs } }, { PROVIDER_RATE_WINDOW_MS: String(windowMs) });
    const user = await signUp(s.t);
    await connect(s, user);
    const done = await backfillDone(s.t, user, 120_000);
    expect(done.backfill).toMatchObject({ fetched: 30, pending: 0 });
    const api = s.strava.state.requests.filter((r) => r.endpoint.includes(' /api/v3/'));
    expect(api.filter((r) => r.status === 429)).toEqual([]);
    expect(api).toHaveLength(1 + 60); // one short page, then a detail and streams request each
    const perWindow = new Map<number, number>();
    for (const r of api) perWindow.set(Math.floor(r.at / windowMs), (perWindow.get(Math.floor(r.at / windowMs)) ?? 0) + 1);
    // The first answer reports the read limit of 25; backfill leaves a reserve for webhook events.
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(25);
  }, 300_000);

  it('an access token expired mid-backfill is refreshed once, and the backfill finishes', async () => {
    const s = await setup({ activities: 40, limits: HIGH_LIMITS, latencyMs: 5 });
    const user = await signUp(s.t);
    await connect(s, user);
    await until('some details', async () => detailRequests(s.strava) >= 10, 60_000, 5);
    s.strava.expireAccessTokens();
    const done = await backfillDone(s.t, user, 120_000);
    expect(done.backfill).toMatchObject({ fetched: 40, pending: 0 });
    const refreshes = [...s.strava.state.refreshTokens.values()].filter((grant) => grant.usedAt !== undefined);
    expect(refreshes).toHaveLength(1);
    const tokenCalls = s.strava.state.requests.filter((r) => r.endpoint === 'POST /oauth/token');
    expect(tokenCalls.every((r) => r.status === 200)).toBe(true);
    expect(await stored(s.t, user.athleteId)).toHaveLength(40);
  }, 300_000);

  it('a connection without activity:read_all is in error and asks Strava for nothing', async () => {
    const s = await setup({ activities: 5, dropScopes: ['activity:read_all'] });
    const user = await signUp(s.t);
    await connect(s, user);
    const c = await connection(s.t, user);
    expect(c).toMatchObject({ status: 'error', backfill: { status: 'error', lastError: expect.stringContaining('activity:read_all') } });
    expect(s.strava.state.requests.filter((r) => r.endpoint.includes(' /api/v3/'))).toEqual([]);
  });
});

describe('webhooks', () => {
  it('subscription check: the verify token is echoed; a wrong one is 403; subscribing stores the id', async () => {
    const s = await setup({ activities: 0 });
    await s.t.http().get('/api/v1/webhooks/strava').query({ 'hub.mode': 'subscribe', 'hub.challenge': 'abc', 'hub.verify_token': VERIFY_TOKEN }).expect(200, { 'hub.challenge': 'abc' });
    const wrong = await s.t.http().get('/api/v1/webhooks/strava').query({ 'hub.mode': 'subscribe', 'hub.challenge': 'abc', 'hub.verify_token': 'nope' }).expect(403);
    expect(wrong.body).toEqual({ code: 'FORBIDDEN', message: expect.any(String) });

    const result = await subscribeStrava(s.t.env, s.t.app.get(RateBudget));
    expect(result).toEqual({ id: String(s.strava.state.subscription!.id), callbackUrl: `${s.publicUrl}/api/v1/webhooks/strava`, adopted: false });
    const [row] = await s.t.database.db.select().from(providerApps).where(eq(providerApps.clientId, s.strava.clientId));
    expect(row!.subscriptionId).toBe(result.id);
    // Again: the existing subscription is adopted, not duplicated.
    expect(await subscribeStrava(s.t.env, s.t.app.get(RateBudget))).toMatchObject({ id: result.id, adopted: true });
  });

  it('create, update, delete and deauthorize events; replays, unknown owners and other subscriptions change nothing', async () => {
    const s = await setup({ activities: 3, limits: HIGH_LIMITS });
    await subscribeStrava(s.t.env, s.t.app.get(RateBudget));
    const user = await signUp(s.t);
    await connect(s, user);
    await backfillDone(s.t, user);
    expect(await stored(s.t, user.athleteId)).toHaveLength(3);

    // create: answered at once, fetched and ingested ahead of any backfill.
    const created = s.strava.addActivity();
    const answer = await s.strava.deliverWebhook({ object_type: 'activity', object_id: created.id, aspect_type: 'create', owner_id: created.athleteId });
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(2000);
    await until('the new activity', async () => (await stored(s.t, user.athleteId)).find((r) => r.externalId === String(created.id)));
    expect((await connection(s.t, user)).lastEventAt).not.toBeNull();

    // update
    s.strava.updateActivity(created.id, { name: 'Renamed at Strava' });
    const updated = await s.strava.deliverWebhook({ object_type: 'activity', object_id: created.id, aspect_type: 'update', owner_id: created.athleteId, updates: { title: 'Renamed at Strava' } });
    expect(updated).toMatchObject({ status: 200, body: JSON.stringify({ received: true }) });
    await until('the new name', async () => (await stored(s.t, user.athleteId)).find((r) => r.externalId === String(created.id) && r.name === 'Renamed at Strava'));

    // The update's work row goes once its round is over (after the rename is visible, not with it).
    const workRows = () => s.t.database.db.select().from(providerSyncItems).where(eq(providerSyncItems.externalId, String(created.id)));
    await until('the update event done', async () => (await workRows()).length === 0);

    // A replayed body (Strava retries) is a no-op: no new request to Strava, no work row.
    const event = s.strava.state.webhooks.at(-1)!.event;
    const requestsBefore = detailRequests(s.strava);
    await s.t.http().post('/api/v1/webhooks/strava').send(event).expect(200, { received: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(detailRequests(s.strava)).toBe(requestsBefore);
    expect(await workRows()).toEqual([]);

    // Unknown owner and another subscription: acknowledged, dropped.
    await s.t.http().post('/api/v1/webhooks/strava').send({ ...event, owner_id: 999_999_999, event_time: event.event_time + 1 }).expect(200, { received: true });
    await s.t.http().post('/api/v1/webhooks/strava').send({ ...event, subscription_id: 1, event_time: event.event_time + 2, aspect_type: 'delete' }).expect(200, { received: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(detailRequests(s.strava)).toBe(requestsBefore);
    expect((await stored(s.t, user.athleteId)).find((r) => r.externalId === String(created.id))).toBeDefined();

    // A malformed or oversized body: 4xx, nothing queued.
    await s.t.http().post('/api/v1/webhooks/strava').send({ object_type: 'activity' }).expect(400);
    await s.t.http().post('/api/v1/webhooks/strava').set('content-type', 'application/json').send(JSON.stringify({ ...event, pad: 'x'.repeat(20_000) })).expect(413);

    // delete: through the sync delete path.
    s.strava.removeActivity(created.id);
    await s.strava.deliverWebhook({ object_type: 'activity', object_id: created.id, aspect_type: 'delete', owner_id: created.athleteId });
    await until('the deletion', async () => !(await stored(s.t, user.athleteId)).some((r) => r.externalId === String(created.id)));
    expect(await stored(s.t, user.athleteId)).toHaveLength(3);

    // deauthorize: revoked, tokens gone, data kept.
    await s.strava.deliverWebhook({ object_type: 'athlete', object_id: created.athleteId, aspect_type: 'update', owner_id: created.athleteId, updates: { authorized: 'false' } });
    const revoked = await connection(s.t, user);
    expect(revoked.status).toBe('revoked');
    const [row] = await s.t.database.db.select().from(providerConnections).where(eq(providerConnections.athleteId, user.athleteId));
    expect(row!.tokensCiphertext).toBeNull();
    expect(await stored(s.t, user.athleteId)).toHaveLength(3);
  }, 300_000);

  it('DELETE of the connection deauthorizes at Strava', async () => {
    const s = await setup({ activities: 2, limits: HIGH_LIMITS });
    const user = await signUp(s.t);
    await connect(s, user);
    await backfillDone(s.t, user);
    await s.t.http().delete(`/api/v1/athletes/${user.athleteId}/connections/strava`).set(user.auth).expect(204);
    expect(s.strava.state.deauthorized).toEqual([s.stravaAthleteId]);
    expect(await stored(s.t, user.athleteId)).toHaveLength(2);
  });
});
