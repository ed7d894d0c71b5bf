import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { fromPglite, PgBoss, type BunSqlLike } from 'pg-boss';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { DatabaseHandle } from '../../../database/database.js';
import { DATABASE_HANDLE } from '../../../database/database.module.js';
import { JOB_POLL_SECONDS, pgBossDatabase } from '../../imports/import-queue.js';

/**
 * A job calls the Garmin API the process is configured for: the queue is named after it, so two
 * test apps (or deployments) with different Garmin hosts on one database never take each other's jobs.
 */
export function garminBackfillQueueName(env: Env): string {
  return `garmin-backfill-${createHash('sha256').update(`${env.GARMIN_API_URL}\n${env.GARMIN_CLIENT_ID ?? ''}`).digest('hex').slice(0, 16)}`;
}

/**
 * The Garmin backfill jobs (one per connection: request its history window by window), on pg-boss
 * in the product's database as the import queue runs it (src/modules/imports/import-queue.ts): a job
 * outlives the process that sent it, a failed one is retried, a rate-limited one waits (startAfter).
 */
@Injectable()
export class GarminBackfillQueue {
  private readonly logger = new Logger('GarminBackfill');
  private boss?: Promise<PgBoss>;
  private readonly queue: string;
  private workerId: string | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(DATABASE_HANDLE) private readonly database: DatabaseHandle,
  ) {
    this.queue = garminBackfillQueueName(env);
  }

  async work(handler: (connectionId: string) => Promise<void>): Promise<void> {
    const boss = await this.started();
    this.workerId = await boss.work<{ connectionId: string }>(
      this.queue,
      { pollingIntervalSeconds: JOB_POLL_SECONDS, batchSize: 1, localConcurrency: 1 },
      async ([job]) => handler(job!.data.connectionId),
    );
  }

  /** A job for the connection, now or (rate limited) from `startAfter`. Two jobs of one connection are harmless: progress is in its row, and Garmin refuses a window twice (409). */
  async send(connectionId: string, startAfter?: Date): Promise<void> {
    const boss = await this.started();
    await boss.send(this.queue, { connectionId }, startAfter ? { startAfter } : {});
    if (this.workerId && !startAfter) boss.notifyWorker(this.workerId);
  }

  async stop(): Promise<void> {
    if (!this.boss) return;
    const started = this.boss;
    this.boss = undefined;
    const boss = await started.catch(() => undefined);
    await boss?.stop({ graceful: true, timeout: 10_000, close: true });
  }

  private started(): Promise<PgBoss> {
    this.boss ??= (async () => {
      const client = (this.database.db as unknown as { $client: unknown }).$client;
      const quiet = { schedule: false, flowIntervalSeconds: 60 } as const;
      const boss =
        this.database.kind === 'postgres'
          ? new PgBoss({ db: pgBossDatabase(client as BunSqlLike), ...quiet })
          : new PgBoss({ db: fromPglite(client as PGlite), backend: 'pglite', ...quiet });
      boss.on('error', (error: Error) => this.logger.error(`pg-boss: ${error.message}`));
      await boss.start();
      await boss.createQueue(this.queue, { retryLimit: 5, retryDelay: 30, retryBackoff: true, expireInSeconds: 3600, heartbeatSeconds: 30 });
      return boss;
    })();
    this.boss.catch(() => (this.boss = undefined));
    return this.boss;
  }
}
