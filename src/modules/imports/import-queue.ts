import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { fromBunSql, fromPglite, PgBoss, type BunSqlLike, type Db, type Queue, type SendOptions } from 'pg-boss';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import type { DatabaseHandle } from '../../database/database.js';
import { DATABASE_HANDLE } from '../../database/database.module.js';

/**
 * A job's files wait in object storage, so only processes that share that storage may take it:
 * the queue is named after the store. Replicas configured alike share one queue; two test apps
 * with their own folders on one database do not steal each other's jobs.
 */
export function importQueueName(env: Env): string {
  const location = env.S3_ENDPOINT ? `s3:${env.S3_ENDPOINT}/${env.S3_BUCKET}` : `local:${resolve(env.DATA_DIR)}`;
  return `file-imports-${createHash('sha256').update(location).digest('hex').slice(0, 16)}`;
}

/**
 * pg-boss on the application's postgres.js pool, through pg-boss's Bun.SQL adapter (postgres.js has
 * the same `unsafe` and `reserve`). Drizzle makes that pool pass timestamp and JSON values through
 * untouched (it formats them itself), so what pg-boss binds as a JavaScript object would reach the
 * wire as an object and fail ("The "string" argument must be of type string … Received an instance
 * of Object"): a Date (its crash-restart bookkeeping at every start, a retry's start time) is bound
 * as ISO 8601 text, which PostgreSQL reads as the same instant; a plain object (a failed job's output,
 * the serialised error, bound to `jsonb`) as its JSON text, as postgres.js itself would. Without the
 * latter a failed job could not be recorded: it stayed `active` until its heartbeat expired instead
 * of being retried after the queue's retryDelay.
 */
export function pgBossDatabase(client: BunSqlLike): Db {
  const adapter = fromBunSql(client);
  return {
    ...adapter,
    executeSql: (text, values) => adapter.executeSql(text, values?.map(bindable)),
  };
}

function bindable(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value)) return JSON.stringify(value);
  return value;
}

/**
 * Timers of pg-boss the product does not need, each a query or a wake-up when it fires: no cron
 * schedules are used (the clock and cron monitors stay off); no job flows (dependencies between
 * jobs), whose poll would run every 5 s (once a minute, like pg-boss's other maintenance, is plenty);
 * and no instance registry (getInstances, unused here): its heartbeat samples the event loop's delay
 * with perf_hooks.monitorEventLoopDelay at a 20 ms resolution, which woke an idle server 50 times a
 * second — most of its idle CPU (docs/benchmarks.md, "Idle CPU: pg-boss's instance registry").
 */
const QUIET = { schedule: false, flowIntervalSeconds: 60, registerInstance: false } as const;

/**
 * On the embedded database pg-boss's supervision (per queue, a transaction each for expired jobs, lost
 * heartbeats, deletions and dependencies) and its queue statistics run every 5 minutes instead of
 * every minute: about 30 of an idle minute's 75 statements (docs/benchmarks.md, "Idle polls on the
 * embedded database"). One process owns the database, so a lost heartbeat only ever means that a
 * previous run stopped mid-job, and that job is retried a few minutes after the restart.
 */
const EMBEDDED_QUIET = { ...QUIET, superviseIntervalSeconds: 300, monitorIntervalSeconds: 300 } as const;

/**
 * How often an idle worker asks the database for jobs it was not woken for (JOB_POLL_SECONDS; see
 * ImportQueue.startWorker). On PostgreSQL the poll is how replicas find each other's jobs; on the
 * embedded database this process sent every job itself and wakes its workers for them (DueWakeups),
 * so the poll is a safety net, and each poll is a query PGlite runs in this process's CPU (issue 24,
 * docs/benchmarks.md, "Idle polls on the embedded database").
 */
export const JOB_POLL_SECONDS = { postgres: 5, pglite: 60 } as const;

/** A wake-up fires this long after the job's start, so that the database's clock has passed it too. */
const WAKE_MARGIN_MS = 50;
/** setTimeout's longest wait is ~24.8 days; a later wake-up re-arms at most this far ahead. */
const LONGEST_TIMER_MS = 60 * 60 * 1000;

/**
 * The wake-ups this process owes its workers: a job sent with `startAfter`, a failed job's retry
 * (pg-boss sets its start after retryDelay, with backoff and jitter) and the delayed jobs found when
 * a worker starts. One timer, for the earliest; when it fires, the workers of every queue due are
 * woken (notifyWorker), so a delayed job runs when due however long the poll interval is.
 */
export class DueWakeups {
  /** Per queue, the start times (ms since the epoch) not yet woken for. */
  private readonly due = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly wake: (queue: string) => void) {}

  /** Wakes `queue`'s workers at `at` (ms since the epoch), or at once if that has passed. */
  at(queue: string, at: number): void {
    if (this.stopped) return;
    if (at <= Date.now()) {
      this.wake(queue);
      return;
    }
    let times = this.due.get(queue);
    if (!times) this.due.set(queue, (times = new Set()));
    times.add(at);
    this.arm();
  }

  /** How many wake-ups are pending (tests). */
  get pending(): number {
    let count = 0;
    for (const times of this.due.values()) count += times.size;
    return count;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let next = Infinity;
    for (const times of this.due.values()) for (const at of times) next = Math.min(next, at);
    if (next === Infinity) return;
    // A little after the start: pg-boss fetches the jobs whose start_after is before the database's now().
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, next - Date.now()) + WAKE_MARGIN_MS, LONGEST_TIMER_MS));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [queue, times] of this.due) {
      let woken = false;
      for (const at of times) {
        if (at > now) continue;
        times.delete(at);
        woken = true;
      }
      if (times.size === 0) this.due.delete(queue);
      if (woken) this.wake(queue);
    }
    this.arm();
  }
}

/**
 * The file-import job queue: pg-boss on the product's own database. On PostgreSQL it runs on the
 * application's connection pool, so every API replica competes for jobs (SKIP LOCKED) and a job outlives the
 * process that accepted it. On the embedded PGlite database pg-boss runs through its PGlite adapter
 * on the same single connection (`backend: 'pglite'`): one process, but the jobs are rows in that
 * database's `pgboss` schema, so they survive a restart just the same.
 */
@Injectable()
export class ImportQueue {
  private readonly logger = new Logger('ImportQueue');
  private boss?: Promise<PgBoss>;
  private readonly queue: string;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(DATABASE_HANDLE) private readonly database: DatabaseHandle,
  ) {
    this.queue = importQueueName(env);
  }

  /**
   * Starts pulling jobs (IMPORT_WORKERS at a time); a no-op with IMPORT_WORKERS=0. A job this process
   * sends wakes its worker at once (send); the poll (startWorker) finds the jobs other replicas
   * accepted and those nobody woke a worker for.
   */
  async work(handler: (importJobId: string) => Promise<void>): Promise<void> {
    if (this.env.IMPORT_WORKERS === 0) return;
    const boss = await this.started();
    await this.startWorker<{ importJobId: string }>(boss, this.queue, { localConcurrency: this.env.IMPORT_WORKERS }, (data) => handler(data.importJobId));
  }

  async send(importJobId: string): Promise<void> {
    const boss = await this.started();
    await this.sendJob(boss, this.queue, { importJobId });
  }

  /**
   * Another kind of job on this process's one pg-boss (an athlete's export): its queue is named like
   * the imports' (after the store its output goes to), created on first use.
   */
  async workOn(kind: string, handler: (jobId: string) => Promise<void>): Promise<void> {
    if (this.env.IMPORT_WORKERS === 0) return;
    const boss = await this.started();
    const queue = await this.ensureQueue(boss, kind);
    await this.startWorker<{ jobId: string }>(boss, queue, { localConcurrency: 1 }, (data) => handler(data.jobId));
  }

  async sendTo(kind: string, jobId: string): Promise<void> {
    const boss = await this.started();
    await this.sendJob(boss, await this.ensureQueue(boss, kind), { jobId });
  }

  /** The idle workers' poll interval: JOB_POLL_SECONDS, by default 5 s on PostgreSQL and 60 s on the embedded database. */
  get pollSeconds(): number {
    return this.env.JOB_POLL_SECONDS ?? JOB_POLL_SECONDS[this.database.kind];
  }

  /**
   * Every worker of this process's pg-boss starts here (one job at a time per worker), so that it is
   * woken for everything this process knows about, whatever its poll interval:
   * - a job sent by this process (sendJob) wakes the queue's workers at once, or when its
   *   `startAfter` is due;
   * - a worker that finished a job looks again at once (the queue's backlog does not wait for a poll);
   * - a job that failed wakes them when pg-boss's retry of it is due;
   * - once started, the delayed jobs already queued (a previous run's) wake them when due; the jobs
   *   due now are the worker's first fetch.
   * The poll (`pollSeconds`, at least `atLeastSeconds`) finds the rest: other replicas' jobs on
   * PostgreSQL, jobs pg-boss's maintenance expired. Answers the first worker's id.
   */
  async startWorker<T extends object>(
    boss: PgBoss,
    queue: string,
    options: { localConcurrency: number; priority?: boolean; atLeastSeconds?: number },
    handler: (data: T) => Promise<void>,
  ): Promise<string> {
    const workerId = await boss.work<T>(
      queue,
      {
        pollingIntervalSeconds: Math.max(this.pollSeconds, options.atLeastSeconds ?? 0),
        batchSize: 1,
        localConcurrency: options.localConcurrency,
        ...(options.priority === undefined ? {} : { priority: options.priority }),
      },
      async ([job]) => {
        try {
          await handler(job!.data);
        } catch (error) {
          void this.wakeForRetry(boss, queue, job!.id);
          throw error;
        } finally {
          this.wakeWorkers(boss, queue);
        }
      },
    );
    void this.wakeForQueued(boss, queue);
    return workerId;
  }

  /** Sends a job on `queue` and wakes this process's workers of it, now or when `options.startAfter` is due. Answers the job's id (null: a singleton already queued). */
  async sendJob(boss: PgBoss, queue: string, data: object, options: SendOptions = {}): Promise<string | null> {
    const id = await boss.send(queue, data, options);
    // pg-boss reads a number as seconds from now, a string or Date as the instant.
    const { startAfter } = options;
    const at = typeof startAfter === 'number' ? Date.now() + startAfter * 1000 : startAfter === undefined ? NaN : new Date(startAfter).getTime();
    if (Number.isNaN(at)) this.wakeWorkers(boss, queue);
    else this.wakeups.at(queue, at);
    return id;
  }

  private readonly wakeups = new DueWakeups((queue) => {
    const boss = this.bossStarted;
    if (boss) this.wakeWorkers(boss, queue);
  });

  /** The boss once started (DueWakeups wakes its workers), undefined before and after. */
  private bossStarted: PgBoss | undefined;

  /** Wakes every worker of `queue` in this process (a busy one fetches again as soon as its job is done). */
  private wakeWorkers(boss: PgBoss, queue: string): void {
    for (const worker of boss.getWipData()) if (worker.name === queue) boss.notifyWorker(worker.id);
  }

  /** After a job failed: pg-boss records the failure once the handler has thrown; a retry is then due at its start_after. */
  private async wakeForRetry(boss: PgBoss, queue: string, id: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < 100 && !this.stopped; attempt++) {
        await new Promise((done) => setTimeout(done, Math.min(10 * 2 ** attempt, 1000)).unref());
        if (this.stopped) return;
        const [job] = await boss.findJobs(queue, { id });
        if (!job) return;
        if (job.state === 'active') continue;
        if (job.state === 'retry' || job.state === 'created') this.wakeups.at(queue, new Date(job.startAfter).getTime());
        return;
      }
    } catch (error) {
      // The poll still finds the retry.
      this.logger.warn(`Retry of job ${id} (${queue}) not timed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The delayed jobs already queued when a worker starts (sent before a restart): a wake-up for each start. */
  private async wakeForQueued(boss: PgBoss, queue: string): Promise<void> {
    try {
      for (const job of await boss.findJobs(queue, { queued: true, limit: 1000 })) this.wakeups.at(queue, new Date(job.startAfter).getTime());
    } catch (error) {
      this.logger.warn(`Delayed jobs of ${queue} not timed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * This process's one pg-boss for another module's queue (provider work, the Garmin backfill): one
   * set of pollers and maintenance timers per process however many queues it serves (issue 24's
   * footprint). `queue` is created first, once per process, with `options`; the caller works and
   * sends on it, and stops its own worker with `offWork` — the boss itself stops here (stop()).
   */
  async sharedBoss(queue: string, options: Omit<Queue, 'name'>): Promise<PgBoss> {
    const boss = await this.started();
    let created = this.createdQueues.get(queue);
    if (!created) {
      created = boss.createQueue(queue, options);
      created.catch(() => this.createdQueues.delete(queue));
      this.createdQueues.set(queue, created);
    }
    await created;
    return boss;
  }

  /** The boss if it was started and not stopped yet (a queue stopping its worker must not start one). */
  running(): Promise<PgBoss> | undefined {
    return this.boss;
  }

  private readonly createdQueues = new Map<string, Promise<void>>();
  private readonly otherQueues = new Map<string, Promise<string>>();

  private ensureQueue(boss: PgBoss, kind: string): Promise<string> {
    let queue = this.otherQueues.get(kind);
    if (!queue) {
      const name = `${kind}-${this.queue.slice(this.queue.lastIndexOf('-') + 1)}`;
      queue = boss.createQueue(name, { retryLimit: 3, retryDelay: 5, expireInSeconds: 6 * 3600, heartbeatSeconds: 30 }).then(() => name);
      queue.catch(() => this.otherQueues.delete(kind));
      this.otherQueues.set(kind, queue);
    }
    return queue;
  }

  /** Called by ImportsService at shutdown, before the database and the parse workers go away. */
  async stop(): Promise<void> {
    // A worker still starting in the background (an export's, a retry) must not start a new boss afterwards.
    this.stopped = true;
    this.wakeups.stop();
    this.bossStarted = undefined;
    if (!this.boss) return;
    const started = this.boss;
    this.boss = undefined;
    this.otherQueues.clear();
    this.createdQueues.clear();
    // A boss still starting (the database unreachable: its attempt may take a while) is not waited
    // for: it is stopped whenever its start settles, and shutdown goes on.
    const pending = Symbol('pending');
    const boss = await Promise.race([started.catch(() => undefined), new Promise<typeof pending>((resolve) => setTimeout(() => resolve(pending), 5_000).unref())]);
    if (boss === pending) {
      void started.then((late) => late.stop({ graceful: false, close: true })).catch(() => undefined);
      return;
    }
    // Graceful: a running import finishes its current file first; what is left is retried by the next process.
    await boss?.stop({ graceful: true, timeout: 20_000, close: true });
  }

  private stopped = false;

  private started(): Promise<PgBoss> {
    if (this.stopped) return Promise.reject(new Error('The job queue is stopped (shutting down)'));
    this.boss ??= (async () => {
      const client = (this.database.db as unknown as { $client: unknown }).$client;
      const boss =
        this.database.kind === 'postgres'
          ? // postgres.js has the API Bun.SQL copied (unsafe, reserve), so pg-boss's Bun adapter drives the app's own pool.
            new PgBoss({ db: pgBossDatabase(client as BunSqlLike), ...QUIET })
          : new PgBoss({ db: fromPglite(client as PGlite), backend: 'pglite', ...EMBEDDED_QUIET });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      // A heartbeat lets another worker take over a job whose process died, without waiting for the expiry.
      await boss.createQueue(this.queue, { retryLimit: 3, retryDelay: 5, expireInSeconds: 6 * 3600, heartbeatSeconds: 30 });
      this.bossStarted = boss;
      return boss;
    })();
    // A failed start (database unreachable) is not remembered: the next call tries again.
    this.boss.catch(() => (this.boss = undefined));
    return this.boss;
  }
}
