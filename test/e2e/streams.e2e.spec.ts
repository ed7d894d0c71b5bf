import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { and, eq } from 'drizzle-orm';
import { activityStreams, streamObjectDeletions } from '../../src/database/schema/index.js';
import { encodeStream, STREAM_SCHEMA_VERSION } from '@unified-activity/parquet-streams';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import { LocalObjectStore } from '../../src/modules/streams/storage/local-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { STREAM_TYPES } from '../../src/modules/streams/stream-types.js';
import { streamObjectKey } from '../../src/modules/streams/streams.service.js';
import { StreamObjectDrain } from '../../src/modules/streams/objects/stream-object-drain.js';
import { StreamsRepository } from '../../src/modules/streams/streams.repository.js';
import { sweepStreams } from '../../src/modules/streams/objects/sweep.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { rng, scalarValues, timestamps, track } from '../factories/streams.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';

const START = new Date('2026-05-01T06:00:00.000Z');
const END = new Date('2026-05-01T16:00:00.000Z');

interface Backend {
  t: TestApp;
  store: ObjectStore;
  s3?: S3TestServer;
}

async function startBackend(kind: 'local' | 's3'): Promise<Backend> {
  if (kind === 'local') {
    const t = await createTestApp();
    return { t, store: createObjectStore(t.env) };
  }
  const s3 = await startS3Server();
  const t = await createTestApp({
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_BUCKET: 'test-streams',
  });
  return { t, store: createObjectStore(t.env), s3 };
}

async function newActivity(t: TestApp, user: SignedUpUser) {
  return (await createActivity(t, user, { startTime: START.toISOString(), endTime: END.toISOString() })).id;
}

/** The key the stream's row points at now (every upload writes a new versioned key). */
async function keyOf(t: TestApp, activityId: string, type: string): Promise<string> {
  const [row] = await t.database.db
    .select({ objectKey: activityStreams.objectKey })
    .from(activityStreams)
    .where(and(eq(activityStreams.activityId, activityId), eq(activityStreams.streamType, type)));
  if (!row) throw new Error(`no ${type} row for ${activityId}`);
  return row.objectKey;
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** Polls until `check` holds (the deletion outbox is drained in the background). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function columnsFor(type: string, count: number, seed: number, irregular = false) {
  const random = rng(seed);
  const ts = timestamps(START, count, irregular ? { irregular: random } : {});
  if (type === 'position') return { timestamps: ts, ...track(count, random) };
  return { timestamps: ts, values: scalarValues(type, count, random) };
}

describe.each(['local', 's3'] as const)('streams on the %s object store', (kind) => {
  let backend: Backend;
  let t: TestApp;
  let user: SignedUpUser;

  beforeAll(async () => {
    backend = await startBackend(kind);
    t = backend.t;
    user = await signUp(t);
  });
  afterAll(async () => {
    await backend.t.close();
    await backend.store.close?.();
    await backend.s3?.close();
  });

  const put = (activityId: string, type: string, body: object) =>
    t.http().put(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).send(body);

  it.each(STREAM_TYPES)('round-trips %s bit-exact (values and millisecond timestamps)', async (type) => {
    const activityId = await newActivity(t, user);
    const body = columnsFor(type, 3600, STREAM_TYPES.indexOf(type) + 1);
    const uploaded = await put(activityId, type, body);
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ streamType: type, sampleCount: 3600, format: 'parquet', schemaVersion: STREAM_SCHEMA_VERSION });

    const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).expect(200);
    expect(fetched.body).toMatchObject({ streamType: type, sampleCount: 3600, returnedCount: 3600, downsampled: false });
    expect(fetched.body.timestamps).toEqual(body.timestamps);
    for (const [column, values] of Object.entries(body)) {
      expect({ column, values: fetched.body[column] }).toEqual({ column, values });
    }
  });

  it('stores irregular HealthKit-like heart rate (every 1–10 s) exactly, with correct metadata', async () => {
    const activityId = await newActivity(t, user);
    const body = columnsFor('heart_rate', 5000, 99, true);
    const uploaded = await put(activityId, 'heart_rate', body).expect(200);
    const values = body.values!;
    expect(uploaded.body).toMatchObject({
      sampleCount: 5000,
      startTime: new Date(body.timestamps[0]!).toISOString(),
      endTime: new Date(body.timestamps.at(-1)!).toISOString(),
      minValue: Math.min(...values),
      maxValue: Math.max(...values),
    });
    expect(uploaded.body.avgValue).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);

    const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/heart_rate`).set(user.auth).expect(200);
    expect(fetched.body.timestamps).toEqual(body.timestamps);
    expect(fetched.body.values).toEqual(values);

    const listed = await t.http().get(`/api/v1/activities/${activityId}/streams`).set(user.auth).expect(200);
    expect(listed.body).toEqual({ items: [uploaded.body], nextCursor: null });
    const detail = await t.http().get(`/api/v1/activities/${activityId}`).set(user.auth).expect(200);
    expect(detail.body.streams).toEqual([uploaded.body]);
  });

  it('accepts ISO timestamps and a Parquet body, and a re-upload replaces the stream', async () => {
    const activityId = await newActivity(t, user);
    const iso = await put(activityId, 'power', {
      timestamps: ['2026-05-01T06:00:00.000Z', '2026-05-01T06:00:01.000Z', '2026-05-01T06:00:02.500Z'],
      values: [200, 210.5, 0],
    }).expect(200);
    expect(iso.body).toMatchObject({ sampleCount: 3, minValue: 0, maxValue: 210.5 });

    const body = columnsFor('power', 1200, 7);
    const file = encodeStream('power', { timestamps: Float64Array.from(body.timestamps), values: Float64Array.from(body.values!) });
    const replaced = await t
      .http()
      .put(`/api/v1/activities/${activityId}/streams/power`)
      .set(user.auth)
      .set('Content-Type', 'application/vnd.apache.parquet')
      .send(Buffer.from(file))
      .expect(200);
    expect(replaced.body.sampleCount).toBe(1200);
    const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/power`).set(user.auth).expect(200);
    expect(fetched.body.values).toEqual(body.values);
    const rows = await t.database.db.select().from(activityStreams).where(eq(activityStreams.activityId, activityId));
    expect(rows).toHaveLength(1);
  });

  it('downloads the stored Parquet file, whose sha256 is the recorded checksum', async () => {
    const activityId = await newActivity(t, user);
    const uploaded = await put(activityId, 'position', columnsFor('position', 2000, 5)).expect(200);
    const direct = await t
      .http()
      .get(`/api/v1/activities/${activityId}/streams/position/file?redirect=false`)
      .set(user.auth)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(direct.headers['content-type']).toMatch(/parquet/);
    expect(createHash('sha256').update(direct.body as Buffer).digest('hex')).toBe(uploaded.body.checksumSha256);
    expect((direct.body as Buffer).byteLength).toBe(uploaded.body.byteSize);

    const viaDefault = await t.http().get(`/api/v1/activities/${activityId}/streams/position/file`).set(user.auth).redirects(0);
    if (kind === 's3') {
      expect(viaDefault.status).toBe(307);
      const presigned = await fetch(viaDefault.headers.location!);
      expect(presigned.status).toBe(200);
      const bytes = Buffer.from(await presigned.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(uploaded.body.checksumSha256);
    } else {
      expect(viaDefault.status).toBe(200);
    }
  });

  it('downsamples to at most maxPoints, keeping first, last, minimum and maximum', async () => {
    const activityId = await newActivity(t, user);
    const body = columnsFor('heart_rate', 7200, 11);
    await put(activityId, 'heart_rate', body).expect(200);
    const response = await t.http().get(`/api/v1/activities/${activityId}/streams/heart_rate?maxPoints=500`).set(user.auth).expect(200);
    const { timestamps: ts, values } = response.body as { timestamps: number[]; values: number[] };
    expect(response.body).toMatchObject({ sampleCount: 7200, downsampled: true });
    expect(ts.length).toBeLessThanOrEqual(500);
    expect(ts.length).toBe(response.body.returnedCount);
    expect(ts[0]).toBe(body.timestamps[0]);
    expect(ts.at(-1)).toBe(body.timestamps.at(-1));
    expect(Math.min(...values)).toBe(Math.min(...body.values!));
    expect(Math.max(...values)).toBe(Math.max(...body.values!));
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);

    await put(activityId, 'position', columnsFor('position', 3600, 12)).expect(200);
    const gps = await t.http().get(`/api/v1/activities/${activityId}/streams/position?maxPoints=200`).set(user.auth).expect(200);
    expect(gps.body.latitude.length).toBeLessThanOrEqual(200);
    expect(gps.body.timestamps[0]).toBe(START.getTime());
  });

  describe('validation: a 4xx, and no object and no row', () => {
    const cases: [string, string, (activityId: string) => object, number, (string | number)[]][] = [
      ['unequal column lengths', 'heart_rate', () => ({ timestamps: [START.getTime(), START.getTime() + 1000], values: [80] }), 422, ['values']],
      ['decreasing timestamps', 'heart_rate', () => ({ timestamps: [START.getTime() + 2000, START.getTime() + 1000], values: [80, 81] }), 422, ['timestamps', 1]],
      ['heart rate outside 20–260 bpm', 'heart_rate', () => ({ timestamps: [START.getTime(), START.getTime() + 1000], values: [80, 300] }), 422, ['values', 1]],
      ['latitude outside ±90°', 'position', () => ({ timestamps: [START.getTime()], latitude: [91], longitude: [8] }), 422, ['latitude', 0]],
      ['samples outside the activity', 'speed', () => ({ timestamps: [START.getTime(), END.getTime() + 3_600_000], values: [1, 2] }), 422, ['timestamps', 1]],
      ['position columns on a scalar stream', 'speed', () => ({ timestamps: [START.getTime()], latitude: [1], longitude: [1] }), 422, ['values']],
      ['no samples', 'cadence', () => ({ timestamps: [], values: [] }), 422, ['timestamps']],
      ['a malformed ISO timestamp', 'cadence', () => ({ timestamps: ['yesterday'], values: [80] }), 422, ['timestamps', 0]],
      ['an unknown field', 'cadence', () => ({ timestamps: [START.getTime()], values: [80], unit: 'rpm' }), 400, ['unit']],
      ['values that are not numbers', 'cadence', () => ({ timestamps: [START.getTime()], values: ['80'] }), 400, ['values', 0]],
    ];

    it.each(cases)('%s', async (_name, type, build, status, path) => {
      const activityId = await newActivity(t, user);
      const response = await put(activityId, type, build(activityId));
      expect(response.status).toBe(status);
      expect(response.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      expect(await t.database.db.select().from(activityStreams).where(eq(activityStreams.activityId, activityId))).toEqual([]);
      const objects: string[] = [];
      for await (const object of backend.store.list(`streams/athlete_id=${user.athleteId}/activity_id=${activityId}/`)) objects.push(object.key);
      expect(objects).toEqual([]);
    });

    it('a body that is not Parquet → 400', async () => {
      const activityId = await newActivity(t, user);
      const response = await t
        .http()
        .put(`/api/v1/activities/${activityId}/streams/power`)
        .set(user.auth)
        .set('Content-Type', 'application/vnd.apache.parquet')
        .send(Buffer.from('this is not parquet'));
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('BAD_REQUEST');
    });

    it('an unknown stream type and another user’s activity are refused', async () => {
      const activityId = await newActivity(t, user);
      const unknown = await put(activityId, 'blood_oxygen', { timestamps: [START.getTime()], values: [97] });
      expect(unknown.status).toBe(422);
      const stranger = await signUp(t);
      const foreign = await t.http().put(`/api/v1/activities/${activityId}/streams/power`).set(stranger.auth).send({ timestamps: [START.getTime()], values: [1] });
      expect(foreign.status).toBe(404);
      const read = await t.http().get(`/api/v1/activities/${activityId}/streams/power`).set(stranger.auth);
      expect(read.status).toBe(404);
    });
  });

  it('deleting a stream, an activity or an athlete removes the stored objects (through the deletion outbox)', async () => {
    // The server's drain runs on its own timer; draining this store here too keeps the wait short
    // when other files' servers, sharing the outbox, hold an entry a moment (not in their store).
    const drain = new StreamObjectDrain(new StreamsRepository(t.database.db), backend.store);
    const gone = (key: string) => async () => {
      await drain.drainAll();
      return (await backend.store.stat(key)) === undefined;
    };
    const one = await newActivity(t, user);
    await put(one, 'heart_rate', columnsFor('heart_rate', 100, 1)).expect(200);
    await put(one, 'power', columnsFor('power', 100, 2)).expect(200);
    const power = await keyOf(t, one, 'power');
    const heartRate = await keyOf(t, one, 'heart_rate');
    expect(power).toMatch(new RegExp(`^streams/athlete_id=${user.athleteId}/activity_id=${one}/stream_type=power/v=\\d{13}-[0-9a-f]{8}\\.parquet$`));
    expect(await backend.store.stat(power)).toBeDefined();

    await t.http().delete(`/api/v1/activities/${one}/streams/power`).set(user.auth).expect(204);
    await t.http().get(`/api/v1/activities/${one}/streams/power`).set(user.auth).expect(404);
    await t.http().delete(`/api/v1/activities/${one}/streams/power`).set(user.auth).expect(404);
    await eventually(gone(power));

    await t.http().delete(`/api/v1/activities/${one}`).set(user.auth).expect(204);
    await eventually(gone(heartRate));

    const other = await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'Temporary' }).expect(201);
    const activity = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send({ athleteId: other.body.id, activityType: 'running', startTime: START.toISOString(), endTime: END.toISOString() })
      .expect(201);
    await put(activity.body.id, 'heart_rate', columnsFor('heart_rate', 100, 3)).expect(200);
    const key = await keyOf(t, activity.body.id, 'heart_rate');
    expect(await backend.store.stat(key)).toBeDefined();
    await t.http().delete(`/api/v1/athletes/${other.body.id}`).set(user.auth).expect(204);
    await eventually(gone(key));
    // The drain completes its outbox entry right after the store confirmed the delete.
    await eventually(async () => (await t.database.db.select().from(streamObjectDeletions).where(eq(streamObjectDeletions.objectKey, key))).length === 0);
  });

  it('a re-upload writes a new version and removes the previous object after the swap', async () => {
    const activityId = await newActivity(t, user);
    await put(activityId, 'cadence', columnsFor('cadence', 300, 31)).expect(200);
    const first = await keyOf(t, activityId, 'cadence');
    const body = columnsFor('cadence', 400, 32);
    const second = await put(activityId, 'cadence', body).expect(200);
    const current = await keyOf(t, activityId, 'cadence');
    expect(current).not.toBe(first);
    expect(createHash('sha256').update(await backend.store.get(current)).digest('hex')).toBe(second.body.checksumSha256);
    await eventually(async () => (await backend.store.stat(first)) === undefined);
    expect(await keysUnder(backend.store, `streams/athlete_id=${user.athleteId}/activity_id=${activityId}/`)).toEqual([current]);
    const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/cadence`).set(user.auth).expect(200);
    expect(fetched.body.values).toEqual(body.values);
  });

  it('the sweep finds a planted orphan, a superseded version and a row whose object is missing', async () => {
    const activityId = await newActivity(t, user);
    await put(activityId, 'heart_rate', columnsFor('heart_rate', 100, 4)).expect(200);
    await put(activityId, 'cadence', columnsFor('cadence', 100, 5)).expect(200);
    const orphan = streamObjectKey(user.athleteId, '00000000-0000-4000-8000-000000000000', 'power', '0000000000001-00000000');
    const superseded = streamObjectKey(user.athleteId, activityId, 'heart_rate', '0000000000002-00000000');
    for (const key of [orphan, superseded]) {
      await backend.store.put(key, new Uint8Array([1, 2, 3]), { contentType: 'application/vnd.apache.parquet' });
    }
    const lost = await keyOf(t, activityId, 'cadence');
    const live = await keyOf(t, activityId, 'heart_rate');
    await backend.store.delete([lost]);

    const repository = new StreamsRepository(t.database.db);
    const dryRun = await sweepStreams(repository, backend.store, { apply: false, graceMs: 0 });
    expect(dryRun.orphans.keys).toContain(orphan);
    expect(dryRun.superseded.keys).toContain(superseded);
    expect(dryRun.missingObjects.rows.map((row) => row.objectKey)).toContain(lost);
    expect([...dryRun.orphans.keys, ...dryRun.superseded.keys]).not.toContain(live);
    expect(await backend.store.stat(orphan)).toBeDefined();

    const young = await sweepStreams(repository, backend.store, { apply: false, graceMs: 60 * 60_000 });
    expect([...young.orphans.keys, ...young.superseded.keys]).not.toContain(orphan);

    const applied = await sweepStreams(repository, backend.store, {
      apply: true,
      graceMs: 0,
      drain: new StreamObjectDrain(repository, backend.store),
    });
    expect(applied.applied).toBe(true);
    expect(await backend.store.stat(orphan)).toBeUndefined();
    expect(await backend.store.stat(superseded)).toBeUndefined();
    expect(await backend.store.stat(live)).toBeDefined();
    const listed = await t.http().get(`/api/v1/activities/${activityId}/streams`).set(user.auth).expect(200);
    expect(listed.body.items.map((s: { streamType: string }) => s.streamType)).toEqual(['heart_rate']);
    const again = await sweepStreams(repository, backend.store, { apply: false, graceMs: 0 });
    expect(again.orphans.keys).not.toContain(orphan);
    expect(again.missingObjects.rows.map((row) => row.objectKey)).not.toContain(lost);
  });

  it('the sweep pointed at a store that holds nothing of an athlete deletes none of that athlete’s rows, and says so', async () => {
    const activityId = await newActivity(t, user);
    await put(activityId, 'power', columnsFor('power', 50, 6)).expect(200);
    const key = await keyOf(t, activityId, 'power');
    const emptyDir = mkdtempSync(join(tmpdir(), 'sweep-wrong-store-'));
    const wrongStore = new LocalObjectStore({ dataDir: emptyDir, bucket: 'not-this-database' });
    try {
      await wrongStore.ensureReady();
      const repository = new StreamsRepository(t.database.db);
      const applied = await sweepStreams(repository, wrongStore, { apply: true, graceMs: 0 });
      expect(applied.missingObjects.count).toBeGreaterThan(0);
      expect(applied.missingObjects.kept).toBe(applied.missingObjects.count);
      expect(applied.missingObjects.rows).toEqual([]);
      expect(await keyOf(t, activityId, 'power')).toBe(key);
      const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/power`).set(user.auth).expect(200);
      expect(fetched.body.sampleCount).toBe(50);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('DuckDB reads a glob over every heart_rate object of several activities, whole and fractional, exactly', async () => {
    const uploads: { activityId: string; timestamps: number[]; values: number[] }[] = [];
    const shapes = [
      (i: number) => 100 + (i % 40), // whole numbers only
      (i: number) => 100.5 + (i % 7) * 0.25, // fractional: 100.5, 100.75 …
      (i: number) => (i % 2 === 0 ? 102.75 : 90), // mixed
    ];
    for (const [n, shape] of shapes.entries()) {
      const activityId = await newActivity(t, user);
      const ts = timestamps(START, 500 + n, { stepMs: 1000 });
      const values = ts.map((_, i) => shape(i));
      await put(activityId, 'heart_rate', { timestamps: ts, values }).expect(200);
      // A second type beside it must not leak into the heart_rate glob.
      await put(activityId, 'power', { timestamps: ts.slice(0, 10), values: ts.slice(0, 10).map((_, i) => i + 0.5) }).expect(200);
      uploads.push({ activityId, timestamps: ts, values });
    }
    const dir = mkdtempSync(join(tmpdir(), 'lake-'));
    // The lake as the store holds it, at its Hive-style keys, so DuckDB also derives the partition columns.
    for await (const object of backend.store.list(`streams/athlete_id=${user.athleteId}/`)) {
      const path = join(dir, object.key);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, await backend.store.get(object.key));
    }
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    try {
      const glob = join(dir, 'streams', '*', '*', 'stream_type=heart_rate', '*.parquet');
      const reader = await connection.runAndReadAll(
        `SELECT epoch_ms("timestamp") AS ts, value, activity_id, stream_type, typeof(value) AS value_type
           FROM read_parquet('${glob}', hive_partitioning = true, file_row_number = true)
          ORDER BY activity_id, file_row_number`,
      );
      const rows = reader.getRowObjectsJS() as { ts: bigint | number; value: number; activity_id: string; stream_type: string; value_type: string }[];
      expect(new Set(rows.map((row) => row.value_type))).toEqual(new Set(['DOUBLE']));
      expect(new Set(rows.map((row) => row.stream_type))).toEqual(new Set(['heart_rate']));
      for (const upload of uploads) {
        const mine = rows.filter((row) => row.activity_id === upload.activityId);
        expect(mine.map((row) => Number(row.ts))).toEqual(upload.timestamps);
        expect(mine.map((row) => row.value)).toEqual(upload.values);
      }
      const known = rows.filter((row) => uploads.some((upload) => upload.activityId === row.activity_id));
      expect(known).toHaveLength(uploads.reduce((sum, upload) => sum + upload.values.length, 0));
      expect(known.map((row) => row.value)).toEqual(expect.arrayContaining([100.5, 100.75, 102.75, 139]));
    } finally {
      connection.closeSync();
      duck.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (kind === 's3') {
    it('stores 2,000,000 samples in one upload, and refuses 2,000,001 with 413', async () => {
      const activityId = await newActivity(t, user);
      const count = 2_000_000;
      const ts = timestamps(START, count, { stepMs: 18 });
      const values = Array.from({ length: count }, (_, i) => 60 + (i % 120));
      const uploaded = await put(activityId, 'heart_rate', { timestamps: ts, values }).expect(200);
      expect(uploaded.body).toMatchObject({ sampleCount: count, minValue: 60, maxValue: 179 });
      const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/heart_rate`).set(user.auth).expect(200);
      expect(fetched.body.timestamps).toHaveLength(count);
      expect(fetched.body.timestamps[count - 1]).toBe(ts[count - 1]);
      expect(fetched.body.values[1_234_567]).toBe(values[1_234_567]);

      const tooMany = await put(activityId, 'heart_rate', { timestamps: [...ts, ts[count - 1]! + 1], values: [...values, 61] });
      expect(tooMany.status).toBe(413);
      expect(tooMany.body.code).toBe('PAYLOAD_TOO_LARGE');
    }, 180_000);

    it('answers 503 and leaves nothing half-written when the S3 server is down during an upload', async () => {
      const activityId = await newActivity(t, user);
      await backend.s3!.stop();
      try {
        const response = await put(activityId, 'speed', columnsFor('speed', 500, 8));
        expect(response.status).toBe(503);
        expect(response.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/storage/i) });
      } finally {
        await backend.s3!.restart();
      }
      expect(await t.database.db.select().from(activityStreams).where(eq(activityStreams.activityId, activityId))).toEqual([]);
      expect(await keysUnder(backend.store, `streams/athlete_id=${user.athleteId}/activity_id=${activityId}/`)).toEqual([]);
      await put(activityId, 'speed', columnsFor('speed', 500, 8)).expect(200);
    }, 60_000);
  }
});
