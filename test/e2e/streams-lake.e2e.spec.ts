/**
 * One physical Parquet schema per stream type, for every object ever written (docs/data-model.md,
 * "Parquet schemas"): objects of every type from every way in (FIT, GPX with accuracy and elevation,
 * TCX, an Apple Health export, Strava, HealthKit, Health Connect) land in one lake, which DuckDB reads
 * per type with a plain glob (no union_by_name); objects of the older layouts are rewritten by the
 * upgrade (streams:sweep and the boot task), and a second run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { eq, inArray } from 'drizzle-orm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { ALL_CHANNELS, fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { activities, activityStreams } from '../../src/database/schema/index.js';
import { SCHEMA_VERSION_METADATA_KEY, STREAM_SCHEMA_VERSION, STREAM_TYPE_METADATA_KEY, writeParquet } from '@unified-activity/parquet-streams';
import type { LocalObjectStore } from '../../src/modules/streams/storage/local-object-store.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { StreamObjectDrain } from '../../src/modules/streams/objects/stream-object-drain.js';
import { prepareUpload } from '../../src/modules/streams/stream-tasks.js';
import { STREAM_TYPES, type StreamType } from '../../src/modules/streams/stream-types.js';
import { upgradeStreamObjects, type Reencode } from '../../src/modules/streams/objects/stream-upgrade.js';
import { StreamVersionWriter } from '../../src/modules/streams/objects/stream-version-writer.js';
import { streamObjectKey } from '../../src/modules/streams/streams.service.js';
import { StreamsRepository } from '../../src/modules/streams/streams.repository.js';
import { sweepStreams } from '../../src/modules/streams/objects/sweep.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { gpxDocument, tcxDocument, trackPoints, upload, utf8 } from '../factories/imports.js';
import { buildAppleRouteGpx, syntheticTrack } from '../fixtures/imports/xml-builders.js';
import { garminTreadmillRun, healthConnectRun, healthKitRun, stravaRide, stravaStreams } from '../fixtures/sync-payloads.js';
import { createApp } from '../../src/app.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
let store: ObjectStore;
let user: SignedUpUser;
let duck: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  t = await createTestApp();
  store = createObjectStore(t.env);
  user = await signUp(t, 'Lake Reader');
  duck = await DuckDBInstance.create(':memory:');
  connection = await duck.connect();
});
afterAll(async () => {
  connection?.closeSync();
  duck?.closeSync();
  await store?.close?.();
  await t?.close();
});

/** The sweep's re-encoding, run inline (the script runs it on the worker pool). */
const reencode: Reencode = (task) => prepareUpload({ name: 'prepareUpload', ...task });

const sql = (text: string) => text.replaceAll("'", "''");

/** The local store's folder: the lake as DuckDB sees it, at the Hive-style keys. */
const lakeRoot = () => (store as LocalObjectStore).root;
const typeGlob = (type: StreamType) => join(lakeRoot(), 'streams', `athlete_id=${user.athleteId}`, '*', `stream_type=${type}`, '*.parquet');

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const post = (source: string, body: unknown) =>
  t.http().post(`/api/v1/athletes/${user.athleteId}/sync/${source}/batches`).set(user.auth).set('content-type', 'application/json').send(JSON.stringify(body));

/** Every object's schema (name, physical type, logical type, repetition) in file order, per object key. */
async function schemasOf(type: StreamType): Promise<Map<string, string>> {
  const reader = await connection.runAndReadAll(
    `SELECT file_name, list(concat_ws(' ', name, type, coalesce(logical_type::VARCHAR, ''), repetition_type) ORDER BY rowid) AS columns
       FROM (SELECT *, row_number() OVER () AS rowid FROM parquet_schema('${sql(typeGlob(type))}')) WHERE num_children IS NULL
      GROUP BY file_name`,
  );
  return new Map(reader.getRowObjectsJS().map((row) => [String(row.file_name), JSON.stringify(row.columns)]));
}

/** The activity_streams rows of this user's athlete. */
async function myRows() {
  return t.database.db
    .select({ stream: activityStreams })
    .from(activityStreams)
    .innerJoin(activities, eq(activities.id, activityStreams.activityId))
    .where(eq(activities.athleteId, user.athleteId))
    .then((rows) => rows.map((row) => row.stream));
}

describe('one lake, one physical schema per stream type', () => {
  const T0 = Date.UTC(2026, 3, 1, 6, 0, 0);
  const day = 86_400_000;
  const sampleCounts = new Map<string, number>(); // `${activityId}/${type}` → the API's sampleCount
  const positionValues = { altitudes: 0, accuracies: 0 }; // non-null optional position values the API answers

  it('imports and syncs objects of every type from every way in', async () => {
    // FIT: all eight channels.
    const fit = fitActivityFixture({ sport: 'cycling', startTime: new Date(T0), seconds: 600, laps: 2, channels: ALL_CHANNELS });
    // GPX as an Apple Watch writes it (hAcc, elevation), with fixes that repeat a timestamp.
    const route = syntheticTrack(T0 + day, 300).map((p, i) => ({ ...p, horizontalAccuracyM: 3 + (i % 5), timeMs: T0 + day + (i - (i % 50 === 1 ? 1 : 0)) * 1000 }));
    const gpxFiles = [
      { name: 'watch-route.gpx', bytes: utf8(buildAppleRouteGpx(route)) },
      { name: 'plain.gpx', bytes: utf8(gpxDocument(new Date(T0 + 2 * day), trackPoints(240))) },
      { name: 'run.tcx', bytes: utf8(tcxDocument(new Date(T0 + 3 * day), trackPoints(200, 7))) },
    ];
    const imported = await upload(t, user, [{ name: 'ride.fit', bytes: fit.bytes }, ...gpxFiles]).expect(200);
    expect(imported.body.files.map((file: { status: string }) => file.status)).toEqual(['created', 'created', 'created', 'created']);

    await post('strava', { activities: [{ ...stravaRide(5150, new Date(T0 + 4 * day).toISOString()), elapsed_time: 600, streams: stravaStreams(600) }] }).expect(200);
    // HealthKit: a route with altitude and accuracy, stored as the provider sends it.
    await post('healthkit', { activities: [healthKitRun('LAKE-HK-1', new Date(T0 + 5 * day).toISOString())] }).expect(200);
    // Health Connect: a route with altitude only, for the third shape of position.
    const hc = healthConnectRun('lake-hc-1');
    const hcStart = Date.parse(hc.startTime);
    const exerciseRoute = {
      route: Array.from({ length: 60 }, (_, i) => ({
        time: new Date(hcStart + i * 10_000).toISOString(),
        latitude: 48.1 + i * 1e-4,
        longitude: 11.5 + i * 1e-4,
        altitude: { inMeters: 520 + i / 4 },
      })),
    };
    await post('health_connect', { activities: [{ ...hc, exerciseRoute }] }).expect(200);

    // Garmin: GPS samples with their elevation, which the altitude stream holds too.
    const garminStart = Math.floor((T0 + 6 * day) / 1000);
    const garmin = {
      ...garminTreadmillRun('lake-garmin-1', garminStart),
      activityType: 'RUNNING',
      samples: Array.from({ length: 120 }, (_, i) => ({
        startTimeInSeconds: garminStart + i * 5,
        latitudeInDegree: 45.8 + i * 1e-4,
        longitudeInDegree: 6.9 + i * 1e-4,
        elevationInMeters: 1035.5 + (i % 9) * 0.25,
        heartRate: 130 + (i % 20),
      })),
    };
    await post('garmin', { activities: [garmin] }).expect(200);

    const rows = await myRows();
    expect(new Set(rows.map((row) => row.streamType))).toEqual(new Set(STREAM_TYPES));
    // A synced activity stores a value once too: Garmin's elevation only in the altitude stream.
    const garminRows = rows.filter((row) => row.startTime.getTime() === garminStart * 1000);
    const garminPosition = (await t.http().get(`/api/v1/activities/${garminRows[0]!.activityId}/streams/position`).set(user.auth).expect(200)).body;
    const garminAltitude = (await t.http().get(`/api/v1/activities/${garminRows[0]!.activityId}/streams/altitude`).set(user.auth).expect(200)).body;
    expect(garminPosition.sampleCount).toBe(120);
    expect(garminPosition).not.toHaveProperty('altitudeM');
    expect(garminAltitude.values).toEqual(garmin.samples.map((sample) => sample.elevationInMeters));
    for (const row of rows) {
      const listed = await t.http().get(`/api/v1/activities/${row.activityId}/streams`).set(user.auth).expect(200);
      for (const item of listed.body.items as { streamType: string; sampleCount: number; schemaVersion: number }[]) {
        expect(item.schemaVersion).toBe(STREAM_SCHEMA_VERSION);
        sampleCounts.set(`${row.activityId}/${item.streamType}`, item.sampleCount);
      }
    }
    // The three shapes of position are all there: with accuracy only, with altitude only, with both.
    const positions = rows.filter((row) => row.streamType === 'position');
    const shapes = new Set<string>();
    for (const row of positions) {
      const body = (await t.http().get(`/api/v1/activities/${row.activityId}/streams/position`).set(user.auth).expect(200)).body;
      shapes.add(`${'altitudeM' in body}/${'horizontalAccuracyM' in body}`);
      const present = (values: (number | null)[] | undefined) => (values ?? []).filter((v) => v !== null).length;
      positionValues.altitudes += present(body.altitudeM);
      positionValues.accuracies += present(body.horizontalAccuracyM);
    }
    expect(shapes).toEqual(new Set(['false/false', 'false/true', 'true/false', 'true/true']));
  });

  it('the watch route with repeated timestamps stores each fix altitude once, in the altitude stream', async () => {
    const rows = await myRows();
    const day1 = rows.filter((row) => row.startTime.getTime() >= T0 + day && row.startTime.getTime() < T0 + 2 * day);
    const position = day1.find((row) => row.streamType === 'position')!;
    const altitude = day1.find((row) => row.streamType === 'altitude')!;
    const positionBody = (await t.http().get(`/api/v1/activities/${position.activityId}/streams/position`).set(user.auth).expect(200)).body;
    const altitudeBody = (await t.http().get(`/api/v1/activities/${altitude.activityId}/streams/altitude`).set(user.auth).expect(200)).body;
    expect(positionBody.sampleCount).toBe(300);
    expect(new Set(positionBody.timestamps).size).toBeLessThan(300); // the route repeats instants
    expect(positionBody).not.toHaveProperty('altitudeM');
    expect(positionBody.horizontalAccuracyM).toHaveLength(300);
    expect(altitudeBody.timestamps).toEqual(positionBody.timestamps);
    expect(altitudeBody.values).toEqual(syntheticTrack(T0 + day, 300).map((p) => p.elevationM));
  });

  it('DuckDB reads every type with a plain glob: one schema in every object, every sample', async () => {
    for (const type of STREAM_TYPES) {
      const schemas = new Set((await schemasOf(type)).values());
      expect({ type, schemas: schemas.size }).toEqual({ type, schemas: 1 });
      const reader = await connection.runAndReadAll(
        `SELECT activity_id, count(*)::INTEGER AS n FROM read_parquet('${sql(typeGlob(type))}', hive_partitioning = true) GROUP BY activity_id`,
      );
      const counts = new Map(reader.getRowObjectsJS().map((row) => [`${String(row.activity_id)}/${type}`, Number(row.n)]));
      const expected = new Map([...sampleCounts].filter(([key]) => key.endsWith(`/${type}`)));
      expect(counts).toEqual(expected);
    }
    const position = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${sql(typeGlob('position'))}', hive_partitioning = false)`);
    expect(position.getRowObjectsJS().map((row) => [row.column_name, row.column_type])).toEqual([
      ['timestamp', 'TIMESTAMP WITH TIME ZONE'],
      ['latitude', 'DOUBLE'],
      ['longitude', 'DOUBLE'],
      ['altitude_m', 'DOUBLE'],
      ['horizontal_accuracy_m', 'DOUBLE'],
    ]);
    // Accuracy and altitude come through the glob wherever an object has them, whatever UUID sorts first.
    const filled = await connection.runAndReadAll(
      `SELECT count(altitude_m)::INTEGER AS altitudes, count(horizontal_accuracy_m)::INTEGER AS accuracies FROM read_parquet('${sql(typeGlob('position'))}')`,
    );
    const [{ altitudes, accuracies }] = filled.getRowObjectsJS() as { altitudes: number; accuracies: number }[];
    expect({ altitudes, accuracies }).toEqual(positionValues);
    expect(altitudes).toBeGreaterThanOrEqual(60); // Health Connect's route at least
    expect(accuracies).toBeGreaterThanOrEqual(300); // the watch route at least
  });

  describe('objects written in an older layout', () => {
    let repository: StreamsRepository;
    let drain: StreamObjectDrain;
    let writer: StreamVersionWriter;
    const planted: { rowId: string; oldKey: string; samples: unknown }[] = [];

    /** Points a stream's row at an object written as an older version of the code wrote it. */
    async function plant(activityId: string, type: StreamType, bytes: Uint8Array, schemaVersion: number) {
      const [row] = await t.database.db
        .select()
        .from(activityStreams)
        .where(eq(activityStreams.activityId, activityId))
        .then((rows) => rows.filter((r) => r.streamType === type));
      const samples = (await t.http().get(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).expect(200)).body;
      const oldKey = streamObjectKey(user.athleteId, activityId, type, '0000000000001-00000000');
      await store.put(oldKey, bytes, { contentType: 'application/vnd.apache.parquet' });
      await t.database.db.update(activityStreams).set({ objectKey: oldKey, schemaVersion, byteSize: bytes.byteLength }).where(eq(activityStreams.id, row!.id));
      // The trigger queued the object the row pointed at; the drain removes it.
      planted.push({ rowId: row!.id, oldKey, samples });
    }

    beforeAll(() => {
      repository = new StreamsRepository(t.database.db);
      drain = new StreamObjectDrain(repository, store);
      writer = new StreamVersionWriter(repository, store, drain);
    });

    /**
     * Drains the deletion outbox until these objects are gone: other test files' servers share this
     * database's outbox and may hold an entry for a moment (handing it back as not in their store).
     */
    async function drainUntilGone(keys: string[]): Promise<void> {
      await eventually(async () => {
        await drain.drainAll();
        return (await Promise.all(keys.map((key) => store.stat(key)))).every((stat) => stat === undefined);
      });
    }

    it('are rewritten in the current schema by the sweep, through the one write path; a second run changes nothing', async () => {
      const rows = await myRows();
      // Schema 2 position without its optional columns (the watch-less GPX), as the writer of schema 2 laid it out.
      const plainPosition = rows.find((row) => row.streamType === 'position' && row.startTime.getTime() >= T0 + 2 * day && row.startTime.getTime() < T0 + 3 * day)!;
      const body = (await t.http().get(`/api/v1/activities/${plainPosition.activityId}/streams/position`).set(user.auth).expect(200)).body;
      const v2 = writeParquet({
        columns: [
          { kind: 'timestamp', name: 'timestamp', values: Float64Array.from(body.timestamps) },
          { kind: 'double', name: 'latitude', optional: false, values: Float64Array.from(body.latitude), encoding: 'PLAIN' },
          { kind: 'double', name: 'longitude', optional: false, values: Float64Array.from(body.longitude), encoding: 'PLAIN' },
        ],
        codec: 'UNCOMPRESSED',
        rowGroupSize: 1 << 20,
        keyValueMetadata: [
          { key: STREAM_TYPE_METADATA_KEY, value: 'position' },
          { key: SCHEMA_VERSION_METADATA_KEY, value: '2' },
        ],
      });
      await plant(plainPosition.activityId, 'position', v2, 2);
      // Schema 1 heart rate: whole numbers as INT32.
      const fitHeartRate = rows.find((row) => row.streamType === 'heart_rate' && row.startTime.getTime() < T0 + day)!;
      const hr = (await t.http().get(`/api/v1/activities/${fitHeartRate.activityId}/streams/heart_rate`).set(user.auth).expect(200)).body;
      const v1 = new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'timestamp', data: (hr.timestamps as number[]).map((ms) => BigInt(ms)) },
            { name: 'value', data: hr.values as number[] },
          ],
          schema: [
            { name: 'root', num_children: 2 },
            { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'TIMESTAMP_MILLIS' },
            { name: 'value', type: 'INT32', repetition_type: 'REQUIRED' },
          ],
          codec: 'GZIP',
          compressors: { GZIP: (input) => gzipSync(input) },
          kvMetadata: [
            { key: STREAM_TYPE_METADATA_KEY, value: 'heart_rate' },
            { key: SCHEMA_VERSION_METADATA_KEY, value: '1' },
          ],
        }),
      );
      await plant(fitHeartRate.activityId, 'heart_rate', v1, 1);
      await drain.drainAll();
      // Before: a plain glob over position or heart_rate meets two physical schemas.
      expect(new Set((await schemasOf('position')).values()).size).toBe(2);
      expect(new Set((await schemasOf('heart_rate')).values()).size).toBe(2);

      const dryRun = await sweepStreams(repository, store, { apply: false, graceMs: 0, upgrade: { writer, reencode } });
      expect(dryRun.upgrade.outdated).toBeGreaterThanOrEqual(2);
      expect(await store.stat(planted[0]!.oldKey)).toBeDefined();

      // The sweep's upgrade step, as `npm run streams:sweep -- --apply` runs it, then its drain.
      const applied = await upgradeStreamObjects(repository, store, writer, reencode, { apply: true });
      expect(applied.rewritten).toBeGreaterThanOrEqual(2);
      await drainUntilGone(planted.map((p) => p.oldKey));

      const after = await t.database.db.select().from(activityStreams).where(inArray(activityStreams.id, planted.map((p) => p.rowId)));
      for (const p of planted) {
        const row = after.find((r) => r.id === p.rowId)!;
        expect(row.schemaVersion).toBe(STREAM_SCHEMA_VERSION);
        expect(row.objectKey).not.toBe(p.oldKey);
        expect(await store.stat(p.oldKey)).toBeUndefined();
        const read = (await t.http().get(`/api/v1/activities/${row.activityId}/streams/${row.streamType}`).set(user.auth).expect(200)).body;
        expect(read).toEqual(p.samples);
      }
      for (const type of ['position', 'heart_rate'] as const) expect(new Set((await schemasOf(type)).values()).size).toBe(1);

      // A second run: nothing of this lake is outdated, no key or object changes.
      const keysBefore = (await myRows()).map((row) => row.objectKey).sort();
      const filesBefore: string[] = [];
      for await (const object of store.list(`streams/athlete_id=${user.athleteId}/`)) filesBefore.push(object.key);
      const again = await sweepStreams(repository, store, { apply: false, graceMs: 0, upgrade: { writer, reencode } });
      expect(again.upgrade.skipped.rows.map((row) => row.objectKey)).not.toEqual(expect.arrayContaining([expect.stringContaining(user.athleteId)]));
      const second = await upgradeStreamObjects(repository, store, writer, reencode, { apply: true });
      expect(second.skipped.rows.filter((row) => row.objectKey.includes(user.athleteId))).toEqual([]);
      expect((await myRows()).map((row) => row.objectKey).sort()).toEqual(keysBefore);
      const filesAfter: string[] = [];
      for await (const object of store.list(`streams/athlete_id=${user.athleteId}/`)) filesAfter.push(object.key);
      expect(filesAfter.sort()).toEqual(filesBefore.sort());
      expect((await myRows()).every((row) => row.schemaVersion === STREAM_SCHEMA_VERSION)).toBe(true);
    });

    it('an upload that replaced the stream meanwhile wins over the rewrite', async () => {
      const [row] = (await myRows()).filter((r) => r.streamType === 'speed');
      const stale = { id: row!.id, athleteId: user.athleteId, activityId: row!.activityId, streamType: 'speed' as const, objectKey: 'streams/not-the-current-key.parquet' };
      const prepared = await reencode({ type: 'speed', source: { parquet: await store.get(row!.objectKey) } });
      if (!prepared.ok) throw new Error(prepared.error.message);
      expect(await writer.replace(stale, prepared.value)).toBeUndefined();
      const [unchanged] = await t.database.db.select().from(activityStreams).where(eq(activityStreams.id, row!.id));
      expect(unchanged!.objectKey).toBe(row!.objectKey);
      const keys: string[] = [];
      for await (const object of store.list(`streams/athlete_id=${user.athleteId}/activity_id=${row!.activityId}/stream_type=speed/`)) keys.push(object.key);
      expect(keys).toEqual([row!.objectKey]); // the rewrite's object was removed
    });

    /** One value each stream type's plausible range holds (stream-samples.ts). */
    const PLAUSIBLE: Record<Exclude<(typeof STREAM_TYPES)[number], 'position'>, number> = {
      heart_rate: 120,
      altitude: 400,
      speed: 3,
      power: 200,
      cadence: 80,
      distance: 10,
      temperature: 20,
    };

    it('a write kicks the drain only when its swap replaced a row (an import\'s new streams queue nothing)', async () => {
      let kicks = 0;
      const counting = new StreamVersionWriter(repository, store, { kick: () => void kicks++ });
      const rows = await myRows();
      // An activity of this lake with a stream type it does not hold yet (the first may hold them all).
      const missing = (activityId: string) => STREAM_TYPES.find((candidate) => !rows.some((row) => row.activityId === activityId && row.streamType === candidate));
      const activity = rows.find((candidate) => missing(candidate.activityId) !== undefined)!;
      const type = missing(activity.activityId)!;
      const [row] = await t.database.db.select().from(activities).where(eq(activities.id, activity.activityId));
      const start = row!.startTime.getTime();
      const samples =
        type === 'position'
          ? { timestamps: Float64Array.of(start), latitude: Float64Array.of(46), longitude: Float64Array.of(7), altitudeM: null, horizontalAccuracyM: null }
          : { timestamps: Float64Array.of(start), values: Float64Array.of(PLAUSIBLE[type]) };
      const prepared = await prepareUpload({ name: 'prepareUpload', type, source: { samples } });
      if (!prepared.ok) throw new Error(prepared.error.message);
      const ref = { id: activity.activityId, athleteId: user.athleteId };
      const [first] = await counting.write(ref, [[type, prepared.value]]);
      expect(kicks).toBe(0);
      const [second] = await counting.write(ref, [[type, prepared.value]]);
      expect(kicks).toBe(1);
      expect(second!.id).toBe(first!.id);
      expect(second!.objectKey).not.toBe(first!.objectKey);
      await drainUntilGone([first!.objectKey]);
      expect(await repository.deleteOwned(user.userId, activity.activityId, type)).toBe(true);
      await drainUntilGone([second!.objectKey]);
    });

    it('are rewritten at boot, in the background, by a server on the same lake', async () => {
      const rows = await myRows();
      // Health Connect's route: altitude, no accuracy (schema 2 wrote only the columns a stream had).
      const target = rows.find((row) => row.streamType === 'position' && row.startTime.getTime() === Date.parse(healthConnectRun().startTime))!;
      const body = (await t.http().get(`/api/v1/activities/${target.activityId}/streams/position`).set(user.auth).expect(200)).body;
      expect(body).not.toHaveProperty('horizontalAccuracyM');
      const v2 = writeParquet({
        columns: [
          { kind: 'timestamp', name: 'timestamp', values: Float64Array.from(body.timestamps) },
          { kind: 'double', name: 'latitude', optional: false, values: Float64Array.from(body.latitude), encoding: 'PLAIN' },
          { kind: 'double', name: 'longitude', optional: false, values: Float64Array.from(body.longitude), encoding: 'PLAIN' },
          { kind: 'double', name: 'altitude_m', optional: true, values: Float64Array.from(body.altitudeM, (v: number | null) => v ?? Number.NaN), encoding: 'PLAIN' },
        ],
        codec: 'UNCOMPRESSED',
        rowGroupSize: 1 << 20,
        keyValueMetadata: [
          { key: STREAM_TYPE_METADATA_KEY, value: 'position' },
          { key: SCHEMA_VERSION_METADATA_KEY, value: '2' },
        ],
      });
      await plant(target.activityId, 'position', v2, 2);
      // A second server on the same database and lake (a replica, or this one after a restart).
      const replica = await createApp(t.env, { database: t.database });
      try {
        await eventually(async () => {
          const [row] = await t.database.db.select().from(activityStreams).where(eq(activityStreams.id, target.id));
          return row!.schemaVersion === STREAM_SCHEMA_VERSION;
        });
        const read = (await t.http().get(`/api/v1/activities/${target.activityId}/streams/position`).set(user.auth).expect(200)).body;
        expect(read).toEqual(body);
        // The replaced object leaves through the deletion outbox (its drain runs in the background).
        await drainUntilGone([planted.at(-1)!.oldKey]);
        expect(new Set((await schemasOf('position')).values()).size).toBe(1);
      } finally {
        await replica.close();
      }
    });
  });
});
