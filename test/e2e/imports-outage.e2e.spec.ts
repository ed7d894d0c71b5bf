/**
 * Issue 22, item 5: an import that meets an object-store outage answers 503 naming the object store
 * (not the database, which stays up), leaves no archived original without an activity (removed at
 * once, or queued in the deletion outbox and reclaimed by the drain once the store is back) nor a
 * staged upload without a job, and an
 * import job that fails on the outage is recorded as failed by pg-boss: `pgboss.job` in state
 * `retry` with its retry count incremented, run again after the queue's 5 s retry delay (not after
 * the ~60 s a lost heartbeat takes).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCuttingTcpProxy } from '../setup/tcp-proxy.js';
import { eq, sql } from 'drizzle-orm';
import { activities, importJobs, streamObjectDeletions } from '../../src/database/schema/index.js';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { importQueueName } from '../../src/modules/imports/import-queue.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { upload } from '../factories/imports.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { TEST_DATABASE_URL } from '../setup/database.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';

/**
 * A TCP relay to the S3 server that, once a request line matches `failOn`, cuts that connection and,
 * with `thenDown`, every connection after it until restored: the store going away in the middle of
 * an import, at a chosen request.
 */
async function startFaultyProxy(targetPort: number) {
  let failOn: RegExp | undefined;
  let thenDown = false;
  let down = false;
  const proxy = await startCuttingTcpProxy({ host: '127.0.0.1', port: targetPort }, () => (chunk) => {
    if (down) return true;
    const line = chunk.subarray(0, 512).toString('latin1').split('\r\n', 1)[0]!;
    if (!failOn || !/^[A-Z]+ \S+ HTTP\//.test(line) || !failOn.test(line)) return false;
    if (thenDown) down = true;
    return true;
  });
  return Object.assign(proxy, {
    fail(pattern: RegExp | undefined, options: { thenDown?: boolean } = {}) {
      failOn = pattern;
      thenDown = options.thenDown ?? false;
      down = false;
    },
  });
}

interface JobRow {
  state: string;
  retry_count: number;
  error: string | null;
  start_after_ms: string;
  now_ms: string;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const fitFile = (day: number) => ({
  name: `ride-${day}.fit`,
  bytes: fitActivityFixture({ sport: 'cycling', startTime: new Date(Date.UTC(2024, 4, day, 7)), seconds: 600, channels: { heartRate: true, position: true } }).bytes,
});

async function originals(store: ObjectStore, athleteId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(`raw/athlete_id=${athleteId}/`)) keys.push(object.key);
  return keys;
}

describe('an import during an object-store outage', () => {
  let s3: S3TestServer;
  let proxy: Awaited<ReturnType<typeof startFaultyProxy>>;
  let t: TestApp;
  let store: ObjectStore;
  let user: SignedUpUser;

  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startFaultyProxy(s3.port);
    t = await createTestApp({
      S3_ENDPOINT: proxy.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: 'test-import-outage',
      // Workers on: the pg-boss test below runs its job in this app.
      IMPORT_WORKERS: '1',
    });
    // The test's own view of the store, past the proxy.
    store = createObjectStore({ ...t.env, S3_ENDPOINT: s3.endpoint });
    user = await signUp(t);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await s3?.close();
  });

  it('answers 503 naming the object store when a stream PUT fails, and removes the archived original at once', async () => {
    // The original's PUT passes, the first stream PUT is cut; the store answers again right after.
    proxy.fail(/^PUT \S*\/streams\//);
    const response = await upload(t, user, [fitFile(1)]);
    expect(proxy.cuts).toBeGreaterThan(0);
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(response.body.message).toMatch(/^Object storage is unavailable; "ride-1\.fit" was not imported/);
    expect(response.body.message).not.toMatch(/database/i);
    proxy.fail(undefined);

    expect(await t.database.db.select({ id: activities.id }).from(activities).where(eq(activities.athleteId, user.athleteId))).toEqual([]);
    expect(await originals(store, user.athleteId)).toEqual([]);

    // The same file once the store is back: imported whole, its original archived and pointed at.
    const again = await upload(t, user, [fitFile(1)]);
    expect(again.status).toBe(200);
    expect(again.body.summary).toMatchObject({ created: 1, activities: 1 });
    const [activity] = await t.database.db.select({ key: activities.sourceArchiveKey }).from(activities).where(eq(activities.athleteId, user.athleteId));
    expect(await originals(store, user.athleteId)).toEqual([activity!.key]);
  }, 120_000);

  it('when the store stays down, queues the original in the deletion outbox, and the drain reclaims it once the store is back', async () => {
    const before = await originals(store, user.athleteId);
    // The first stream PUT is cut and the store stays down: the original cannot be removed now.
    proxy.fail(/^PUT \S*\/streams\//, { thenDown: true });
    const response = await upload(t, user, [fitFile(2), fitFile(3)]);
    expect(response.status).toBe(503);
    expect(response.body.message).toMatch(/^Object storage is unavailable; "ride-2\.fit" was not imported/);
    const queued = await t.database.db.select({ key: streamObjectDeletions.objectKey }).from(streamObjectDeletions).where(sql`${streamObjectDeletions.objectKey} like ${`raw/athlete_id=${user.athleteId}/%`}`);
    expect(queued).toHaveLength(1);
    const stray = queued[0]!.key;
    expect(stray).not.toBe(before[0]);
    expect(await store.stat(stray)).toBeDefined(); // still there while the store is down

    proxy.fail(undefined);
    const left = await eventually(
      () => originals(store, user.athleteId),
      (keys) => !keys.includes(stray),
    );
    expect(left).toEqual(before);
    const outbox = await eventually(
      () => t.database.db.select({ key: streamObjectDeletions.objectKey }).from(streamObjectDeletions).where(eq(streamObjectDeletions.objectKey, stray)),
      (rows) => rows.length === 0,
    );
    expect(outbox).toEqual([]);
  }, 120_000);

  it('an upload that becomes a job answers 503 when staging its files fails, with no job and no staged file left', async () => {
    const jobsBefore = await t.database.db.select({ id: importJobs.id }).from(importJobs).where(eq(importJobs.athleteId, user.athleteId));
    // The second file's staging PUT is cut: the first one, already staged, must not stay behind.
    proxy.fail(/^PUT \S*\/imports\/jobs\/[^/\s]+\/1 /);
    const response = await upload(t, user, [fitFile(5), fitFile(6)], '?async=true');
    proxy.fail(undefined);
    expect(response.status).toBe(503);
    expect(response.body.message).toBe('Object storage is unavailable; nothing was changed. Try again later.');
    expect(await t.database.db.select({ id: importJobs.id }).from(importJobs).where(eq(importJobs.athleteId, user.athleteId))).toEqual(jobsBefore);
    const staged: string[] = [];
    for await (const object of store.list('imports/jobs/')) staged.push(object.key);
    expect(staged).toEqual([]);
  }, 120_000);

  (TEST_DATABASE_URL ? it : it.skip)('an import job failing on the outage is recorded by pg-boss: state retry with the error, run again 5 s later (retry count 1)', async () => {
    // The job's staged files are stored; reading them back fails while the rule is armed.
    proxy.fail(/^GET \S*\/imports\/jobs\//);
    const accepted = await upload(t, user, [fitFile(4)], '?async=true');
    expect(accepted.status).toBe(202);
    const jobId = accepted.body.id as string;
    const queue = importQueueName(t.env);
    const readJob = async () => {
      const rows = (await t.database.db.execute(sql`
        select state, retry_count, output->>'message' as error, extract(epoch from start_after) * 1000 as start_after_ms, extract(epoch from now()) * 1000 as now_ms
          from pgboss.job where name = ${queue} and data->>'importJobId' = ${jobId}`)) as unknown as
        | JobRow[]
        | { rows: JobRow[] };
      return (Array.isArray(rows) ? rows : rows.rows)[0];
    };

    const failed = await eventually(readJob, (job) => job?.state === 'retry', 30_000);
    const failedAt = Date.now();
    // Recorded as failed (pg-boss counts the retry when it starts the job again).
    expect(failed).toMatchObject({ state: 'retry', retry_count: 0, error: expect.stringMatching(/unavailable|ECONNRESET|socket/i) });
    // Scheduled after the queue's retryDelay (5 s) from the failure.
    const delay = Number(failed!.start_after_ms) - Number(failed!.now_ms);
    expect(delay).toBeGreaterThan(2_000);
    expect(delay).toBeLessThanOrEqual(5_500);
    const status = await t.http().get(`/api/v1/imports/${jobId}`).set(user.auth);
    expect(status.body).toMatchObject({ status: 'failed', error: expect.stringMatching(/retried automatically/) });

    proxy.fail(undefined);
    const completed = await eventually(readJob, (job) => job?.state === 'completed', 40_000);
    expect(completed).toMatchObject({ state: 'completed', retry_count: 1 });
    // Rerun by the retry delay, well before a lost heartbeat (30 s) would have released it.
    expect(Date.now() - failedAt).toBeLessThan(20_000);
    const done = await t.http().get(`/api/v1/imports/${jobId}`).set(user.auth);
    expect(done.body).toMatchObject({ status: 'completed', summary: { created: 1, activities: 1 } });
  }, 120_000);
});
