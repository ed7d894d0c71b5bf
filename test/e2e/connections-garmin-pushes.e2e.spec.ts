/**
 * The Garmin side of provider connections against the fake Garmin over real HTTP, on the real
 * database: after connect the history is requested in windows of at most 90 days, the fake pushes
 * the windows' activities, details and files to the app's push endpoints, and they arrive through
 * the sync ingest and import paths; replays, unknown users, forged pushes, deregistrations and
 * permission changes.
 */
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, inArray } from 'drizzle-orm';
import { activities, activityStreams, providerConnections } from '../../src/database/schema/index.js';
import { RawArchive } from '../../src/modules/sync/raw-archive.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { activityItem, startFakeGarmin, type FakeGarmin } from '../fakes/garmin/index.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const PUBLIC_URL = 'http://api.example.test';
const ACTIVITIES = 8;
const DAY_S = 86_400;

let garmin: FakeGarmin;
let t: TestApp;
let appUrl: string;
let days: number;
let user: SignedUpUser;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const garminUser = () => garmin.state.loggedInUserId;
const history = () => garmin.state.activities.get(garminUser())!;
const connectionRow = async () => (await t.database.db.select().from(providerConnections).where(eq(providerConnections.athleteId, user.athleteId)))[0]!;
const garminActivities = () =>
  t.database.db
    .select()
    .from(activities)
    .where(and(eq(activities.athleteId, user.athleteId), eq(activities.source, 'garmin')));

/** POSTs a push as Garmin does, with the given consumer key header. */
const push = (summaryType: string, body: unknown, clientId: string | null = garmin.clientId) =>
  fetch(`${appUrl}/api/v1/webhooks/garmin/${summaryType}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(clientId === null ? {} : { 'garmin-client-id': clientId }) },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  garmin = await startFakeGarmin({
    // A Garmin user of this file alone: the test database is shared, and one Garmin account connects to one athlete.
    users: [randomBytes(16).toString('hex')],
    activities: ACTIVITIES,
    streamStepS: 30,
    pushUrl: `${appUrl}/api/v1/webhooks/garmin`,
    backfillPushes: ['activities', 'activityDetails', 'activityFiles'],
    pushBatchSize: 3,
  });
  const oldest = Math.min(...history().map((a) => a.summary.startTimeInSeconds as number));
  // At least the fake's history, and more than two windows' worth, so several are requested.
  days = Math.max(Math.ceil((Date.now() / 1000 - oldest) / DAY_S) + 2, 200);
  t = await createTestApp({
    PUBLIC_URL,
    GARMIN_CLIENT_ID: garmin.clientId,
    GARMIN_CLIENT_SECRET: garmin.clientSecret,
    GARMIN_OAUTH_URL: garmin.authorizeUrl,
    GARMIN_TOKEN_URL: garmin.tokenUrl,
    GARMIN_API_URL: garmin.apiUrl,
    GARMIN_BACKFILL_DAYS: String(days),
    IMPORT_WORKERS: '1',
  });
  await t.app.listen(port, '127.0.0.1');
  user = await signUp(t);
}, 60_000);

afterAll(async () => {
  await garmin?.close();
  await t?.close();
});

describe('Garmin: backfill windows, pushes, deregistration', () => {
  it('connect → the history requested in ≤ 90-day windows → pushed activities, details and files arrive with their streams', async () => {
    expect(days).toBeGreaterThan(90);
    const started = await t.http().post(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).send({}).expect(200);
    const approved = await fetch(started.body.authorizeUrl, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    await t.http().get(back.pathname + back.search).expect(200);

    const listed = await until(
      'the backfill requests',
      async () => (await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200)).body.items[0],
      (item) => item.backfill.status === 'done',
    );
    expect(listed).toMatchObject({ provider: 'garmin', status: 'active', backfill: { status: 'done', pending: 0, lastError: null } });
    await garmin.idle();

    // Windows: each at most 90 days, newest first, contiguous, together covering GARMIN_BACKFILL_DAYS up to the connect time.
    const windows = garmin.state.backfills.filter((b) => b.userId === garminUser());
    expect(windows.length).toBe(Math.ceil(days / 90));
    for (const w of windows) expect(w.end - w.start).toBeLessThanOrEqual(90 * DAY_S);
    for (let i = 1; i < windows.length; i++) expect(windows[i]!.end).toBe(windows[i - 1]!.start);
    const connectedAt = Math.floor(new Date(listed.connectedAt).getTime() / 1000);
    expect(windows[0]!.end).toBe(connectedAt);
    expect(windows.at(-1)!.start).toBe(connectedAt - days * DAY_S);
    for (const a of history()) {
      const start = a.summary.startTimeInSeconds as number;
      expect(windows.some((w) => w.start <= start && start < w.end)).toBe(true);
    }

    // Every push was answered 200, and every activity of the fake is here with its streams.
    expect(garmin.state.pushes.length).toBeGreaterThan(0);
    expect(garmin.state.pushes.filter((p) => p.status !== 200)).toEqual([]);
    const stored = await garminActivities();
    expect(stored.map((a) => a.externalId).sort()).toEqual(history().map((a) => a.summaryId).sort());
    for (const a of history()) {
      const row = stored.find((s) => s.externalId === a.summaryId)!;
      expect(row.startTime.getTime()).toBe((a.summary.startTimeInSeconds as number) * 1000);
      expect(row.distanceM).toBeCloseTo(a.summary.distanceInMeters as number, 3);
      expect(row.sourceArchiveKey).toMatch(new RegExp(`^raw/athlete_id=${user.athleteId}/source=garmin/`));
    }
    const streams = await t.database.db.select().from(activityStreams).where(inArray(activityStreams.activityId, stored.map((s) => s.id)));
    for (const row of stored) {
      const types = streams.filter((s) => s.activityId === row.id).map((s) => s.streamType);
      expect(types).toEqual(expect.arrayContaining(['distance', 'speed']));
    }
    const detail = await t.http().get(`/api/v1/activities/${stored[0]!.id}/streams/distance`).set(user.auth).expect(200);
    expect(detail.body).toBeTruthy();

    // The files: each downloaded once from its callback URL and imported as an uploaded FIT.
    expect(garmin.state.downloads.sort()).toEqual(history().map((a) => a.activityId).sort());
    const files = await t.database.db
      .select()
      .from(activities)
      .where(and(eq(activities.athleteId, user.athleteId), eq(activities.source, 'file')));
    expect(files).toHaveLength(ACTIVITIES);

    const row = await connectionRow();
    expect(row.backfillFetched).toBe(ACTIVITIES);
    expect(row.lastEventAt).not.toBeNull();
  }, 120_000);

  it('a replayed push is a no-op: the same body again is answered replayed and nothing changes', async () => {
    const newest = history()[0]!;
    const body = { activities: [{ ...activityItem(newest), activityName: 'Renamed in Garmin Connect' }] };
    const first = await push('activities', body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ items: 1, handled: 1, dropped: 0, replayed: false });
    const [afterFirst] = (await garminActivities()).filter((a) => a.externalId === newest.summaryId);
    expect(afterFirst!.name).toBe('Renamed in Garmin Connect');

    // A later change, then the first body replayed: the replay must not undo it.
    await push('activities', { activities: [{ ...activityItem(newest), activityName: 'Renamed again' }] }).then((r) => expect(r.status).toBe(200));
    const replay = await push('activities', body);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ items: 1, handled: 0, dropped: 0, replayed: true });
    const [afterReplay] = (await garminActivities()).filter((a) => a.externalId === newest.summaryId);
    expect(afterReplay!.name).toBe('Renamed again');
  });

  it('items of a Garmin user connected to no athlete are acknowledged and dropped; nothing is written', async () => {
    const before = (await garminActivities()).length;
    const stranger = { ...activityItem(history()[1]!), userId: 'not-connected-here', summaryId: 'stranger-1' };
    const answer = await push('activities', { activities: [stranger] });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ items: 1, handled: 0, dropped: 1, replayed: false });
    const found = await t.database.db.select().from(activities).where(eq(activities.externalId, 'stranger-1'));
    expect(found).toEqual([]);
    expect((await garminActivities()).length).toBe(before);

    // A body with items of two users: this athlete's are handled and archived alone, the stranger's dropped.
    const own = { ...activityItem(history()[1]!), activityName: 'Shared body' };
    const mixed = await push('activities', { activities: [stranger, own] });
    expect(await mixed.json()).toEqual({ items: 2, handled: 1, dropped: 1, replayed: false });
    const [row] = (await garminActivities()).filter((a) => a.externalId === own.summaryId);
    expect(row!.name).toBe('Shared body');
    const archived = JSON.parse(new TextDecoder().decode(await t.app.get(RawArchive).get(row!.sourceArchiveKey!)));
    expect(archived).toEqual({ activities: [own] });
    expect(await t.database.db.select().from(activities).where(eq(activities.externalId, 'stranger-1'))).toEqual([]);
  });

  it('refuses a push without the consumer key or with another one (401), a body of another summary type (400), a file URL off Garmin (422)', async () => {
    const item = { ...activityItem(history()[2]!), summaryId: 'forged-1' };
    for (const clientId of [null, 'someone-else', `${garmin.clientId}x`]) {
      const answer = await push('activities', { activities: [item] }, clientId);
      expect(answer.status).toBe(401);
      expect(((await answer.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    }
    const wrongKey = await push('activities', { activityDetails: [item] });
    expect(wrongKey.status).toBe(400);
    const offGarmin = await push('activityFiles', {
      activityFiles: [{ userId: garminUser(), summaryId: 'evil-file', fileType: 'FIT', callbackURL: 'http://127.0.0.1:9/steal-the-token', activityId: 1 }],
    });
    expect(offGarmin.status).toBe(422);
    expect(JSON.stringify(await offGarmin.json())).toContain('callbackURL');
    expect(await t.database.db.select().from(activities).where(inArray(activities.externalId, ['forged-1', 'evil-file']))).toEqual([]);
  });

  it('a userPermissionsChange push updates the scopes; a deregistrations push revokes the connection and forgets its tokens', async () => {
    const changed = await garmin.changePermissions(['HEALTH_EXPORT']);
    expect(changed.status).toBe(200);
    expect((await connectionRow()).scopes).toEqual(['HEALTH_EXPORT']);

    const deregistered = await garmin.deregister();
    expect(deregistered.status).toBe(200);
    const row = await connectionRow();
    expect(row).toMatchObject({ status: 'revoked', tokensCiphertext: null, tokensKeyId: null });
    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body.items[0].status).toBe('revoked');
    // The data stays.
    expect((await garminActivities()).length).toBe(ACTIVITIES);

    // Pushes for a revoked connection are dropped.
    const late = await push('activities', { activities: [{ ...activityItem(history()[0]!), activityName: 'After deregistration' }] });
    expect(await late.json()).toMatchObject({ handled: 0, dropped: 1 });
  });
});
