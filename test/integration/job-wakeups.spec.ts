import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { ImportQueue } from '../../src/modules/imports/import-queue.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

const kinds = TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

/**
 * The job workers' wake-ups (ImportQueue.startWorker / sendJob, src/modules/imports/import-queue.ts):
 * with a poll interval of an hour, every job this process knows about still runs when it is due —
 * a delayed one, a failed one's retry, a backlog, and the jobs already queued when a worker starts
 * (a restart). On the embedded database that is how every job runs (the poll there is 60 s by
 * default: docs/benchmarks.md, "Idle polls on the embedded database").
 */
describe.each(kinds)('job wake-ups with an hour-long poll (%s)', (kind) => {
  let dataDir: string;
  let database: DatabaseHandle;
  const queues: ImportQueue[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'job-wakeups-'));
    database = kind === 'pglite' ? openDatabase({ pgliteDir: join(dataDir, 'pglite') }) : openDatabase({ url: TEST_DATABASE_URL, maxConnections: 5 });
    await database.migrate();
  }, 120_000);

  afterAll(async () => {
    for (const queue of queues) await queue.stop();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const jobQueue = () => {
    const queue = new ImportQueue(parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, JOB_POLL_SECONDS: '3600' }), database);
    queues.push(queue);
    return queue;
  };
  const name = (what: string) => `wakeups-${what}-${randomUUID().slice(0, 8)}`;
  const until = async (done: () => boolean | Promise<boolean>, seconds: number) => {
    const deadline = Date.now() + seconds * 1000;
    while (!(await done()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    return done();
  };

  it('polls once an hour (the setting this file relies on)', () => {
    expect(jobQueue().pollSeconds).toBe(3600);
  });

  it('runs a job sent with startAfter when it is due, not before', async () => {
    const jobs = jobQueue();
    const queue = name('delayed');
    const boss = await jobs.sharedBoss(queue, { retryLimit: 0 });
    const ran: number[] = [];
    await jobs.startWorker<{ n: number }>(boss, queue, { localConcurrency: 1 }, async () => void ran.push(Date.now()));
    // The worker's first fetch (at start) is over before the job is sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const due = Date.now() + 1500;
    await jobs.sendJob(boss, queue, { n: 1 }, { startAfter: new Date(due) });
    expect(await until(() => ran.length === 1, 20)).toBe(true);
    expect(ran[0]).toBeGreaterThanOrEqual(due - 5);
  });

  it("runs a failed job's retry when pg-boss's retryDelay is over", async () => {
    const jobs = jobQueue();
    const queue = name('retry');
    const boss = await jobs.sharedBoss(queue, { retryLimit: 2, retryDelay: 1 });
    let attempts = 0;
    await jobs.startWorker<{ n: number }>(boss, queue, { localConcurrency: 1 }, async () => {
      attempts++;
      if (attempts === 1) throw new Error('the first attempt fails');
      // The retry takes a moment, as a real import does: the job is active until it returns.
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    await jobs.sendJob(boss, queue, { n: 1 });
    expect(await until(() => attempts === 2, 20)).toBe(true);
    // The second attempt has started; pg-boss marks the job completed after the handler has returned.
    await until(async () => (await boss.findJobs(queue))[0]?.state !== 'active', 20);
    const [job] = await boss.findJobs(queue);
    expect(job).toMatchObject({ state: 'completed', retryCount: 1 });
  });

  it('drains a backlog without waiting for a poll between jobs', async () => {
    const jobs = jobQueue();
    const queue = name('backlog');
    const boss = await jobs.sharedBoss(queue, { retryLimit: 0 });
    const done: number[] = [];
    await jobs.startWorker<{ n: number }>(boss, queue, { localConcurrency: 1 }, async ({ n }) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      done.push(n);
    });
    // Sent while the first one runs: pg-boss's worker would look for the third only at its next poll.
    for (const n of [1, 2, 3, 4]) await jobs.sendJob(boss, queue, { n });
    expect(await until(() => done.length === 4, 20)).toBe(true);
    expect(done.sort()).toEqual([1, 2, 3, 4]);
  });

  it('runs the jobs queued before its worker started: those due at once, a delayed one when due', async () => {
    const queue = name('restart');
    const before = jobQueue();
    const sent = await before.sharedBoss(queue, { retryLimit: 0 });
    const due = Date.now() + 2500;
    await before.sendJob(sent, queue, { n: 1 });
    await before.sendJob(sent, queue, { n: 2 });
    await before.sendJob(sent, queue, { n: 3 }, { startAfter: new Date(due) });
    await before.stop();

    const after = jobQueue();
    const boss = await after.sharedBoss(queue, { retryLimit: 0 });
    const ran = new Map<number, number>();
    await after.startWorker<{ n: number }>(boss, queue, { localConcurrency: 1 }, async ({ n }) => void ran.set(n, Date.now()));
    expect(await until(() => ran.size === 3, 20)).toBe(true);
    expect(ran.get(3)).toBeGreaterThanOrEqual(due - 5);
  });
});
