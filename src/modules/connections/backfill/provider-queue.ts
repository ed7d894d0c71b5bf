import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { PgBoss } from 'pg-boss';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import { ImportQueue } from '../../imports/import-queue.js';

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
 * The wake-ups of provider work, on the process's one pg-boss (ImportQueue.sharedBoss): a job only names a
 * connection; what to do is in its provider_sync_items rows, so a job run twice or by another
 * replica does no harm. A job deferred (`startAfter`) is how a rate-limited connection waits for the
 * next window without holding a worker.
 */
@Injectable()
export class ProviderQueue {
  readonly name: string;
  private workerId: string | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly jobs: ImportQueue,
  ) {
    this.name = providerQueueName(env);
  }

  async work(handler: (connectionId: string) => Promise<void>): Promise<void> {
    if (this.env.CONNECTION_WORKERS === 0) return;
    const boss = await this.started();
    this.workerId = await this.jobs.startWorker<{ connectionId: string }>(
      boss,
      this.name,
      { localConcurrency: this.env.CONNECTION_WORKERS, priority: true },
      (data) => handler(data.connectionId),
    );
  }

  /** Wakes the connection's work now, or at `startAfter` (this process's workers are woken then: ImportQueue.sendJob); `workers` jobs so that many may run it at once. */
  async wake(connectionId: string, options: { startAfter?: Date; interactive?: boolean; workers?: number; oncePerMinute?: string } = {}): Promise<void> {
    const boss = await this.started();
    const count = options.workers ?? 1;
    for (let i = 0; i < count; i++) {
      await this.jobs.sendJob(
        boss,
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
  }

  /** Stops this queue's worker (running jobs finish first); the boss stops with the import queue. */
  async stop(): Promise<void> {
    if (!this.workerId) return;
    this.workerId = undefined;
    const boss = await this.jobs.running()?.catch(() => undefined);
    await boss?.offWork(this.name, { wait: true }).catch(() => undefined);
  }

  private started(): Promise<PgBoss> {
    // Failures are handled by the work rows themselves (attempts, backoff); a job that threw is retried once.
    return this.jobs.sharedBoss(this.name, { retryLimit: 1, retryDelay: 5, expireInSeconds: 3600, heartbeatSeconds: 30 });
  }
}
