import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { SourcePriorities } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import { ImportQueue } from '../../imports/import-queue.js';
import { DuplicateGroups } from './duplicate-groups.js';

/** The pg-boss queue kind of re-elections (ImportQueue.workOn / sendTo). */
export const REELECTION_JOBS = 'duplicate-reelection';

/**
 * A change of an athlete's source priority (README, "Duplicates across sources"): the primaries of
 * an athlete with at most DUPLICATE_REELECTION_INLINE_MAX groups are re-elected in the request,
 * which answers how many changed; a larger athlete's by a job on the process's one pg-boss
 * (src/modules/imports/import-queue.ts), the answer null, and GET source-priorities shows the job's
 * state (`reelection`) and, once done, the count. Until then the old primaries stand.
 */
@Injectable()
export class PriorityReelection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PriorityReelection');
  private retry: NodeJS.Timeout | undefined;

  constructor(
    readonly groups: DuplicateGroups,
    private readonly queue: ImportQueue,
    @Inject(ENV) private readonly env: Env,
  ) {}

  /** The worker starts in the background (the server boots while the database is unreachable), then re-sends pending re-elections. */
  onApplicationBootstrap(): void {
    void this.startWorker();
  }

  onModuleDestroy(): void {
    if (this.retry) clearTimeout(this.retry);
  }

  private async startWorker(): Promise<void> {
    try {
      await this.queue.workOn(REELECTION_JOBS, (athleteId) => this.run(athleteId));
      if (this.env.IMPORT_WORKERS === 0) return;
      // A job lost between the commit and its send (or sent to a queue nobody serves any more).
      for (const athleteId of await this.groups.pendingReelections()) await this.queue.sendTo(REELECTION_JOBS, athleteId);
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

  /** Stores the priority; re-elects inline (answers the count) or sends a job (answers null). */
  async set(userId: string, athleteId: string, priorities: SourcePriorities): Promise<{ changedPrimaries: number | null }> {
    const result = await this.groups.setPriorities(userId, athleteId, priorities, this.env.DUPLICATE_REELECTION_INLINE_MAX);
    // The priority is committed and the re-election recorded as pending: a send that fails now is
    // sent again by the next boot's sweep (startWorker).
    if (result.changedPrimaries === null) {
      await this.queue.sendTo(REELECTION_JOBS, athleteId).catch((error: unknown) => this.logger.warn(`Re-election of athlete ${athleteId} not queued: ${String(error)}`));
    }
    return result;
  }
}
