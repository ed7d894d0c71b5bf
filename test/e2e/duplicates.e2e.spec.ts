import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq, sql } from 'drizzle-orm';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { activities, activityDuplicateBackfills } from '../../src/database/schema/index.js';
import { DUPLICATE_DETECTION_VERSION, DuplicateBackfill, groupDuplicatesOfAthlete } from '../../src/modules/activities/duplicates/duplicate-backfill.js';
import { DuplicateGroups } from '../../src/modules/activities/duplicates/duplicate-groups.js';
import { garminCopyOfHealthKitWorkout, healthKitWorkout } from '../../bench/sync-bodies.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { upload, utf8 } from '../factories/imports.js';
import { createTestApp, type TestApp } from '../setup/app.js';

/**
 * Duplicates across sources (issue 25; docs/data-model.md, "Duplicates across sources"): the same
 * workout as a FIT file, its GPX export and a HealthKit copy is one item of the timeline, counted
 * once; the source priority elects the primary; overrides stick across a replayed batch; copies
 * written concurrently end in one group each.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ IMPORT_WORKERS: '1' });
});
afterAll(() => t.close());

const START = new Date('2025-03-02T07:00:00.000Z');
const fixture = fitActivityFixture({
  sport: 'running',
  startTime: START,
  seconds: 1200,
  laps: 2,
  channels: { heartRate: true, position: true, altitude: true, speed: true, distance: true },
});
const session = fixture.sessions[0]!;

/** The FIT's track as a GPX file: what "export as GPX" in a watch's app writes. */
function gpxExport(): string {
  const points = session.records
    .filter((r) => r.latitudeDeg !== undefined)
    .map(
      (r) =>
        `<trkpt lat="${r.latitudeDeg}" lon="${r.longitudeDeg}"><ele>${r.altitudeM ?? 0}</ele><time>${new Date(r.timestampMs).toISOString()}</time>` +
        (r.heartRateBpm === undefined ? '' : `<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>${r.heartRateBpm}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>`) +
        '</trkpt>',
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="export" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<trk><name>Morning Run</name><type>running</type><trkseg>
${points}
</trkseg></trk></gpx>`;
}

interface Item {
  id: string;
  source: string;
  duplicateOf: string | null;
  duplicateCount: number;
  distanceM: number | null;
  durationS: number | null;
  fieldSources: Record<string, string>;
}

const list = async (user: SignedUpUser, query = '') => {
  const response = await t.http().get(`/api/v1/activities?athleteId=${user.athleteId}${query}`).set(user.auth);
  expect(response.status).toBe(200);
  return response.body as { items: Item[]; nextCursor: string | null; totals?: { count: number; distanceM: number; durationS: number } };
};
const detail = async (user: SignedUpUser, id: string) => {
  const response = await t.http().get(`/api/v1/activities/${id}`).set(user.auth);
  expect(response.status).toBe(200);
  return response.body;
};

/** A HealthKit workout of the same run, as the mobile app serializes it. */
function healthKitCopy(fit: { startTime: string; endTime: string; distanceM: number | null; avgHeartRateBpm: number | null }, name = 'Morning Run') {
  const durationS = (Date.parse(fit.endTime) - Date.parse(fit.startTime)) / 1000;
  return {
    uuid: 'D1D2D3D4-0000-4000-8000-00000000A025',
    workoutActivityType: 37,
    startDate: new Date(Date.parse(fit.startTime) + 20_000).toISOString(),
    endDate: fit.endTime,
    duration: durationS - 20,
    totalDistance: { value: Math.round((fit.distanceM ?? 0) * 0.99), unit: 'm' },
    statistics: [
      { quantityType: 'HKQuantityTypeIdentifierHeartRate', average: { value: Math.round(fit.avgHeartRateBpm ?? 140) + 2, unit: 'count/min' } },
      { quantityType: 'HKQuantityTypeIdentifierRunningPower', average: { value: 262, unit: 'W' }, maximum: { value: 410, unit: 'W' } },
    ],
    metadata: { HKIndoorWorkout: false, HKWorkoutBrandName: name },
  };
}
const postBatch = (user: SignedUpUser, body: unknown) =>
  t.http().post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`).set(user.auth).set('content-type', 'application/json').send(JSON.stringify(body));

describe('one workout from a FIT file, its GPX export and HealthKit', () => {
  let user: SignedUpUser;
  let fitId: string;
  let gpxId: string;
  let healthKitId: string;

  beforeAll(async () => {
    user = await signUp(t);
  });

  it('the FIT and its GPX export are one item of the list; includeDuplicates shows both; totals count it once', async () => {
    const fit = await upload(t, user, [{ name: 'run.fit', bytes: fixture.bytes }]).expect(200);
    fitId = fit.body.files[0].activityIds[0];
    const gpx = await upload(t, user, [{ name: 'run.gpx', bytes: utf8(gpxExport()) }]).expect(200);
    expect(gpx.body.files[0]).toMatchObject({ status: 'created' });
    gpxId = gpx.body.files[0].activityIds[0];

    const grouped = await list(user, '&includeTotals=true');
    expect(grouped.items.map((item) => item.id)).toEqual([fitId]);
    expect(grouped.items[0]).toMatchObject({ duplicateOf: null, duplicateCount: 1 });
    const fitDetail = await detail(user, fitId);
    expect(grouped.totals).toEqual({ count: 1, distanceM: fitDetail.distanceM, durationS: fitDetail.durationS });

    const all = await list(user, '&includeDuplicates=true&includeTotals=true');
    expect(all.items.map((item) => item.id).sort()).toEqual([fitId, gpxId].sort());
    expect(all.items.find((item) => item.id === gpxId)).toMatchObject({ duplicateOf: fitId, duplicateCount: 0 });
    expect(all.totals?.count).toBe(2);

    const gpxDetail = await detail(user, gpxId);
    expect(gpxDetail).toMatchObject({ duplicateOf: fitId, duplicates: [expect.objectContaining({ id: fitId, source: 'file' })] });
    expect(fitDetail).toMatchObject({ duplicateOf: null, duplicates: [expect.objectContaining({ id: gpxId, source: 'file' })] });
  });

  it('a HealthKit batch copy joins the group; the FIT primary borrows the power it lacks, saying from where', async () => {
    const fit = await detail(user, fitId);
    const batch = await postBatch(user, { activities: [healthKitCopy(fit)] }).expect(200);
    healthKitId = batch.body.results[0].id;
    const all = await list(user, '&includeDuplicates=true');
    expect(all.items).toHaveLength(3);
    expect(all.items.find((item) => item.id === healthKitId)).toMatchObject({ source: 'healthkit', duplicateOf: fitId });
    expect((await list(user)).items).toEqual([expect.objectContaining({ id: fitId, duplicateCount: 2 })]);

    const merged = await detail(user, fitId);
    expect(merged.statistics).toContainEqual({ key: 'avg_power_w', value: 262, unit: 'W' });
    expect(merged.fieldSources['statistics.avg_power_w']).toBe(healthKitId);
    // The primary's own values are never replaced.
    expect(merged.distanceM).toBe(fit.distanceM);
    expect(merged.fieldSources.distanceM).toBeUndefined();
  });

  it('priority with healthkit first flips the primary and answers how many groups changed', async () => {
    const base = `/api/v1/athletes/${user.athleteId}/source-priorities`;
    expect((await t.http().get(base).set(user.auth).expect(200)).body).toEqual({
      default: ['file', 'garmin', 'healthkit', 'health_connect', 'strava', 'manual'],
      byCategory: {},
      reelection: null,
    });
    const put = await t.http().put(base).set(user.auth).send({ default: ['healthkit', 'file'] }).expect(200);
    const done = { state: 'done', changedPrimaries: 1, finishedAt: expect.any(String) };
    expect(put.body).toEqual({ default: ['healthkit', 'file'], byCategory: {}, changedPrimaries: 1, reelection: done });
    expect((await t.http().get(base).set(user.auth).expect(200)).body).toEqual({ default: ['healthkit', 'file'], byCategory: {}, reelection: done });
    expect((await list(user)).items).toEqual([expect.objectContaining({ id: healthKitId, duplicateCount: 2, duplicateOf: null })]);
    // The same priority again changes nothing.
    expect((await t.http().put(base).set(user.auth).send({ default: ['healthkit', 'file'] }).expect(200)).body.changedPrimaries).toBe(0);
    // A bad list is refused, nothing written.
    const bad = await t.http().put(base).set(user.auth).send({ default: ['healthkit', 'healthkit'] }).expect(422);
    expect(bad.body.code).toBeDefined();
    expect((await t.http().get(base).set(user.auth).expect(200)).body.default).toEqual(['healthkit', 'file']);
  });

  it('a split survives a replay of the same batch and a changed one', async () => {
    const split = await t.http().delete(`/api/v1/activities/${healthKitId}/duplicate-of`).set(user.auth).expect(200);
    expect(split.body).toMatchObject({ id: healthKitId, duplicateOf: null, duplicates: [] });
    const after = await list(user);
    expect(after.items.map((item) => item.id).sort()).toEqual([fitId, healthKitId].sort());

    const fit = await detail(user, fitId);
    await postBatch(user, { activities: [healthKitCopy(fit)] }).expect(200);
    const edited = await postBatch(user, { activities: [healthKitCopy(fit, 'Renamed run')] }).expect(200);
    expect(edited.body.results[0]).toMatchObject({ id: healthKitId, outcome: 'updated' });
    expect((await list(user)).items.map((item) => item.id).sort()).toEqual([fitId, healthKitId].sort());
    expect(await detail(user, healthKitId)).toMatchObject({ duplicateOf: null, duplicates: [] });
  });

  it('joining by hand and pinning the primary stick; deleting the primary promotes the next, deleting all but one dissolves', async () => {
    await t.http().post(`/api/v1/activities/${healthKitId}/duplicate-of`).set(user.auth).send({ activityId: fitId }).expect(200);
    expect((await list(user)).items).toEqual([expect.objectContaining({ id: healthKitId, duplicateCount: 2 })]);
    const pinned = await t.http().post(`/api/v1/activities/${gpxId}/primary`).set(user.auth).expect(200);
    expect(pinned.body).toMatchObject({ id: gpxId, duplicateOf: null });
    expect(pinned.body.duplicates).toHaveLength(2);
    // A priority change leaves the pinned primary alone.
    await t.http().put(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(user.auth).send({ default: ['file'] }).expect(200);
    expect((await list(user)).items).toEqual([expect.objectContaining({ id: gpxId, duplicateCount: 2 })]);

    await t.http().delete(`/api/v1/activities/${gpxId}`).set(user.auth).expect(204);
    const promoted = (await list(user)).items;
    expect(promoted).toEqual([expect.objectContaining({ id: fitId, duplicateCount: 1 })]);
    await t.http().delete(`/api/v1/activities/${fitId}`).set(user.auth).expect(204);
    expect((await list(user)).items).toEqual([expect.objectContaining({ id: healthKitId, duplicateCount: 0, duplicateOf: null })]);
  });

  it('overrides answer 4xx on bad input and write nothing', async () => {
    const other = await signUp(t);
    await t.http().post(`/api/v1/activities/${healthKitId}/duplicate-of`).set(other.auth).send({ activityId: healthKitId }).expect(404);
    await t.http().post(`/api/v1/activities/${healthKitId}/duplicate-of`).set(user.auth).send({ activityId: healthKitId }).expect(422);
    await t.http().post(`/api/v1/activities/${healthKitId}/duplicate-of`).set(user.auth).send({ activityId: 'nope' }).expect(400);
    await t.http().post(`/api/v1/activities/${healthKitId}/primary`).set(user.auth).expect(422);
    await t.http().get(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(other.auth).expect(404);
    await t.http().put(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(other.auth).send({ default: ['strava'] }).expect(404);
    expect((await t.http().get(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(user.auth)).body.default).toEqual(['file']);
  });
});

describe('concurrent copies', () => {
  it('20 pairs written at once end in 20 groups', async () => {
    const user = await signUp(t);
    const pair = (day: number) => {
      const start = Date.UTC(2025, 0, 1 + day, 6, 0);
      const base = {
        athleteId: user.athleteId,
        activityType: 'road_cycling',
        startTime: new Date(start).toISOString(),
        endTime: new Date(start + 3600_000).toISOString(),
        distanceM: 30_000,
        durationS: 3600,
      };
      return [
        { ...base, source: 'garmin', externalId: `g${day}` },
        { ...base, source: 'strava', externalId: `s${day}`, activityType: 'cycling', startTime: new Date(start + 30_000).toISOString(), distanceM: 30_200 },
      ];
    };
    const bodies = Array.from({ length: 20 }, (_, day) => pair(day)).flat();
    const responses = await Promise.all(bodies.map((body) => t.http().post('/api/v1/activities').set(user.auth).send(body)));
    expect(responses.map((response) => response.status)).toEqual(bodies.map(() => 201));

    const grouped = await list(user, '&limit=200&includeTotals=true');
    expect(grouped.items).toHaveLength(20);
    expect(grouped.items.every((item) => item.source === 'garmin' && item.duplicateCount === 1)).toBe(true);
    expect(grouped.totals).toMatchObject({ count: 20, distanceM: 600_000 });
    const rows = await t.database.db
      .select({ id: activities.id, duplicateOf: activities.duplicateOf })
      .from(activities)
      .where(and(eq(activities.athleteId, user.athleteId), eq(activities.source, 'strava')));
    expect(rows.every((row) => row.duplicateOf !== null)).toBe(true);
    expect(new Set(rows.map((row) => row.duplicateOf)).size).toBe(20);
  });

  it('sync batches: 20 HealthKit workouts and their Garmin copies sent at once end in 20 groups; a copy that ranks below a stored primary is written once', async () => {
    // A batch of new activities is grouped before it is written (DuplicateGroups.placeFresh): a copy
    // is inserted with its duplicate_of, or demotes the stored copy it outranks, under the lock.
    const user = await signUp(t);
    const path = (source: string) => `/api/v1/athletes/${user.athleteId}/sync/${source}/batches`;
    const send = (source: string, item: object) =>
      t.http().post(path(source)).set(user.auth).set('content-type', 'application/json').send(JSON.stringify({ activities: [item] }));
    const requests = Array.from({ length: 20 }, (_, i) => [send('healthkit', healthKitWorkout(i)), send('garmin', garminCopyOfHealthKitWorkout(i))]).flat();
    const responses = await Promise.all(requests);
    expect(responses.map((response) => response.status)).toEqual(requests.map(() => 200));

    const grouped = await list(user, '&limit=200');
    expect(grouped.items).toHaveLength(20);
    // Garmin outranks HealthKit by default, whichever arrived first.
    expect(grouped.items.every((item) => item.source === 'garmin' && item.duplicateCount === 1)).toBe(true);
    // A HealthKit copy that arrived after its Garmin primary was inserted as a member: one change (its
    // insert); one that arrived first was demoted later: two. Never an insert then an update of its own.
    const rows = await t.database.db
      .select({ id: activities.id, source: activities.source, duplicateOf: activities.duplicateOf })
      .from(activities)
      .where(eq(activities.athleteId, user.athleteId));
    const members = rows.filter((row) => row.source === 'healthkit');
    expect(members.every((row) => row.duplicateOf !== null)).toBe(true);
    expect(new Set(members.map((row) => row.duplicateOf)).size).toBe(20);
    const changesOf = async () => {
      const result = await t.database.db.execute<{ entity_id: string; n: number }>(
        sql`select entity_id, count(*)::int as n from changes where athlete_id = ${user.athleteId} and entity = 'activity' group by entity_id`,
      );
      return new Map((Array.isArray(result) ? result : (result as { rows: { entity_id: string; n: number }[] }).rows).map((row) => [row.entity_id, row.n]));
    };
    const before = await changesOf();
    for (const row of rows.filter((r) => r.source === 'garmin')) expect(before.get(row.id)).toBe(1);
    for (const row of members) expect(before.get(row.id)).toBeLessThanOrEqual(2);

    // Copies that rank below a stored primary (HealthKit after Garmin): each inserted as a member.
    for (let i = 20; i < 25; i++) await send('garmin', garminCopyOfHealthKitWorkout(i)).expect(200);
    const late = await Promise.all(Array.from({ length: 5 }, (_, k) => send('healthkit', healthKitWorkout(20 + k)).expect(200)));
    const after = await changesOf();
    for (const response of late) {
      const id = response.body.results[0].id as string;
      expect((await detail(user, id)).duplicateOf).not.toBeNull();
      expect(after.get(id)).toBe(1);
    }
  });

  it('one sync batch holding a copy of a stored workout and two copies of a new one: two groups, the batch written once', async () => {
    const user = await signUp(t);
    const stored = healthKitWorkout(100);
    await postBatch(user, { activities: [stored] }).expect(200);
    const fresh = healthKitWorkout(101);
    // HealthKit re-uploads (a new uuid for the same workout) and a Garmin copy of the stored one.
    const response = await t
      .http()
      .post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`)
      .set(user.auth)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ activities: [fresh, { ...fresh, uuid: `${fresh.uuid}-again` }, { ...stored, uuid: `${stored.uuid}-again` }] }))
      .expect(200);
    const ids = (response.body.results as { id: string }[]).map((result) => result.id);
    const all = await list(user, '&includeDuplicates=true&limit=50');
    expect(all.items).toHaveLength(4);
    const byId = new Map(all.items.map((item) => [item.id, item]));
    // The two new copies: one group of two, its primary the earlier created (a tie: same source, no streams).
    expect([byId.get(ids[0]!)!.duplicateOf, byId.get(ids[1]!)!.duplicateOf].filter((d) => d === null)).toHaveLength(1);
    // The re-upload of the stored workout joins it: the stored one stays the primary (created first).
    expect(byId.get(ids[2]!)!.duplicateOf).not.toBeNull();
    expect((await list(user)).items.map((item) => item.duplicateCount)).toEqual([1, 1]);
  });

  it('the cursor visits every primary once, and another user sees nothing of the groups', async () => {
    const user = await signUp(t);
    const stranger = await signUp(t);
    const bodies = Array.from({ length: 15 }, (_, i) => {
      const start = Date.UTC(2025, 5, 1, 6, 0) + i * 2 * 3600_000;
      const base = { athleteId: user.athleteId, activityType: 'running', startTime: new Date(start).toISOString(), endTime: new Date(start + 1800_000).toISOString() };
      return i % 3 === 0 ? [base] : [{ ...base, source: 'file' as const }, { ...base, source: 'strava' as const, externalId: `s${i}` }];
    }).flat();
    for (const body of bodies) await t.http().post('/api/v1/activities').set(user.auth).send(body).expect(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(user, `&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(15);
    expect(new Set(seen).size).toBe(15);
    const everything = await list(user, '&limit=200&includeDuplicates=true');
    expect(everything.items).toHaveLength(bodies.length);

    const foreign = await t.http().get(`/api/v1/activities?includeDuplicates=true`).set(stranger.auth).expect(200);
    expect(foreign.body.items).toEqual([]);
    await t.http().get(`/api/v1/activities/${seen[0]}`).set(stranger.auth).expect(404);
    await t.http().delete(`/api/v1/activities/${seen[0]}/duplicate-of`).set(stranger.auth).expect(404);
    await t.http().post(`/api/v1/activities/${seen[0]}/primary`).set(stranger.auth).expect(404);
  });
});

describe('backfill', () => {
  it('groups the duplicates stored before groups existed; a second run changes nothing; a recorded backfill is skipped', async () => {
    const user = await signUp(t);
    // Rows written by SQL, as a database migrated from before issue 25 holds them: no duplicate_of.
    await t.database.db.execute(sql`
      insert into activities (athlete_id, activity_type, source, external_id, start_time, end_time, distance_m)
      values (${user.athleteId}, 'running', 'strava', 's1', '2024-02-01T07:00:00Z', '2024-02-01T08:00:00Z', 10000),
             (${user.athleteId}, 'trail_running', 'garmin', 'g1', '2024-02-01T07:00:30Z', '2024-02-01T08:00:00Z', 10100),
             (${user.athleteId}, 'running', 'strava', 's2', '2024-02-03T07:00:00Z', '2024-02-03T08:00:00Z', 10000)`);
    expect((await list(user)).items).toHaveLength(3);
    // The boot job records the detection version it grouped with, and skips it once recorded.
    await t.app.get(DuplicateBackfill).run();
    expect((await t.database.db.select().from(activityDuplicateBackfills)).map((row) => row.version)).toContain(DUPLICATE_DETECTION_VERSION);
    await t.app.get(DuplicateBackfill).run();
    expect((await list(user)).items).toHaveLength(3);
    // What the job runs per athlete (here for this athlete only: other test files' rows may share the database).
    const groups = t.app.get(DuplicateGroups);
    expect(await groupDuplicatesOfAthlete(t.database.db, user, groups)).toEqual({ activities: 3 });
    const grouped = (await list(user)).items;
    expect(grouped).toHaveLength(2);
    expect(grouped.find((item) => item.source === 'garmin')).toMatchObject({ duplicateCount: 1, duplicateOf: null });

    const rowsOf = () =>
      t.database.db
        .select({ id: activities.id, duplicateOf: activities.duplicateOf })
        .from(activities)
        .where(eq(activities.athleteId, user.athleteId))
        .orderBy(activities.id);
    const before = await rowsOf();
    await groupDuplicatesOfAthlete(t.database.db, user, groups);
    expect(await rowsOf()).toEqual(before);
  });
});

describe('legs, indoor distances, merged totals, richness', () => {
  const at = (day: number, minutes = 0) => Date.UTC(2025, 8, 1 + day, 7, 0) + minutes * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const create = async (user: SignedUpUser, body: Record<string, unknown>) => {
    const response = await t.http().post('/api/v1/activities').set(user.auth).send({ athleteId: user.athleteId, ...body });
    expect(response.status).toBe(201);
    return response.body as { id: string; children: { id: string; activityType: string }[] };
  };

  it('a brick leg and its Strava copy are one group whose primary is the leg: the session counts the workout once', async () => {
    const user = await signUp(t);
    const session = await create(user, {
      source: 'garmin',
      externalId: 'brick',
      activityType: 'multisport',
      startTime: iso(at(0)),
      endTime: iso(at(0, 92)),
      children: [
        { activityType: 'road_cycling', startTime: iso(at(0)), endTime: iso(at(0, 60)), distanceM: 30_000, avgHeartRateBpm: 140 },
        { activityType: 'running', startTime: iso(at(0, 62)), endTime: iso(at(0, 92)), distanceM: 6_000, avgHeartRateBpm: 152 },
      ],
    });
    const [bike, run] = session.children;
    // Strava receives the legs as two activities of their own, after the session (priority strava last: the leg wins anyway).
    const ride = await create(user, { source: 'strava', externalId: 'r', activityType: 'road_cycling', startTime: iso(at(0)), endTime: iso(at(0, 60)), distanceM: 30_150 });
    const stravaRun = await create(user, { source: 'strava', externalId: 'n', activityType: 'running', startTime: iso(at(0, 62)), endTime: iso(at(0, 92)), distanceM: 6_020 });

    const topLevel = await list(user, '&topLevelOnly=true&includeTotals=true');
    expect(topLevel.items.map((item) => item.id)).toEqual([session.id]);
    const everything = await list(user, '&includeDuplicates=true&limit=50');
    const byId = new Map(everything.items.map((item) => [item.id, item]));
    expect(byId.get(ride.id)!.duplicateOf).toBe(bike!.id);
    expect(byId.get(stravaRun.id)!.duplicateOf).toBe(run!.id);
    expect(byId.get(session.id)!.duplicateOf).toBeNull();
    // The session and its own legs are never one group, nor joined by hand.
    await t.http().post(`/api/v1/activities/${bike!.id}/duplicate-of`).set(user.auth).send({ activityId: session.id }).expect(422);
    await t.http().post(`/api/v1/activities/${bike!.id}/duplicate-of`).set(user.auth).send({ activityId: run!.id }).expect(422);
    // Priority with strava first keeps the legs primary (their session counts them).
    await t.http().put(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(user.auth).send({ default: ['strava', 'garmin'], byCategory: {} }).expect(200);
    expect((await detail(user, ride.id)).duplicateOf).toBe(bike!.id);
  });

  it('deleting a session regroups its legs’ copies: two copies of a deleted leg stay one group', async () => {
    const user = await signUp(t);
    const session = await create(user, {
      source: 'garmin',
      externalId: 'brick2',
      activityType: 'multisport',
      startTime: iso(at(6)),
      endTime: iso(at(6, 92)),
      children: [{ activityType: 'running', startTime: iso(at(6, 62)), endTime: iso(at(6, 92)), distanceM: 6_000 }],
    });
    const strava = await create(user, { source: 'strava', externalId: 'n2', activityType: 'running', startTime: iso(at(6, 62)), endTime: iso(at(6, 92)), distanceM: 6_020 });
    const manual = await create(user, { source: 'manual', activityType: 'running', startTime: iso(at(6, 62)), endTime: iso(at(6, 92)), distanceM: 6_000 });
    expect((await detail(user, strava.id)).duplicateOf).toBe(session.children[0]!.id);
    await t.http().delete(`/api/v1/activities/${session.id}`).set(user.auth).expect(204);
    expect((await detail(user, manual.id)).duplicateOf).toBe(strava.id);
    expect((await list(user)).items.map((item) => item.id)).toEqual([strava.id]);
  });

  it('indoor: a trainer ride and its Zwift copy 15 % longer are one group; outdoors 15 % apart stay two', async () => {
    const user = await signUp(t);
    await create(user, { source: 'garmin', externalId: 'g', activityType: 'indoor_cycling', startTime: iso(at(1)), endTime: iso(at(1, 60)), distanceM: 30_000, avgHeartRateBpm: 140 });
    await create(user, { source: 'strava', externalId: 's', activityType: 'virtual_cycling', startTime: iso(at(1, 1)), endTime: iso(at(1, 60)), distanceM: 34_500, avgHeartRateBpm: 141 });
    await create(user, { source: 'garmin', externalId: 'g2', activityType: 'road_cycling', startTime: iso(at(2)), endTime: iso(at(2, 60)), distanceM: 30_000 });
    await create(user, { source: 'strava', externalId: 's2', activityType: 'road_cycling', startTime: iso(at(2)), endTime: iso(at(2, 60)), distanceM: 34_500 });
    const items = (await list(user)).items;
    expect(items).toHaveLength(3);
    expect(items.filter((item) => item.duplicateCount === 1)).toHaveLength(1);
  });

  it('totals count a group once with the primary’s merged figures: a null distance comes from the next member', async () => {
    const user = await signUp(t);
    // The FIT of a swim without distance (primary by priority) and its Strava copy with one.
    const file = await create(user, { source: 'file', activityType: 'open_water_swimming', startTime: iso(at(3)), endTime: iso(at(3, 40)), durationS: 2400 });
    const strava = await create(user, { source: 'strava', externalId: 'sw', activityType: 'open_water_swimming', startTime: iso(at(3)), endTime: iso(at(3, 40)), durationS: 2400, distanceM: 1_900 });
    const run = await create(user, { source: 'manual', activityType: 'running', startTime: iso(at(4)), endTime: iso(at(4, 30)), durationS: 1800, distanceM: 5_000 });
    const { items, totals } = await list(user, '&includeTotals=true');
    // The group's item shows what totals count: the primary's merged figures, saying where the distance came from.
    expect(items.find((item) => item.id === file.id)).toMatchObject({ duplicateCount: 1, distanceM: 1_900, fieldSources: { distanceM: strava.id } });
    expect(items.find((item) => item.id === run.id)).toMatchObject({ duplicateCount: 0, distanceM: 5_000, fieldSources: {} });
    expect(totals).toEqual({ count: 2, distanceM: 6_900, durationS: 4_200 });
    // Every member listed: each as stored, counted with its own figures.
    const all = await list(user, '&includeTotals=true&includeDuplicates=true');
    expect(all.items.find((item) => item.id === file.id)).toMatchObject({ distanceM: null, fieldSources: {} });
    expect(all.totals).toEqual({ count: 3, distanceM: 6_900, durationS: 6_600 });
  });

  it('totals fill a primary’s missing distance from the member its category’s priority prefers, as the detail does', async () => {
    const user = await signUp(t);
    const base = `/api/v1/athletes/${user.athleteId}/source-priorities`;
    // Swims: HealthKit before Strava; everything else: Strava before HealthKit.
    await t.http().put(base).set(user.auth).send({ default: ['file', 'strava', 'healthkit'], byCategory: { swimming: ['file', 'healthkit', 'strava'] } }).expect(200);
    const window = { activityType: 'open_water_swimming', startTime: iso(at(7)), endTime: iso(at(7, 40)), durationS: 2400 };
    const file = await create(user, { source: 'file', ...window });
    await create(user, { source: 'strava', externalId: 'sw', ...window, distanceM: 1_900 });
    const healthKit = await create(user, { source: 'healthkit', externalId: 'hk', ...window, distanceM: 1_950 });
    const { items, totals } = await list(user, '&includeTotals=true');
    expect(items).toEqual([expect.objectContaining({ id: file.id, distanceM: 1_950, fieldSources: { distanceM: healthKit.id } })]);
    expect(totals).toEqual({ count: 1, distanceM: 1_950, durationS: 2_400 });
    const merged = await detail(user, file.id);
    expect(merged).toMatchObject({ distanceM: 1_950, fieldSources: { distanceM: healthKit.id } });
    // Without the swimming list the default decides: Strava's distance, in totals and detail alike.
    await t.http().put(base).set(user.auth).send({ default: ['file', 'strava', 'healthkit'] }).expect(200);
    const byDefault = await list(user, '&includeTotals=true');
    expect(byDefault.totals).toEqual({ count: 1, distanceM: 1_900, durationS: 2_400 });
    expect(byDefault.items[0]!.fieldSources.distanceM).not.toBe(healthKit.id);
    expect((await detail(user, file.id)).distanceM).toBe(1_900);
  });

  it('a stream upload re-elects the primary when it makes a member of the same source richer; deleting it re-elects again', async () => {
    const user = await signUp(t);
    const window = { activityType: 'running', startTime: iso(at(5)), endTime: iso(at(5, 30)), distanceM: 5_000 };
    const first = await create(user, { source: 'file', ...window });
    const second = await create(user, { source: 'file', ...window, distanceM: 5_010 });
    expect((await detail(user, second.id)).duplicateOf).toBe(first.id);
    const timestamps = [at(5, 1), at(5, 2), at(5, 3)];
    await t.http().put(`/api/v1/activities/${second.id}/streams/heart_rate`).set(user.auth).send({ timestamps, values: [120, 125, 130] }).expect(200);
    expect((await detail(user, first.id)).duplicateOf).toBe(second.id);
    expect((await detail(user, second.id)).duplicateOf).toBeNull();
    await t.http().delete(`/api/v1/activities/${second.id}/streams/heart_rate`).set(user.auth).expect(204);
    expect((await detail(user, second.id)).duplicateOf).toBe(first.id);
  });
});

describe('priority change on a large athlete', () => {
  it('re-elects 2,000 groups (set-based, no detection) and answers how many changed', async () => {
    const user = await signUp(t);
    const groups = 2_000;
    // Garmin primaries with a Strava copy each, as grouping left them.
    await t.database.db.execute(sql`
      with primaries as (
        insert into activities (athlete_id, activity_type, source, external_id, start_time, end_time, distance_m)
        select ${user.athleteId}, 'running', 'garmin', 'g' || g, s, s + interval '40 minutes', 8000
          from generate_series(1, ${groups}) g, lateral (select timestamptz '2020-01-01T06:00:00Z' + g * interval '1 day') x(s)
        returning id, external_id, start_time, end_time)
      insert into activities (athlete_id, activity_type, source, external_id, start_time, end_time, distance_m, duplicate_of)
      select ${user.athleteId}, 'running', 'strava', 's' || substr(external_id, 2), start_time, end_time, 8010, id from primaries`);
    const put = (order: string[]) =>
      t.http().put(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(user.auth).send({ default: order, byCategory: {} });
    const flipped = await put(['strava', 'garmin']);
    expect(flipped.status).toBe(200);
    expect(flipped.body.changedPrimaries).toBe(groups);
    const page = await list(user, '&limit=10&includeTotals=true');
    expect(page.items.every((item) => item.source === 'strava' && item.duplicateCount === 1)).toBe(true);
    expect(page.totals).toMatchObject({ count: groups });
    expect((await put(['strava', 'garmin'])).body.changedPrimaries).toBe(0);
    expect((await put(['garmin'])).body.changedPrimaries).toBe(groups);
  });
});

describe('priority change above the inline limit', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await createTestApp({ IMPORT_WORKERS: '1', DUPLICATE_REELECTION_INLINE_MAX: '3' });
  });
  afterAll(() => small.close());

  /** `groups` Garmin primaries with a Strava copy each, as grouping left them. */
  const seedGroups = (athleteId: string, groups: number) =>
    small.database.db.execute(sql`
      with primaries as (
        insert into activities (athlete_id, activity_type, source, external_id, start_time, end_time, distance_m)
        select ${athleteId}, 'running', 'garmin', 'g' || g, s, s + interval '40 minutes', 8000
          from generate_series(1, ${groups}) g, lateral (select timestamptz '2021-01-01T06:00:00Z' + g * interval '1 day') x(s)
        returning id, external_id, start_time, end_time)
      insert into activities (athlete_id, activity_type, source, external_id, start_time, end_time, distance_m, duplicate_of)
      select ${athleteId}, 'running', 'strava', 's' || substr(external_id, 2), start_time, end_time, 8010, id from primaries`);
  const put = (user: SignedUpUser, order: string[]) =>
    small.http().put(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(user.auth).send({ default: order });
  const primaries = async (user: SignedUpUser) =>
    (await small.http().get(`/api/v1/activities?athleteId=${user.athleteId}&limit=200`).set(user.auth).expect(200)).body.items.map((item: Item) => item.source);

  it('at the limit: re-elected in the request, which answers the count', async () => {
    const user = await signUp(small);
    await seedGroups(user.athleteId, 3);
    const response = await put(user, ['strava', 'garmin']).expect(200);
    expect(response.body).toMatchObject({ changedPrimaries: 3, reelection: { state: 'done', changedPrimaries: 3 } });
    expect(await primaries(user)).toEqual(['strava', 'strava', 'strava']);
  });

  it('above it: a job re-elects; the answer says so and GET follows it to the count', async () => {
    const user = await signUp(small);
    await seedGroups(user.athleteId, 5);
    const response = await put(user, ['strava', 'garmin']).expect(200);
    expect(response.body).toEqual({ default: ['strava', 'garmin'], byCategory: {}, changedPrimaries: null, reelection: { state: 'pending', changedPrimaries: null, finishedAt: null } });
    let view: { reelection: { state: string; changedPrimaries: number | null } } | undefined;
    for (let attempt = 0; attempt < 150; attempt++) {
      view = (await small.http().get(`/api/v1/athletes/${user.athleteId}/source-priorities`).set(user.auth).expect(200)).body;
      if (view!.reelection.state === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(view!.reelection).toEqual({ state: 'done', changedPrimaries: 5, finishedAt: expect.any(String) });
    expect(await primaries(user)).toEqual(Array(5).fill('strava'));
    // A job for an athlete with nothing pending does nothing.
    const groups = small.app.get(DuplicateGroups);
    expect(await groups.reelectPending(user.athleteId)).toBeUndefined();
  });
});
