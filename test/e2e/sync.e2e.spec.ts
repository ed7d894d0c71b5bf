import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { activities, activityStreams, syncStates } from '../../src/database/schema/index.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { RawArchive } from '../../src/modules/sync/raw-archive.js';
import { asBytes, signUp, type SignedUpUser } from '../factories/api.js';
import {
  garminActivityDetails,
  garminDaily,
  garminEpoch,
  garminMoveIq,
  garminMultisport,
  garminTreadmillRun,
  healthConnectRun,
  healthKitPoolSwim,
  healthKitRun,
  healthKitTriathlon,
  rnHealthConnectDistance,
  rnHealthConnectSession,
  stravaRide,
  stravaStreams,
} from '../fixtures/sync-payloads.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
let store: ObjectStore;

beforeAll(async () => {
  t = await createTestApp();
  store = createObjectStore(t.env);
});
afterAll(async () => {
  await t.close();
});

const batches = (user: SignedUpUser, source: string) => `/api/v1/athletes/${user.athleteId}/sync/${source}/batches`;
const post = (user: SignedUpUser, source: string, body: unknown) =>
  t.http().post(batches(user, source)).set(user.auth).set('content-type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));

async function rowsOf(user: SignedUpUser) {
  return t.database.db.select().from(activities).where(eq(activities.athleteId, user.athleteId));
}

async function streamKeys(user: SignedUpUser): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(`streams/athlete_id=${user.athleteId}/`)) keys.push(object.key);
  return keys;
}

describe('sync states', () => {
  it('start → batches → finish, one state per (athlete, source), counters over its life', async () => {
    const user = await signUp(t);
    const base = `/api/v1/athletes/${user.athleteId}/sync-states`;
    const fresh = await t.http().get(`${base}/healthkit`).set(user.auth).expect(200);
    expect(fresh.body).toMatchObject({ status: 'idle', cursor: null, updatedAt: null, counters: { created: 0 } });

    const started = await t.http().post(`${base}/healthkit/start`).set(user.auth).send({}).expect(200);
    expect(started.body).toMatchObject({ status: 'running', lastError: null });
    // A second device of the same athlete sees the live run and is told when it may take over.
    const second = await t.http().post(`${base}/healthkit/start`).set(user.auth).send({}).expect(409);
    expect(second.body).toMatchObject({ code: 'CONFLICT' });
    expect(typeof second.body.retryAfter).toBe('string');

    await post(user, 'healthkit', { activities: [healthKitRun()], cursor: 'anchor-1' }).expect(200);
    const finished = await t.http().post(`${base}/healthkit/finish`).set(user.auth).send({ cursor: 'anchor-2' }).expect(200);
    expect(finished.body).toMatchObject({ status: 'idle', cursor: 'anchor-2', counters: { created: 1, updated: 0, deleted: 0, batches: 1 } });
    expect(finished.body.lastSyncedAt).not.toBeNull();

    await t.http().post(`${base}/healthkit/start`).set(user.auth).send({}).expect(200);
    const failed = await t.http().post(`${base}/healthkit/finish`).set(user.auth).send({ error: 'HealthKit authorization revoked' }).expect(200);
    expect(failed.body).toMatchObject({ status: 'error', lastError: 'HealthKit authorization revoked', cursor: 'anchor-2' });

    const put = await t.http().put(`${base}/healthkit`).set(user.auth).send({ cursor: null }).expect(200);
    expect(put.body.cursor).toBeNull();
    const list = await t.http().get(base).set(user.auth).expect(200);
    expect(list.body.items.map((s: { source: string }) => s.source)).toEqual(['healthkit']);
  });

  it('lets a start take over a stale running sync', async () => {
    const user = await signUp(t);
    const base = `/api/v1/athletes/${user.athleteId}/sync-states/strava`;
    await t.http().post(`${base}/start`).set(user.auth).send({}).expect(200);
    const hourAgo = new Date(Date.now() - 3600_000);
    await t.database.db
      .update(syncStates)
      .set({ runStartedAt: hourAgo, lastBatchAt: hourAgo })
      .where(and(eq(syncStates.athleteId, user.athleteId), eq(syncStates.source, 'strava')));
    const taken = await t.http().post(`${base}/start`).set(user.auth).send({}).expect(200);
    expect(new Date(taken.body.runStartedAt).getTime()).toBeGreaterThan(hourAgo.getTime());
  });

  it('answers 404 for another user’s athlete and an unknown source as 422 (an enum value: the 400/422 rule)', async () => {
    const [owner, stranger] = [await signUp(t), await signUp(t)];
    await t.http().get(`/api/v1/athletes/${owner.athleteId}/sync-states/healthkit`).set(stranger.auth).expect(404);
    await t.http().get(`/api/v1/athletes/${owner.athleteId}/sync-states/fitbit`).set(owner.auth).expect(422);
  });
});

describe('batch ingest', () => {
  it('maps a HealthKit workout, archives the exact bytes, and answers per index', async () => {
    const user = await signUp(t);
    const body = `{"activities":[${JSON.stringify(healthKitRun())},${JSON.stringify(healthKitPoolSwim())}],   "cursor":"anchor-1"}`;
    const res = await post(user, 'healthkit', body).expect(200);
    expect(res.body).toMatchObject({ created: 2, updated: 0, unchanged: 0, deleted: 0 });
    expect(res.body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['created', 'created']);
    expect(res.body.syncState.cursor).toBe('anchor-1');

    const sha = createHash('sha256').update(body).digest('hex');
    expect(res.body.archiveKey).toBe(`raw/athlete_id=${user.athleteId}/source=healthkit/${sha}.json.br`);
    expect(Buffer.from(await new RawArchive(store).get(res.body.archiveKey)).toString()).toBe(body);

    const run = await t.http().get(`/api/v1/activities/${res.body.results[0].id}`).set(user.auth).expect(200);
    expect(run.body).toMatchObject({
      activityType: 'running',
      sourceActivityType: '37',
      source: 'healthkit',
      externalId: 'C5B0E0E2-8F4B-4C43-9D4A-6E7F3E2B1A01',
      timeZone: 'Europe/Berlin',
      distanceM: 9977.9328,
      avgHeartRateBpm: 152,
      maxHeartRateBpm: 181,
      elevationGainM: 84.5,
      isIndoor: false,
      deviceName: 'Apple Watch',
      name: 'Morning Run',
      revision: 1,
      sourceArchiveKey: res.body.archiveKey,
      sourceArchiveIndex: 0,
    });
    expect(run.body.activeEnergyKcal).toBeCloseTo(600, 0);
    expect(run.body.sourceData.appSpecific).toEqual({ syncedBy: 'ios-app 3.4.1' });
    expect(run.body.streams.map((s: { streamType: string }) => s.streamType).sort()).toEqual(['heart_rate', 'position']);
    const hr = await t.http().get(`/api/v1/activities/${run.body.id}/streams/heart_rate`).set(user.auth).expect(200);
    expect(hr.body.values).toEqual([101, 138, 148]);

    const swim = await t.http().get(`/api/v1/activities/${res.body.results[1].id}`).set(user.auth).expect(200);
    expect(swim.body).toMatchObject({ activityType: 'pool_swimming', sourceActivityType: 'swimming', distanceM: 1508.76 });
    expect(swim.body.statistics).toContainEqual({ key: 'pool_length_m', value: 22.86, unit: 'm' });
  });

  it('replays as unchanged without writing; a changed payload bumps revision and keeps the old body archived', async () => {
    const user = await signUp(t);
    const first = await post(user, 'strava', { activities: [stravaRide()], cursor: '1777700000' }).expect(200);
    const [before] = await rowsOf(user);

    const replay = await post(user, 'strava', { activities: [stravaRide()], cursor: '1777700000' }).expect(200);
    expect(replay.body).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    expect(replay.body.results[0]).toMatchObject({ id: first.body.results[0].id, outcome: 'unchanged', revision: 1 });
    const [afterReplay] = await rowsOf(user);
    expect(afterReplay!.updatedAt).toEqual(before!.updatedAt);

    const renamed = { ...stravaRide(), name: 'Renamed ride' };
    const changed = await post(user, 'strava', { activities: [renamed] }).expect(200);
    expect(changed.body.results[0]).toMatchObject({ outcome: 'updated', revision: 2 });
    const detail = await t.http().get(`/api/v1/activities/${first.body.results[0].id}`).set(user.auth).expect(200);
    expect(detail.body).toMatchObject({ name: 'Renamed ride', revision: 2, sourceArchiveKey: changed.body.archiveKey });
    const old = JSON.parse(Buffer.from(await new RawArchive(store).get(first.body.archiveKey)).toString());
    expect(old.activities[0].name).toBe('Happy Friday');
    expect(await rowsOf(user)).toHaveLength(1);
  });

  it('lets the later of two items with one external id win, and says so for both', async () => {
    const user = await signUp(t);
    const res = await post(user, 'strava', { activities: [stravaRide(1), { ...stravaRide(1), name: 'Second' }] }).expect(200);
    expect(res.body.created).toBe(1);
    expect(res.body.results[0]).toMatchObject({ index: 0, outcome: 'superseded', supersededBy: 1 });
    expect(res.body.results[1]).toMatchObject({ index: 1, outcome: 'created', supersedes: [0] });
    const [row] = await rowsOf(user);
    expect(row!.name).toBe('Second');
  });

  it('deletes by external id, and counts it', async () => {
    const user = await signUp(t);
    const created = await post(user, 'health_connect', { activities: [healthConnectRun('hc-1'), healthConnectRun('hc-2')] }).expect(200);
    expect(await streamKeys(user)).toHaveLength(2);
    const res = await post(user, 'health_connect', { activities: [], deletedExternalIds: ['hc-1', 'never-seen'], cursor: 'token-2' }).expect(200);
    expect(res.body).toMatchObject({ deleted: 1, deletions: [{ externalId: 'hc-1', id: created.body.results[0].id, outcome: 'deleted' }, { externalId: 'never-seen', id: null, outcome: 'not_found' }] });
    expect((await rowsOf(user)).map((r) => r.externalId)).toEqual(['hc-2']);
    // The deleted activity's stream object goes through the deletion outbox, drained in the background.
    for (let waited = 0; (await streamKeys(user)).length > 1 && waited < 15_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await streamKeys(user)).toHaveLength(1);
    expect(res.body.syncState).toMatchObject({ cursor: 'token-2', counters: { created: 2, deleted: 1, batches: 2 } });
  });

  it('stores multisport legs as children: HealthKit workoutActivities and Garmin parentSummaryId', async () => {
    const user = await signUp(t);
    const hk = await post(user, 'healthkit', { activities: [healthKitTriathlon()] }).expect(200);
    const tri = await t.http().get(`/api/v1/activities/${hk.body.results[0].id}`).set(user.auth).expect(200);
    expect(tri.body.activityType).toBe('triathlon');
    expect(tri.body.children.map((c: { activityType: string }) => c.activityType)).toEqual(['open_water_swimming', 'transition', 'cycling', 'running']);

    const garmin = await post(user, 'garmin', { activities: [...garminMultisport(), garminTreadmillRun()] }).expect(200);
    const parent = await t.http().get(`/api/v1/activities/${garmin.body.results[0].id}`).set(user.auth).expect(200);
    expect(parent.body).toMatchObject({ activityType: 'multisport', sourceActivityType: 'MULTI_SPORT', timeZone: 'Etc/GMT-2' });
    expect(parent.body.children.map((c: { id: string }) => c.id)).toEqual([garmin.body.results[1].id]);
    const treadmill = await t.http().get(`/api/v1/activities/${garmin.body.results[2].id}`).set(user.auth).expect(200);
    expect(treadmill.body).toMatchObject({ activityType: 'treadmill_running', isIndoor: true, timeZone: 'Etc/GMT+5' });
  });

  it('refuses malformed items with 422 naming index and field, writing nothing', async () => {
    const user = await signUp(t);
    const { startDate: _missing, ...noStart } = healthKitRun('X-2');
    const badUnit = { ...healthKitRun('X-3'), totalDistance: { value: 5, unit: 'parsecs' } };
    const res = await post(user, 'healthkit', { activities: [healthKitRun('X-1'), noStart, badUnit], cursor: 'moved?' }).expect(422);
    expect(res.body.code).toBe('UNPROCESSABLE_CONTENT');
    expect(res.body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: ['activities', 1, 'startDate'] }),
        expect.objectContaining({ path: ['activities', 2, 'totalDistance', 'unit'] }),
      ]),
    );
    expect(await rowsOf(user)).toHaveLength(0);
    const state = await t.http().get(`/api/v1/athletes/${user.athleteId}/sync-states/healthkit`).set(user.auth).expect(200);
    expect(state.body.cursor).toBeNull();
  });

  it('keeps Strava streams in both answer forms, skipping null entries', async () => {
    const user = await signUp(t);
    const array = { ...stravaRide(11), elapsed_time: 600, streams: stravaStreams(600, 'array') };
    const keyed = { ...stravaRide(12), elapsed_time: 600, streams: stravaStreams(600, 'keyed') };
    const res = await post(user, 'strava', { activities: [array, keyed] }).expect(200);
    for (const result of res.body.results) {
      const detail = await t.http().get(`/api/v1/activities/${result.id}`).set(user.auth).expect(200);
      expect(detail.body.streams.map((s: { streamType: string }) => s.streamType).sort()).toEqual(['altitude', 'heart_rate', 'position', 'power']);
      const power = detail.body.streams.find((s: { streamType: string }) => s.streamType === 'power');
      expect(power.sampleCount).toBe(600 - 7);
    }
  });

  it('refuses more than 500 activities with 413', async () => {
    const user = await signUp(t);
    const activitiesList = Array.from({ length: 501 }, (_, i) => ({ id: i + 1, sport_type: 'Run', start_date: '2026-05-01T06:00:00Z', elapsed_time: 60 }));
    const res = await post(user, 'strava', { activities: activitiesList }).expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await rowsOf(user)).toHaveLength(0);
  });

  it('refuses a body over 32 MiB with 413', async () => {
    const user = await signUp(t);
    const padding = 'x'.repeat(33 * 1024 * 1024);
    const res = await post(user, 'strava', `{"activities":[],"cursor":"${padding}"}`).expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rolls back everything, cursor included, when a write fails inside the transaction; no stream object stays', async () => {
    const user = await signUp(t);
    // A real database failure on the second row of the batch (the trigger is this test's, not the app's).
    await t.database.db.execute(sql.raw(`
      create or replace function h11_fail_on_boom() returns trigger language plpgsql as $$
      begin if new.name = 'boom' then raise exception 'boom'; end if; return new; end $$;
      drop trigger if exists h11_fail_on_boom on activities;
      create trigger h11_fail_on_boom before insert or update on activities for each row execute function h11_fail_on_boom();`));
    try {
      const withStreams = { ...stravaRide(21), elapsed_time: 600, streams: stravaStreams(600) };
      const res = await post(user, 'strava', { activities: [withStreams, { ...stravaRide(22), name: 'boom' }], cursor: 'moved' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(await rowsOf(user)).toHaveLength(0);
      expect(await streamKeys(user)).toEqual([]);
      const state = await t.http().get(`/api/v1/athletes/${user.athleteId}/sync-states/strava`).set(user.auth).expect(200);
      expect(state.body.cursor).toBeNull();
    } finally {
      await t.database.db.execute(sql.raw('drop trigger if exists h11_fail_on_boom on activities; drop function if exists h11_fail_on_boom();'));
    }
  });

  it('gives two identical concurrent batches one activity each, never a 500', async () => {
    const user = await signUp(t);
    const body = { activities: [healthKitRun('C-1'), healthKitRun('C-2', '2026-05-05T06:00:00Z'), healthKitPoolSwim('C-3')], cursor: 'c' };
    const answers = await Promise.all([post(user, 'healthkit', body), post(user, 'healthkit', body), post(user, 'healthkit', body)]);
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    const rows = await rowsOf(user);
    expect(rows.filter((r) => r.parentId === null).map((r) => r.externalId).sort()).toEqual(['C-1', 'C-2', 'C-3']);
    const created = answers.filter((a) => a.status === 200).reduce((n, a) => n + a.body.created, 0);
    expect(created).toBe(3);
    const streamRows = await t.database.db.select().from(activityStreams);
    expect(streamRows.filter((s) => rows.some((r) => r.id === s.activityId))).toHaveLength(4);
  });

  it('completes the streams of an activity whose streams were not stored (pending hash) when the batch is sent again', async () => {
    const user = await signUp(t);
    const body = { activities: [healthKitRun('P-1')] };
    const first = await post(user, 'healthkit', body).expect(200);
    const id = first.body.results[0].id;
    // As after a crash between the commit and the stream writes: no streams, the hash still pending.
    await t.database.db.delete(activityStreams).where(eq(activityStreams.activityId, id));
    const [row] = await rowsOf(user);
    await t.database.db.update(activities).set({ sourceDataHash: `pending:${row!.sourceDataHash}` }).where(eq(activities.id, id));

    const again = await post(user, 'healthkit', body).expect(200);
    expect(again.body.results[0]).toMatchObject({ id, outcome: 'updated', revision: 2 });
    const detail = await t.http().get(`/api/v1/activities/${id}`).set(user.auth).expect(200);
    expect(detail.body.streams).toHaveLength(2);
    const third = await post(user, 'healthkit', body).expect(200);
    expect(third.body.results[0]).toMatchObject({ outcome: 'unchanged', revision: 2 });
  });
});

describe('provider shapes as they arrive', () => {
  const streamsOf = async (user: SignedUpUser, id: string) => {
    const detail = await t.http().get(`/api/v1/activities/${id}`).set(user.auth).expect(200);
    return detail.body as { streams: { streamType: string; sampleCount: number }[]; events: { eventType: string; startTime: string }[] } & Record<string, unknown>;
  };

  it('takes a Garmin activityDetails push body as Garmin sends it: samples → streams, laps → lap events', async () => {
    const user = await signUp(t);
    const res = await post(user, 'garmin', { activityDetails: [garminActivityDetails()] }).expect(200);
    expect(res.body).toMatchObject({ created: 1, ignored: 0 });
    expect(res.body.results).toEqual([
      { field: 'activityDetails', index: 0, externalId: '5001968355', id: expect.any(String), outcome: 'created', revision: 1 },
    ]);
    const ride = await streamsOf(user, res.body.results[0].id);
    expect(ride).toMatchObject({ activityType: 'road_cycling', source: 'garmin', externalId: '5001968355', durationS: 120, timeZone: 'Etc/GMT-2', sourceArchiveIndex: 0 });
    expect(Object.fromEntries(ride.streams.map((s) => [s.streamType, s.sampleCount]))).toEqual({
      altitude: 120,
      cadence: 120,
      distance: 120,
      heart_rate: 120,
      position: 120,
      power: 120,
      speed: 120,
      temperature: 120,
    });
    expect(ride.events.filter((e) => e.eventType === 'lap').map((e) => e.startTime)).toEqual(['2026-05-01T06:00:00.000Z', '2026-05-01T06:01:00.000Z']);
    const power = await t.http().get(`/api/v1/activities/${res.body.results[0].id}/streams/power`).set(user.auth).expect(200);
    expect(power.body.values.slice(0, 3)).toEqual([180, 181, 182]);

    // The summary push of the same activity (its summaryId without -detail) updates it, never a second one.
    const summary = { ...garminActivityDetails().summary, summaryId: '5001968355' };
    const again = await post(user, 'garmin', { activities: [summary] }).expect(200);
    expect(again.body.results[0]).toMatchObject({ id: res.body.results[0].id, outcome: 'updated' });
    expect(await rowsOf(user)).toHaveLength(1);
  });

  it('answers a dailies push 422 NOT_A_WORKOUT and writes nothing (no activity, no archive, no state)', async () => {
    const user = await signUp(t);
    const res = await post(user, 'garmin', { dailies: [garminDaily(), garminDaily('x2')] }).expect(422);
    expect(res.body).toMatchObject({ code: 'NOT_A_WORKOUT' });
    expect(res.body.items).toEqual([
      { field: 'dailies', index: 0, externalId: 'x153a9f3-5a9478d4-6', itemType: 'dailies', reason: 'a daily summary, not a workout' },
      { field: 'dailies', index: 1, externalId: 'x2', itemType: 'dailies', reason: 'a daily summary, not a workout' },
    ]);
    expect(await rowsOf(user)).toHaveLength(0);
    const archived: string[] = [];
    for await (const object of store.list(`raw/athlete_id=${user.athleteId}/`)) archived.push(object.key);
    expect(archived).toEqual([]);
    const state = await t.http().get(`/api/v1/athletes/${user.athleteId}/sync-states/garmin`).set(user.auth).expect(200);
    expect(state.body.counters.batches).toBe(0);
  });

  it('never turns a daily, an epoch or a Move IQ event sent among activities into a workout', async () => {
    const user = await signUp(t);
    const res = await post(user, 'garmin', { activities: [garminDaily(), garminTreadmillRun(), garminEpoch(), garminMoveIq()], cursor: 'w-1' }).expect(200);
    expect(res.body).toMatchObject({ created: 1, ignored: 3, syncState: { cursor: 'w-1' } });
    expect(res.body.results.map((r: { outcome: string; itemType?: string }) => r.itemType ?? r.outcome)).toEqual(['dailies', 'created', 'epochs', 'moveIQActivities']);
    expect((await rowsOf(user)).map((r) => r.activityType)).toEqual(['treadmill_running']);
    // Nothing else in the batch but a cursor: the client's progress is kept, nothing else is written.
    const progress = await post(user, 'garmin', { epochs: [garminEpoch()], cursor: 'w-2' }).expect(200);
    expect(progress.body).toMatchObject({ created: 0, ignored: 1, results: [{ field: 'epochs', index: 0, outcome: 'ignored' }], syncState: { cursor: 'w-2' } });
  });

  it('refuses a Garmin push key for another source', async () => {
    const user = await signUp(t);
    const res = await post(user, 'strava', { activityDetails: [garminActivityDetails()] }).expect(422);
    expect(res.body.issues).toEqual([{ path: ['activityDetails'], message: 'a Garmin push key; strava items go in activities' }]);
  });

  it('takes Health Connect records as react-native-health-connect serialises them: the session stored, a DistanceRecord ignored', async () => {
    const user = await signUp(t);
    const res = await post(user, 'health_connect', { activities: [rnHealthConnectDistance(), rnHealthConnectSession()], cursor: 'hc-token' }).expect(200);
    expect(res.body).toMatchObject({ created: 1, ignored: 1 });
    expect(res.body.results[0]).toEqual({
      field: 'activities',
      index: 0,
      externalId: '7c1d2e3f-0000-4000-8000-00000000d157',
      outcome: 'ignored',
      itemType: 'Distance',
      reason: 'a Distance record, not an exercise session',
    });
    const run = await streamsOf(user, res.body.results[1].id);
    expect(run).toMatchObject({ activityType: 'running', name: 'Evening run', timeZone: 'Etc/GMT-2', deviceName: 'Google Pixel Watch 2', sourceArchiveIndex: 1 });
    expect(run.streams.map((s) => [s.streamType, s.sampleCount])).toEqual([['position', 3]]);
    expect(await rowsOf(user)).toHaveLength(1);
  });

  it('answers the original of a synced activity: the item’s exact bytes, cut from the archived batch, with its archive key', async () => {
    const [owner, stranger] = [await signUp(t), await signUp(t)];
    const items = [JSON.stringify(garminTreadmillRun('orig-1')), `{ "summaryId" : "orig-2",\n  "activityType":"RUNNING", "startTimeInSeconds":1777700000, "durationInSeconds":600.0, "activityName":"Läufchen 🏃" }`];
    const body = `{"dailies":[${JSON.stringify(garminDaily())}],  "activities" : [ ${items[0]} ,${items[1]}]}`;
    const res = await post(owner, 'garmin', body).expect(200);
    expect(res.body.results.map((r: { field: string; index: number }) => `${r.field}[${r.index}]`)).toEqual(['activities[0]', 'activities[1]', 'dailies[0]']);
    for (const [n, expected] of items.entries()) {
      const original = await t.http().get(`/api/v1/activities/${res.body.results[n].id}/original`).set(owner.auth).buffer(true).parse(asBytes).expect(200);
      expect(original.headers['content-type']).toMatch(/^application\/json/);
      expect(original.headers['x-archive-key']).toBe(res.body.archiveKey);
      expect((original.body as Buffer).toString('utf8')).toBe(expected);
    }
    await t.http().get(`/api/v1/activities/${res.body.results[0].id}/original`).set(stranger.auth).expect(404);
  });
});
