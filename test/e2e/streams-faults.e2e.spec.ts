/**
 * Issue 8 and the stream part of issue 13: the write order object → row swap → old object, under
 * real faults (a commit that fails in PostgreSQL, a PUT cut mid-body on the wire, concurrent uploads,
 * the object store down during a delete), bounded work for a decompression bomb, and an event loop
 * that keeps answering while a 2,000,000-sample stream is processed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { startCuttingTcpProxy } from '../setup/tcp-proxy.js';
import { and, eq, sql } from 'drizzle-orm';
import { activityStreams, streamObjectDeletions } from '../../src/database/schema/index.js';
import { ParquetStreamCodec } from '@unified-activity/parquet-streams';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { StreamObjectDrain } from '../../src/modules/streams/objects/stream-object-drain.js';
import { streamObjectPrefix } from '../../src/modules/streams/streams.service.js';
import { StreamsRepository } from '../../src/modules/streams/streams.repository.js';
import { sweepStreams } from '../../src/modules/streams/objects/sweep.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { parquetDeclaringRows, rng, scalarValues, timestamps } from '../factories/streams.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';
import { until } from '../setup/until.js';

const START = new Date('2026-05-01T06:00:00.000Z');
const END = new Date('2026-05-01T16:00:00.000Z');

/**
 * A TCP proxy in front of the S3 server that, while armed, cuts every connection carrying a PUT once
 * `afterBytes` of it have passed: a store failing mid-PUT, as seen on the wire.
 */
async function startCuttingProxy(targetPort: number) {
  let afterBytes: number | undefined;
  const proxy = await startCuttingTcpProxy({ host: '127.0.0.1', port: targetPort }, () => {
    let putBytes = -1;
    return (chunk) => {
      if (chunk.subarray(0, 4).toString('latin1') === 'PUT ') putBytes = 0;
      if (putBytes >= 0) putBytes += chunk.length;
      return afterBytes !== undefined && putBytes > afterBytes;
    };
  });
  return Object.assign(proxy, {
    arm(bytes: number | undefined) {
      afterBytes = bytes;
    },
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function eventually(check: () => Promise<boolean>, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys.sort();
}

function speedColumns(count: number, seed: number) {
  const random = rng(seed);
  return { timestamps: timestamps(START, count), values: scalarValues('speed', count, random) };
}

describe('stream writes under faults (S3 behind a cutting proxy)', () => {
  let s3: S3TestServer;
  let proxy: Awaited<ReturnType<typeof startCuttingProxy>>;
  let t: TestApp;
  let store: ObjectStore;
  let user: SignedUpUser;

  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startCuttingProxy(s3.port);
    t = await createTestApp({
      S3_ENDPOINT: proxy.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: 'test-stream-faults',
    });
    store = createObjectStore({ ...t.env, S3_ENDPOINT: s3.endpoint });
    user = await signUp(t);
  });
  afterAll(async () => {
    await t.close();
    await store.close?.();
    await proxy.close();
    await s3.close();
  });

  const newActivity = async () => (await createActivity(t, user, { startTime: START.toISOString(), endTime: END.toISOString() })).id;
  const put = (activityId: string, type: string, body: object) =>
    t.http().put(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).send(body);
  const read = (activityId: string, type: string) => t.http().get(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth);
  const rowOf = async (activityId: string, type: string) =>
    (await t.database.db.select().from(activityStreams).where(and(eq(activityStreams.activityId, activityId), eq(activityStreams.streamType, type))))[0];

  it('a commit that fails after the new object is stored leaves the previous version served, bit-exact', async () => {
    const activityId = await newActivity();
    const previous = speedColumns(1000, 1);
    await put(activityId, 'speed', previous).expect(200);
    const before = await rowOf(activityId, 'speed');

    // A deferred constraint trigger fails the transaction at COMMIT, after the swap statement ran.
    await t.database.db.execute(
      sql.raw(`create or replace function h8_fail_commit() returns trigger language plpgsql as $$
        begin if NEW.sample_count = 4242 then raise exception 'injected commit failure'; end if; return NEW; end $$`),
    );
    await t.database.db.execute(
      sql.raw(`create constraint trigger h8_fail_commit after insert or update on activity_streams
        deferrable initially deferred for each row execute function h8_fail_commit()`),
    );
    try {
      const failed = await put(activityId, 'speed', speedColumns(4242, 2));
      expect(failed.status).toBeGreaterThanOrEqual(500);
    } finally {
      await t.database.db.execute(sql.raw('drop trigger h8_fail_commit on activity_streams'));
      await t.database.db.execute(sql.raw('drop function h8_fail_commit()'));
    }

    expect(await rowOf(activityId, 'speed')).toEqual(before);
    const served = await read(activityId, 'speed').expect(200);
    expect(served.body.timestamps).toEqual(previous.timestamps);
    expect(served.body.values).toEqual(previous.values);
    // The failed upload's object was removed; only the live version remains.
    expect(await keysUnder(store, streamObjectPrefix(user.athleteId, activityId, 'speed'))).toEqual([before!.objectKey]);
  });

  it('the object store failing mid-PUT answers 503 and leaves the previous version served', async () => {
    const activityId = await newActivity();
    const previous = speedColumns(1000, 3);
    await put(activityId, 'speed', previous).expect(200);
    const before = await rowOf(activityId, 'speed');

    proxy.arm(16 * 1024);
    const cutsBefore = proxy.cuts;
    try {
      const failed = await put(activityId, 'speed', speedColumns(30_000, 4));
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/storage/i) });
    } finally {
      proxy.arm(undefined);
    }
    expect(proxy.cuts).toBeGreaterThan(cutsBefore);
    expect(await rowOf(activityId, 'speed')).toEqual(before);
    const served = await read(activityId, 'speed').expect(200);
    expect(served.body.values).toEqual(previous.values);
    expect(sha256(await store.get(before!.objectKey))).toBe(before!.checksumSha256);
  });

  it('two concurrent PUTs of different data: the row’s checksum is its object’s, and the loser’s object goes', async () => {
    const activityId = await newActivity();
    const bodies = [speedColumns(30_000, 5), speedColumns(30_000, 6)];
    const responses = await Promise.all(bodies.map((body) => put(activityId, 'speed', body)));
    expect(responses.map((response) => response.status)).toEqual([200, 200]);

    const row = (await rowOf(activityId, 'speed'))!;
    expect(sha256(await store.get(row.objectKey))).toBe(row.checksumSha256);
    const winner = responses.findIndex((response) => response.body.checksumSha256 === row.checksumSha256);
    expect(winner).toBeGreaterThanOrEqual(0);
    expect((await read(activityId, 'speed').expect(200)).body.values).toEqual(bodies[winner]!.values);

    const repository = new StreamsRepository(t.database.db);
    await sweepStreams(repository, store, { apply: true, graceMs: 0, drain: new StreamObjectDrain(repository, store) });
    // The loser's object is queued for deletion by the swap; the app's own drain may hold that entry
    // (leased) while the sweep runs, and removes it once its round gets there.
    const prefix = streamObjectPrefix(user.athleteId, activityId, 'speed');
    await until('the loser’s object gone', async () => ((await keysUnder(store, prefix)).length === 1 ? true : undefined), 30_000);
    expect(await keysUnder(store, prefix)).toEqual([row.objectKey]);
  });

  it('deleting an activity while the store is down removes every object once it is back, without the sweep', async () => {
    const activityId = await newActivity();
    await put(activityId, 'speed', speedColumns(500, 7)).expect(200);
    await put(activityId, 'power', { timestamps: timestamps(START, 300), values: scalarValues('power', 300, rng(8)) }).expect(200);
    const keys = await keysUnder(store, `streams/athlete_id=${user.athleteId}/activity_id=${activityId}/`);
    expect(keys).toHaveLength(2);

    await s3.stop();
    try {
      await t.http().delete(`/api/v1/activities/${activityId}`).set(user.auth).expect(204);
      const queued = await t.database.db.select().from(streamObjectDeletions);
      expect(queued.map((entry) => entry.objectKey)).toEqual(expect.arrayContaining(keys));
      // The drain tries while the store is down and fails: entries are handed back with the store's
      // error (not as objects found missing, which would complete them after a few tries), and none
      // completes. Other test files' servers share this database's outbox and may claim an entry too
      // (handing it back as not in their store), so the store's error is asserted on at least one.
      const ours = async () => (await t.database.db.select().from(streamObjectDeletions)).filter((entry) => keys.includes(entry.objectKey));
      const storeFailed = (entry: { lastError: string | null }) => /^S3 object store: .+ failed: /.test(entry.lastError ?? '');
      await eventually(async () => {
        const entries = await ours();
        return entries.every((entry) => entry.attempts > 0) && entries.some(storeFailed);
      }, 20_000);
      const failed = await ours();
      expect(failed).toHaveLength(keys.length);
      expect(failed.some(storeFailed)).toBe(true);
    } finally {
      await s3.restart();
    }
    expect((await keysUnder(store, `streams/athlete_id=${user.athleteId}/activity_id=${activityId}/`)).length).toBe(2);
    await eventually(async () => (await keysUnder(store, `streams/athlete_id=${user.athleteId}/activity_id=${activityId}/`)).length === 0);
    await eventually(
      async () => (await t.database.db.select().from(streamObjectDeletions)).every((entry) => !keys.includes(entry.objectKey)),
    );
  }, 90_000);
});

describe('bounded work and a free event loop (local object store)', () => {
  let t: TestApp;
  let user: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp();
    user = await signUp(t);
  });
  afterAll(() => t.close());

  it('refuses a Parquet file declaring 50,000,000 rows with 413 from its footer, with a few MiB of extra memory', async () => {
    const activityId = (await createActivity(t, user, { startTime: START.toISOString(), endTime: END.toISOString() })).id;
    const bomb = parquetDeclaringRows(50_000_000, START);
    expect(bomb.byteLength).toBeLessThan(512 * 1024);
    const before = process.memoryUsage();
    const response = await t
      .http()
      .put(`/api/v1/activities/${activityId}/streams/heart_rate`)
      .set(user.auth)
      .set('Content-Type', 'application/vnd.apache.parquet')
      .send(Buffer.from(bomb));
    const after = process.memoryUsage();
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/50000000 rows/) });
    // Decoding it would take 800 MB of typed arrays; the footer check touches none of it.
    expect((after.arrayBuffers - before.arrayBuffers) / 2 ** 20).toBeLessThan(8);
    expect((after.rss - before.rss) / 2 ** 20).toBeLessThan(64);
    expect(await t.database.db.select().from(activityStreams).where(eq(activityStreams.activityId, activityId))).toEqual([]);
  });

  it('answers GET /health within 200 ms while a 2,000,000-sample position stream is uploaded', async () => {
    const activityId = (await createActivity(t, user, { startTime: START.toISOString(), endTime: END.toISOString() })).id;
    const count = 2_000_000;
    const random = rng(42);
    const latitude = new Float64Array(count);
    const longitude = new Float64Array(count);
    const altitudeM = new Float64Array(count);
    for (let i = 0, lat = 47.3769, lng = 8.5417, alt = 408; i < count; i++) {
      latitude[i] = lat += (random() - 0.3) * 0.000001;
      longitude[i] = lng += (random() - 0.4) * 0.0000013;
      altitudeM[i] = alt += (random() - 0.5) * 0.02;
    }
    // Fixed encodings: building the test's file fast is not what is under test.
    const file = new ParquetStreamCodec({ encodingStrategy: 'fixed' }).encode('position', {
      timestamps: Float64Array.from({ length: count }, (_, i) => START.getTime() + i * 18),
      latitude,
      longitude,
      altitudeM,
      horizontalAccuracyM: null,
    });

    let done = false;
    const upload = t
      .http()
      .put(`/api/v1/activities/${activityId}/streams/position`)
      .set(user.auth)
      .set('Content-Type', 'application/vnd.apache.parquet')
      .send(Buffer.from(file))
      .then(
        (result) => {
          done = true;
          return result;
        },
        (error: unknown) => {
          done = true;
          throw error;
        },
      );
    const latencies: number[] = [];
    while (!done) {
      const started = performance.now();
      await t.http().get('/health').expect(200);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const response = await upload;
    expect(response.status).toBe(200);
    expect(response.body.sampleCount).toBe(count);
    expect(latencies.length).toBeGreaterThan(3);
    // Decode, validation, encode and hashing run in a worker thread, so the loop keeps answering.
    // The percentile rather than the maximum: the CI machine is shared, and one descheduled ping is
    // the machine's, not the event loop's (the benchmark measures the loop's longest stall itself).
    const sorted = [...latencies].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
    expect(p90).toBeLessThan(200);
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThan(200);
  }, 600_000);
});
