import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { ChangesPage } from '@unified-activity/contract';
import { settleWithin } from '../../common/settle-within.js';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import type { ChangeRow } from '../../database/schema/index.js';
import { malformedRequest } from '../api/errors.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { compareChangePositions, decodeChangeCursor, encodeChangeCursor, type ChangePosition } from './change-cursor.js';
import { ChangesRepository } from './changes.repository.js';

const DEFAULT_LIMIT = 100;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often a process prunes the feed (also once at start). */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export const toChange = (row: ChangeRow): ChangesPage['items'][number] => ({
  cursor: encodeChangeCursor(row),
  entity: row.entity,
  op: row.op,
  id: row.entityId,
  activityId: row.activityId,
  athleteId: row.athleteId,
  revision: row.op === 'delete' ? null : row.revision,
  changedAt: row.changedAt,
});

/** The change feed (README "Following changes"; docs/data-model.md, "Change feed"). */
@Injectable()
export class ChangesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Changes');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly repository: ChangesRepository,
    private readonly athletes: AthletesService,
  ) {}

  async list(userId: string, input: { athleteId?: string; since?: string; limit?: number }): Promise<ChangesPage> {
    const since = input.since === undefined ? undefined : decodeChangeCursor(input.since);
    if (input.since !== undefined && !since) throw malformedRequest([{ path: ['since'], message: 'is not a cursor of this feed' }]);
    if (input.athleteId) await this.athletes.assertOwned(userId, input.athleteId);
    const bounds = await this.repository.bounds();
    // Everything below the watermark is final: the current end is just before the first row at it.
    const end: ChangePosition = { pos: bounds.watermark, seq: 0 };
    if (!since) return { items: [], nextCursor: encodeChangeCursor(end), hasMore: false };
    if (compareChangePositions(since, bounds.horizon) < 0) {
      throw new ORPCError('CURSOR_EXPIRED', {
        status: 410,
        message: 'The cursor is older than the feed keeps: read the timeline again, then follow the feed from a fresh cursor',
        data: { retentionDays: this.env.CHANGE_RETENTION_DAYS },
      });
    }
    const limit = input.limit ?? DEFAULT_LIMIT;
    const rows = await this.repository.page({ userId, athleteId: input.athleteId }, since, bounds.watermark, limit + 1);
    const hasMore = rows.length > limit;
    const items = rows.slice(0, limit).map(toChange);
    const last = rows[Math.min(rows.length, limit) - 1];
    // An empty page moves the cursor up to the watermark (nothing of this scope lies between), so a
    // quiet reader's cursor stays young and does not expire.
    const next = last ?? (compareChangePositions(end, since) > 0 ? end : since);
    return { items, nextCursor: encodeChangeCursor(next), hasMore };
  }

  /** Deletes what is older than CHANGE_RETENTION_DAYS; cursors before it then answer 410. */
  prune(now = new Date()): Promise<number> {
    return this.repository.prune(new Date(now.getTime() - this.env.CHANGE_RETENTION_DAYS * DAY_MS));
  }

  onApplicationBootstrap(): void {
    const run = () => {
      if (this.running) return;
      this.running = this.prune().then(
        (count) => count > 0 && this.logger.log(`Pruned ${count} change(s) older than ${this.env.CHANGE_RETENTION_DAYS} days`),
        (error: unknown) => this.logger.warn(`Pruning the change feed failed: ${error instanceof Error ? error.message : String(error)}`),
      ).finally(() => (this.running = undefined));
    };
    this.timer = setInterval(run, PRUNE_INTERVAL_MS);
    this.timer.unref();
    run();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await settleWithin(this.running);
  }
}
