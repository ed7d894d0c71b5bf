import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { SourcePriorities } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { PgBoss } from 'pg-boss';
import { ImportQueue } from '../../imports/import-queue.js';
import { DuplicateGroups } from './duplicate-groups.js';

/**
 * The pg-boss queue of re-elections. One name for every process on the database: a job needs
 * nothing but the database, so any replica may run it.
 */
export const REELECTION_QUEUE = 'duplicate-reelection';

/**
 * How often an idle worker looks for jobs it was not woken for (another replica's, a retry): the
 * process that sends a job wakes its own worker at once, so a rare poll adds no delay there and
 * next to nothing to an idle server's queries (bench:footprint).
 */
const REELECTION_POLL_SECONDS = 60;

/**
 * A change of an athlete's source priority (README, "Duplicates across sources"): the primaries of
 * an athlete with at most DUPLICATE_REELECTION_INLINE_MAX groups are re-elected in the request,
 * which answers how many changed; a larger athlete's by a job on the process's one pg-boss
 * (src/modules/imports/import-queue.ts), the answer null, and GET source-priorities shows the job's
 * state (`reelection`) and, once done, the count. Until then the old primaries stand. A process
 * with IMPORT_WORKERS=0 sends jobs but runs none, like imports and exports.
 */
@Injectable()
export class PriorityReelection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PriorityReelection');
  private retry: NodeJS.Timeout | undefined;
  private workerId: string | undefined;

  constructor(
    readonly groups: DuplicateGroups,
    private readonly queue: ImportQueue,
    @Inject(ENV) private readonly env: Env,
  ) {}

  /** The worker starts in the background (the server boots while the database is unreachable), then re-sends pending re-elections. */
  onApplicationBootstrap(): void {
    void this.startWorker();
  }

  /** Stops this queue's worker (a running re-election finishes first); the boss stops with the import queue. */
  async onModuleDestroy(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    if (!this.workerId) return;
    this.workerId = undefined;
    const boss = await this.queue.running()?.catch(() => undefined);
    await boss?.offWork(REELECTION_QUEUE, { wait: true }).catch(() => undefined);
  }

  private started(): Promise<PgBoss> {
    return this.queue.sharedBoss(REELECTION_QUEUE, { retryLimit: 3, retryDelay: 5, expireInSeconds: 3600, heartbeatSeconds: 30 });
  }

  private async startWorker(): Promise<void> {
    if (this.env.IMPORT_WORKERS === 0) return;
    try {
      const boss = await this.started();
      this.workerId = await this.queue.startWorker<{ athleteId: string }>(
        boss,
        REELECTION_QUEUE,
        { localConcurrency: 1, atLeastSeconds: REELECTION_POLL_SECONDS },
        (data) => this.run(data.athleteId),
      );
      // A job lost between the commit and its send.
      for (const athleteId of await this.groups.pendingReelections()) await this.send(athleteId);
    } catch (error) {
      this.logger.warn(`Re-election jobs not started yet (retrying in 5 s): ${error instanceof Error ? error.message : String(error)}`);
      this.retry = setTimeout(() => void this.startWorker(), 5_000);
      this.retry.unref();
    }
  }

  private async run(athleteId: string): Promise<void> {
    const done = await this.groups.reelectPending(athleteId);
    if (done) this.logger.log(`Re-elected the primaries of athlete ${athleteId}: ${done.changedPrimaries} changed`);
  }

  private async send(athleteId: string): Promise<void> {
    const boss = await this.started();
    await this.queue.sendJob(boss, REELECTION_QUEUE, { athleteId });
  }

  /** Stores the priority; re-elects inline (answers the count) or sends a job (answers null). */
  async set(userId: string, athleteId: string, priorities: SourcePriorities): Promise<{ changedPrimaries: number | null }> {
    const result = await this.groups.setPriorities(userId, athleteId, priorities, this.env.DUPLICATE_REELECTION_INLINE_MAX);
    // The priority is committed and the re-election recorded as pending: a send that fails now is
    // sent again by the next boot's sweep (startWorker).
    if (result.changedPrimaries === null) {
      await this.send(athleteId).catch((error: unknown) => this.logger.warn(`Re-election of athlete ${athleteId} not queued: ${String(error)}`));
    }
    return result;
  }
}
