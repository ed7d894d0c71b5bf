/**
 * Honest derived values over the API (docs/data-model.md §5, §7, §9): an unknown time zone is
 * null in storage and in answers, events with equal start times come back in one order on every
 * import, a moving time longer than the elapsed one is not stored, a multi-segment GPX's distance
 * is its segments' length, a GPX without usable positions is refused with the reason, and an Apple
 * workout exported with an inline route or a route file is one activity.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { activities } from '../../src/database/schema/index.js';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { upload, utf8, zip } from '../factories/imports.js';
import { appleHealthRoutes, appleRoutePoints, buildAppleHealthExport, ROUTE_PATH } from '../fixtures/imports/apple-health-builder.js';
import { buildGpx, buildTcx, syntheticTrack, type TrackPoint } from '../fixtures/imports/xml-builders.js';
import { garminTreadmillRun, stravaRide } from '../fixtures/sync-payloads.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const START = Date.UTC(2024, 4, 1, 6, 0, 0);

describe('honest derived values', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ IMPORT_WORKERS: '1' });
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (path: string, who: SignedUpUser) => t.http().get(path).set(who.auth);
  const detail = async (id: string, who: SignedUpUser) => {
    const response = await get(`/api/v1/activities/${id}`, who);
    expect(response.status).toBe(200);
    return response.body;
  };
  const storedZone = async (id: string) =>
    (await t.database.db.select({ timeZone: activities.timeZone }).from(activities).where(eq(activities.id, id)))[0]!.timeZone;
  const importOne = async (who: SignedUpUser, name: string, bytes: Uint8Array) => {
    const response = await upload(t, who, [{ name, bytes }]);
    expect(response.status).toBe(200);
    return response.body.files[0];
  };
  const appleZip = (options: { inlineRoute?: boolean } = {}) => {
    const entries: Record<string, Uint8Array> = { 'apple_health_export/export.xml': utf8(buildAppleHealthExport(options)) };
    if (!options.inlineRoute) entries[`apple_health_export/${ROUTE_PATH}`] = appleHealthRoutes().get(ROUTE_PATH)!;
    return zip(entries);
  };

  describe('time zone', () => {
    it('is null in storage and in answers when a file does not tell it, and the zone of the position when it does', async () => {
      const who = await signUp(t);
      // A treadmill run: no position, no zone in TCX.
      const indoor = syntheticTrack(START, 60).map(({ latitude: _lat, longitude: _lon, ...rest }) => rest as TrackPoint);
      const tcx = await importOne(who, 'treadmill.tcx', utf8(buildTcx([{ sport: 'Running', idMs: START, laps: [{ tracks: [indoor], totalTimeSeconds: 59, distanceM: 180, calories: 10 }] }])));
      expect(tcx.status).toBe('created');
      const id = tcx.activityIds[0] as string;
      expect(await storedZone(id)).toBeNull();
      expect((await detail(id, who)).timeZone).toBeNull();
      const list = (await get(`/api/v1/activities?athleteId=${who.athleteId}`, who).expect(200)).body.items;
      expect(list.map((a: { timeZone: string | null }) => a.timeZone)).toEqual([null]);

      const gpx = await importOne(who, 'run.gpx', utf8(buildGpx([{ type: 'running', segments: [syntheticTrack(START + 3_600_000, 30)] }])));
      expect((await detail(gpx.activityIds[0], who)).timeZone).toBe('Europe/Zurich');
    });

    it('of a FIT file whose local-time offset is 0: the position’s zone, else unknown (0 does not prove UTC)', async () => {
      const who = await signUp(t);
      const fit = (position: boolean, startMs: number) =>
        fitActivityFixture({ sport: 'running', startTime: new Date(startMs), seconds: 120, channels: { heartRate: true, position }, timeZoneOffsetS: 0 }).bytes;
      const indoor = await importOne(who, 'indoor.fit', fit(false, START));
      expect(indoor.status).toBe('created');
      expect(await storedZone(indoor.activityIds[0])).toBeNull();
      expect((await detail(indoor.activityIds[0], who)).timeZone).toBeNull();
      const outdoor = await importOne(who, 'outdoor.fit', fit(true, START + 3_600_000));
      expect((await detail(outdoor.activityIds[0], who)).timeZone).toBe('Europe/Zurich');
    });

    it('is null for a provider item whose offset is 0 (it proves no zone), and a fixed zone for a whole-hour offset', async () => {
      const who = await signUp(t);
      const body = { activities: [{ ...garminTreadmillRun('tz-0'), startTimeOffsetInSeconds: 0 }, garminTreadmillRun('tz-5', 1777615200 + 86_400)] };
      const response = await t.http().post(`/api/v1/athletes/${who.athleteId}/sync/garmin/batches`).set(who.auth).send(body).expect(200);
      const [zero, minusFive] = response.body.results.map((r: { id: string }) => r.id);
      expect(await storedZone(zero)).toBeNull();
      expect((await detail(zero, who)).timeZone).toBeNull();
      expect((await detail(minusFive, who)).timeZone).toBe('Etc/GMT+5');
    });

    it('of a manual entry: omitted → the athlete’s zone, null → unknown, and it can be set back to unknown', async () => {
      const who = await signUp(t);
      await t.http().patch(`/api/v1/athletes/${who.athleteId}`).set(who.auth).send({ timeZone: 'Europe/Berlin' }).expect(200);
      const base = { athleteId: who.athleteId, activityType: 'running', startTime: '2024-05-01T06:00:00Z', endTime: '2024-05-01T07:00:00Z' };
      const omitted = (await t.http().post('/api/v1/activities').set(who.auth).send(base).expect(201)).body;
      expect(omitted.timeZone).toBe('Europe/Berlin');
      const unknown = (await t.http().post('/api/v1/activities').set(who.auth).send({ ...base, timeZone: null, children: [{ ...base, athleteId: undefined }] }).expect(201)).body;
      expect(unknown.timeZone).toBeNull();
      expect(unknown.children.map((c: { timeZone: string | null }) => c.timeZone)).toEqual([null]);
      expect(await storedZone(unknown.id)).toBeNull();
      const cleared = (await t.http().patch(`/api/v1/activities/${omitted.id}`).set(who.auth).send({ timeZone: null }).expect(200)).body;
      expect(cleared.timeZone).toBeNull();
      await t.http().post('/api/v1/activities').set(who.auth).send({ ...base, timeZone: 'Mars/Olympus' }).expect(422);
    });
  });

  describe('events with equal start times', () => {
    const shape = (events: { eventType: string; startTime: string; endTime: string | null; metadata: unknown }[]) =>
      events.map((e) => [e.eventType, e.startTime, e.endTime, JSON.stringify(e.metadata)]);

    it('come back in the order the file lists them, the same on every import of the file', async () => {
      // The run's events: a segment and a lap at its start (written segment, pause, resume, lap).
      const bytes = appleZip();
      const orders: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const who = await signUp(t);
        const file = await importOne(who, 'export.zip', bytes);
        const run = await detail(file.activityIds[0], who);
        orders.push(shape(run.events));
        if (i === 0) {
          // Deleted and imported again by the same athlete: the same order again.
          await t.http().delete(`/api/v1/activities/${run.id}`).set(who.auth).expect(204);
          const again = await importOne(who, 'export.zip', bytes);
          orders.push(shape((await detail(again.activityIds[0], who)).events));
        }
      }
      const start = new Date(START).toISOString();
      expect((orders[0] as string[][]).map(([type, at]) => [type, at])).toEqual([
        ['segment', start],
        ['lap', start],
        ['pause', new Date(START + 600_000).toISOString()],
        ['resume', new Date(START + 630_000).toISOString()],
      ]);
      for (const order of orders.slice(1)) expect(order).toEqual(orders[0]);
    });

    it('of a manual entry come back in the order given, on create and on update', async () => {
      const who = await signUp(t);
      const at = '2024-05-01T06:10:00.000Z';
      const events = ['marker', 'lap', 'segment', 'pause'].map((eventType, i) => ({ eventType, startTime: at, metadata: { i } }));
      const created = (
        await t.http()
          .post('/api/v1/activities')
          .set(who.auth)
          .send({ athleteId: who.athleteId, activityType: 'running', startTime: '2024-05-01T06:00:00Z', endTime: '2024-05-01T07:00:00Z', events: [{ eventType: 'resume', startTime: '2024-05-01T06:20:00Z' }, ...events] })
          .expect(201)
      ).body;
      expect(created.events.map((e: { eventType: string }) => e.eventType)).toEqual(['marker', 'lap', 'segment', 'pause', 'resume']);
      const reversed = [...events].reverse();
      const updated = (await t.http().patch(`/api/v1/activities/${created.id}`).set(who.auth).send({ events: reversed }).expect(200)).body;
      expect(updated.events.map((e: { eventType: string }) => e.eventType)).toEqual(['pause', 'segment', 'lap', 'marker']);
      expect((await detail(created.id, who)).events.map((e: { metadata: { i: number } }) => e.metadata.i)).toEqual([3, 2, 1, 0]);
    });

    it('of a synced item come back in the order the provider sent them', async () => {
      const ride = stravaRide(31);
      const at = ride.start_date;
      // Three laps starting at the same instant (a device that restarted its lap counter), named in the provider's order.
      const laps = ['C', 'A', 'B'].map((name, i) => ({ id: 900 + i, name, lap_index: i + 1, start_date: at, elapsed_time: 60 + i, moving_time: 60, distance: 100 }));
      const names: string[][] = [];
      for (let i = 0; i < 2; i++) {
        const who = await signUp(t);
        const response = await t.http().post(`/api/v1/athletes/${who.athleteId}/sync/strava/batches`).set(who.auth).send({ activities: [{ ...ride, laps }] }).expect(200);
        names.push((await detail(response.body.results[0].id, who)).events.map((e: { metadata: { name: string } }) => e.metadata.name));
      }
      expect(names).toEqual([
        ['C', 'A', 'B'],
        ['C', 'A', 'B'],
      ]);
    });
  });

  it('stores no moving time longer than the elapsed time, and says so', async () => {
    const who = await signUp(t);
    const lap1 = syntheticTrack(START, 700).filter((_, i) => i % 10 === 0 || i === 699);
    const lap2 = syntheticTrack(START + 700_000, 711).filter((_, i) => i % 10 === 0 || i === 710);
    const tcx = buildTcx([
      {
        sport: 'Running',
        idMs: START,
        laps: [
          { tracks: [lap1], totalTimeSeconds: 1283, distanceM: 2000, calories: 100 },
          { tracks: [lap2], totalTimeSeconds: 1000, distanceM: 2100, calories: 100 },
        ],
      },
    ]);
    const file = await importOne(who, 'laps.tcx', utf8(tcx));
    expect(file.status).toBe('created');
    expect(file.warnings).toContain('activity: movingTimeS 2283 s is longer than the elapsed durationS 1410 s; left out');
    const run = await detail(file.activityIds[0], who);
    expect(run).toMatchObject({ durationS: 1410, movingTimeS: null, distanceM: 4100 });
  });

  it('stores no synced moving time longer than the elapsed time, says so in the item’s result, and clamps a second’s rounding', async () => {
    const who = await signUp(t);
    const overlong = { ...stravaRide(41), moving_time: 4600, elapsed_time: 4410 };
    const rounding = { ...stravaRide(42, '2026-05-04T07:12:00Z'), moving_time: 4411, elapsed_time: 4410 };
    const plain = stravaRide(43, '2026-05-05T07:12:00Z');
    const response = await t.http().post(`/api/v1/athletes/${who.athleteId}/sync/strava/batches`).set(who.auth).send({ activities: [overlong, rounding, plain] }).expect(200);
    const [first, second, third] = response.body.results;
    expect(first.warnings).toEqual(['movingTimeS 4600 s is longer than the elapsed durationS 4410 s; left out']);
    expect(second.warnings).toBeUndefined();
    expect(third.warnings).toBeUndefined();
    expect(await detail(first.id, who)).toMatchObject({ durationS: 4410, movingTimeS: null });
    expect(await detail(second.id, who)).toMatchObject({ durationS: 4410, movingTimeS: 4410 });
    expect(await detail(third.id, who)).toMatchObject({ durationS: 4410, movingTimeS: 4207 });
    // The provider's own value is kept in the source data.
    const stored = await t.database.db.select({ sourceData: activities.sourceData }).from(activities).where(eq(activities.id, first.id));
    expect(stored[0]!.sourceData).toMatchObject({ moving_time: 4600 });
  });

  it('refuses a manual moving time longer than the elapsed time with 422, on create and on update', async () => {
    const who = await signUp(t);
    const base = { athleteId: who.athleteId, activityType: 'running', startTime: '2024-05-01T06:00:00Z', endTime: '2024-05-01T07:00:00Z' };
    const refused = await t.http().post('/api/v1/activities').set(who.auth).send({ ...base, durationS: 1410, movingTimeS: 2283 }).expect(422);
    expect(refused.body.issues).toEqual([expect.objectContaining({ path: ['movingTimeS'] })]);
    const created = (await t.http().post('/api/v1/activities').set(who.auth).send({ ...base, durationS: 3600, movingTimeS: 3300 }).expect(201)).body;
    const patched = await t.http().patch(`/api/v1/activities/${created.id}`).set(who.auth).send({ movingTimeS: 3700 }).expect(422);
    expect(patched.body.issues).toEqual([expect.objectContaining({ path: ['movingTimeS'] })]);
    await t.http().patch(`/api/v1/activities/${created.id}`).set(who.auth).send({ durationS: 3000 }).expect(422);
    expect((await detail(created.id, who)).movingTimeS).toBe(3300);
  });

  it('measures a multi-segment GPX within its segments', async () => {
    const who = await signUp(t);
    const segment = (fromMs: number, fromLat: number): TrackPoint[] =>
      [0, 1, 2].map((i) => ({ timeMs: fromMs + i * 10_000, latitude: fromLat + i * 0.0001, longitude: 8.5417 }));
    const gpx = buildGpx([{ type: 'walking', segments: [segment(START, 47.37), segment(START + 600_000, 47.38), segment(START + 1_200_000, 47.39)] }]);
    const file = await importOne(who, 'walk.gpx', utf8(gpx));
    const walk = await detail(file.activityIds[0], who);
    expect(walk.distanceM).toBeCloseTo(6 * 0.0001 * (Math.PI / 180) * 6_371_008.8, 6);
    // The straight lines between segments (2 × 1.1 km) are not in it.
    expect(walk.distanceM).toBeLessThan(100);
  });

  it('refuses a GPX whose points have no usable latitude/longitude, with the reason, and writes nothing', async () => {
    const who = await signUp(t);
    const points = syntheticTrack(START, 5).map((p) => ({ ...p, latitude: 'undefined' }));
    const file = await importOne(who, 'bad.gpx', utf8(buildGpx([{ type: 'running', segments: [points] }])));
    expect(file.status).toBe('rejected');
    expect(file.reason).toContain('no track point with a usable latitude/longitude: 5 whose lat or lon is not a number');
    expect((await get(`/api/v1/activities?athleteId=${who.athleteId}`, who).expect(200)).body.items).toEqual([]);
  });

  it('takes an Apple workout with an inline route and the same workout with a route file for one activity', async () => {
    const who = await signUp(t);
    const inline = await importOne(who, 'inline.zip', appleZip({ inlineRoute: true }));
    expect(inline).toMatchObject({ status: 'created', format: 'apple_health' });
    const runId = inline.activityIds[0] as string;
    const positions = (await get(`/api/v1/activities/${runId}/streams/position`, who).expect(200)).body;
    const points = appleRoutePoints();
    expect(positions.timestamps).toEqual(points.map((p) => p.timeMs));
    expect(positions.latitude).toEqual(points.map((p) => p.latitude));
    expect(positions.horizontalAccuracyM).toEqual(points.map((p) => p.horizontalAccuracyM));
    const altitude = (await get(`/api/v1/activities/${runId}/streams/altitude`, who).expect(200)).body;
    expect(altitude.values).toEqual(points.map((p) => p.elevationM));

    const fromFile = await importOne(who, 'export.zip', appleZip());
    expect(fromFile).toMatchObject({ status: 'skipped', activityIds: [] });
    expect([...fromFile.existingIds].sort()).toEqual([...inline.activityIds].sort());
    const runs = await t.database.db
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.athleteId, who.athleteId), eq(activities.sourceActivityType, 'HKWorkoutActivityTypeRunning'), eq(activities.isIndoor, false)));
    expect(runs.map((r) => r.id)).toEqual([runId]);
  });
});
