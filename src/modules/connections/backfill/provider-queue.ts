import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { fromPglite, PgBoss, type BunSqlLike } from 'pg-boss';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { DatabaseHandle } from '../../../database/database.js';
import { DATABASE_HANDLE } from '../../../database/database.module.js';
import { JOB_POLL_SECONDS, pgBossDatabase } from '../../imports/import-queue.js';

/**
 * Provider work is done with this process's provider base URLs, client ids and object store, so
 * only processes configured alike may take it: the queue (and the `queue` of each work row) is
 * named after them. Replicas of one deployment share it.
 */
export function providerQueueName(env: Env): string {
  const location = env.S3_ENDPOINT ? `s3:${env.S3_ENDPOINT}/${env.S3_BUCKET}` : `local:${resolve(env.DATA_DIR)}`;
  const providers = [env.STRAVA_API_URL, env.STRAVA_CLIENT_ID ?? '', env.GARMIN_API_URL, env.GARMIN_CLIENT_ID ?? ''].join('|');
  return `provider-sync-${createHash('sha256').update(`${location}|${providers}`).digest('hex').slice(0, 16)}`;
}

/** Interactive work (a webhook event) is taken before backfill (pg-boss serves higher priority first). */
export const JOB_PRIORITY = { interactive: 10, backfill: 0 } as const;

/**
 * The wake-ups of provider work, on pg-boss (the queue the import module runs): a job only names a
 * connection; what to do is in its provider_sync_items rows, so a job run twice or by another
 * replica does no harm. A job deferred (`startAfter`) is how a rate-limited connection waits for the
 * next window without holding a worker.
 */
@Injectable()
export class ProviderQueue {
  private readonly logger = new Logger('ProviderQueue');
  private boss?: Promise<PgBoss>;
  readonly name: string;
  private workerId: string | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(DATABASE_HANDLE) private readonly database: DatabaseHandle,
  ) {
    this.name = providerQueueName(env);
  }

  async work(handler: (connectionId: string) => Promise<void>): Promise<void> {
    if (this.env.CONNECTION_WORKERS === 0) return;
    const boss = await this.started();
    this.workerId = await boss.work<{ connectionId: string }>(
      this.name,
      { pollingIntervalSeconds: JOB_POLL_SECONDS, batchSize: 1, localConcurrency: this.env.CONNECTION_WORKERS, priority: true },
      async ([job]) => handler(job!.data.connectionId),
    );
  }

  /** Wakes the connection's work now, or at `startAfter`; `workers` jobs so that many may run it at once. */
  async wake(connectionId: string, options: { startAfter?: Date; interactive?: boolean; workers?: number; oncePerMinute?: string } = {}): Promise<void> {
    const boss = await this.started();
    const count = options.workers ?? 1;
    for (let i = 0; i < count; i++) {
      await boss.send(
        this.name,
        { connectionId },
        {
          priority: options.interactive ? JOB_PRIORITY.interactive : JOB_PRIORITY.backfill,
          ...(options.startAfter && options.startAfter.getTime() > Date.now() ? { startAfter: options.startAfter } : {}),
          // pg-boss keeps one job per key and minute: a wake-up many workers ask for is sent once.
          ...(options.oncePerMinute ? { singletonKey: `${connectionId}:${options.oncePerMinute}`, singletonSeconds: 60 } : {}),
        },
      );
    }
    if (this.workerId && !options.startAfter) boss.notifyWorker(this.workerId);
  }

  async stop(): Promise<void> {
    if (!this.boss) return;
    const started = this.boss;
    this.boss = undefined;
    const boss = await started.catch(() => undefined);
    await boss?.stop({ graceful: true, timeout: 20_000, close: true });
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
      // Failures are handled by the work rows themselves (attempts, backoff); a job that threw is retried once.
      await boss.createQueue(this.name, { retryLimit: 1, retryDelay: 5, expireInSeconds: 3600, heartbeatSeconds: 30 });
      return boss;
    })();
    this.boss.catch(() => (this.boss = undefined));
    return this.boss;
  }
}
