import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { PgBoss } from 'pg-boss';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import { ImportQueue } from '../../imports/import-queue.js';

/**
 * A job calls the Garmin API the process is configured for: the queue is named after it, so two
 * test apps (or deployments) with different Garmin hosts on one database never take each other's jobs.
 */
export function garminBackfillQueueName(env: Env): string {
  return `garmin-backfill-${createHash('sha256').update(`${env.GARMIN_API_URL}\n${env.GARMIN_CLIENT_ID ?? ''}`).digest('hex').slice(0, 16)}`;
}

/**
 * The Garmin backfill jobs (one per connection: request its history window by window), on the
 * process's one pg-boss (ImportQueue.sharedBoss, src/modules/imports/import-queue.ts): a job
 * outlives the process that sent it, a failed one is retried, a rate-limited one waits (startAfter).
 */
@Injectable()
export class GarminBackfillQueue {
  private readonly queue: string;
  private workerId: string | undefined;

  constructor(
    @Inject(ENV) env: Env,
    private readonly jobs: ImportQueue,
  ) {
    this.queue = garminBackfillQueueName(env);
  }

  async work(handler: (connectionId: string) => Promise<void>): Promise<void> {
    const boss = await this.started();
    this.workerId = await this.jobs.startWorker<{ connectionId: string }>(boss, this.queue, { localConcurrency: 1 }, (data) => handler(data.connectionId));
  }

  /** A job for the connection, now or (rate limited) from `startAfter`, when this process's worker is woken for it (ImportQueue.sendJob). Two jobs of one connection are harmless: progress is in its row, and Garmin refuses a window twice (409). */
  async send(connectionId: string, startAfter?: Date): Promise<void> {
    const boss = await this.started();
    await this.jobs.sendJob(boss, this.queue, { connectionId }, startAfter ? { startAfter } : {});
  }

  /** Stops this queue's worker (its running job finishes first); the boss stops with the import queue. */
  async stop(): Promise<void> {
    if (!this.workerId) return;
    this.workerId = undefined;
    const boss = await this.jobs.running()?.catch(() => undefined);
    await boss?.offWork(this.queue, { wait: true }).catch(() => undefined);
  }

  private started(): Promise<PgBoss> {
    return this.jobs.sharedBoss(this.queue, { retryLimit: 5, retryDelay: 30, retryBackoff: true, expireInSeconds: 3600, heartbeatSeconds: 30 });
  }
}
