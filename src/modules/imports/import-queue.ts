import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { fromBunSql, fromPglite, PgBoss, type BunSqlLike, type Db, type Queue } from 'pg-boss';
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
 * Timers of pg-boss the product does not need, each a query when it fires: no cron schedules are used
 * (the clock and cron monitors stay off), and no job flows (dependencies between jobs), whose poll
 * would run every 5 s; once a minute, like pg-boss's other maintenance, is plenty.
 */
const QUIET = { schedule: false, flowIntervalSeconds: 60 } as const;

/** How often an idle worker asks the database for jobs it was not woken for (see ImportQueue.work). */
export const JOB_POLL_SECONDS = 5;

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

  /** This process's worker, once work() started it: woken at once for the jobs this process sends. */
  private workerId: string | undefined;

  /**
   * Starts pulling jobs (IMPORT_WORKERS at a time); a no-op with IMPORT_WORKERS=0. A job this process
   * sends wakes its worker at once (send); the poll, every JOB_POLL_SECONDS, finds the jobs other
   * replicas accepted, retries after their delay and jobs left by a stopped process. Each poll is a
   * query: at 1 s it was most of what an idle server did (issue 24, bench:footprint).
   */
  async work(handler: (importJobId: string) => Promise<void>): Promise<void> {
    if (this.env.IMPORT_WORKERS === 0) return;
    const boss = await this.started();
    this.workerId = await boss.work<{ importJobId: string }>(
      this.queue,
      { pollingIntervalSeconds: JOB_POLL_SECONDS, batchSize: 1, localConcurrency: this.env.IMPORT_WORKERS },
      async ([job]) => handler(job!.data.importJobId),
    );
  }

  async send(importJobId: string): Promise<void> {
    const boss = await this.started();
    await boss.send(this.queue, { importJobId });
    if (this.workerId) boss.notifyWorker(this.workerId);
  }

  /**
   * Another kind of job on this process's one pg-boss (an athlete's export): its queue is named like
   * the imports' (after the store its output goes to), created on first use.
   */
  async workOn(kind: string, handler: (jobId: string) => Promise<void>): Promise<void> {
    if (this.env.IMPORT_WORKERS === 0) return;
    const boss = await this.started();
    const queue = await this.ensureQueue(boss, kind);
    this.otherWorkers.set(
      kind,
      await boss.work<{ jobId: string }>(queue, { pollingIntervalSeconds: JOB_POLL_SECONDS, batchSize: 1, localConcurrency: 1 }, async ([job]) => handler(job!.data.jobId)),
    );
  }

  async sendTo(kind: string, jobId: string): Promise<void> {
    const boss = await this.started();
    await boss.send(await this.ensureQueue(boss, kind), { jobId });
    const worker = this.otherWorkers.get(kind);
    if (worker) boss.notifyWorker(worker);
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
  private readonly otherWorkers = new Map<string, string>();
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
    if (!this.boss) return;
    const started = this.boss;
    this.boss = undefined;
    this.otherQueues.clear();
    this.otherWorkers.clear();
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
          : new PgBoss({ db: fromPglite(client as PGlite), backend: 'pglite', ...QUIET });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      // A heartbeat lets another worker take over a job whose process died, without waiting for the expiry.
      await boss.createQueue(this.queue, { retryLimit: 3, retryDelay: 5, expireInSeconds: 6 * 3600, heartbeatSeconds: 30 });
      return boss;
    })();
    // A failed start (database unreachable) is not remembered: the next call tries again.
    this.boss.catch(() => (this.boss = undefined));
    return this.boss;
  }
}
