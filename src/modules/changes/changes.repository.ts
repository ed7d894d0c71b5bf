import { Injectable } from '@nestjs/common';
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { changeFeedHorizon, changes, type ChangeRow } from '../../database/schema/index.js';
import type { ChangePosition } from './change-cursor.js';

/** What a reader may serve now: rows below `watermark`; what was pruned: up to `horizon`. */
export interface FeedBounds {
  /** The oldest transaction id still running (pg_snapshot_xmin): every row below it is final. */
  watermark: number;
  horizon: ChangePosition;
}

/**
 * Reads and prunes the change feed (docs/data-model.md, "Change feed"); the rows are written by the
 * triggers of src/database/sql/changes.sql.
 */
@Injectable()
export class ChangesRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async bounds(): Promise<FeedBounds> {
    const [row] = await this.db
      .select({
        watermark: sql<string>`pg_snapshot_xmin(pg_current_snapshot())::text`,
        prunedPos: changeFeedHorizon.prunedPos,
        prunedSeq: changeFeedHorizon.prunedSeq,
      })
      .from(changeFeedHorizon)
      .where(eq(changeFeedHorizon.id, 1));
    if (!row) throw new Error('change_feed_horizon has no row: src/database/sql/changes.sql was not applied');
    return { watermark: Number(row.watermark), horizon: { pos: row.prunedPos, seq: row.prunedSeq } };
  }

  /**
   * Up to `limit` rows after `after`, below the watermark, in feed order: one range of the
   * (user_id | athlete_id, pos, seq) index.
   */
  page(scope: { userId: string; athleteId?: string }, after: ChangePosition, watermark: number, limit: number): Promise<ChangeRow[]> {
    return this.db
      .select()
      .from(changes)
      .where(
        and(
          scope.athleteId ? and(eq(changes.athleteId, scope.athleteId), eq(changes.userId, scope.userId)) : eq(changes.userId, scope.userId),
          sql`(${changes.pos}, ${changes.seq}) > (${after.pos}, ${after.seq})`,
          lt(changes.pos, watermark),
        ),
      )
      .orderBy(asc(changes.pos), asc(changes.seq))
      .limit(limit);
  }

  /**
   * Deletes the final rows written before `cutoff`, as one prefix of the feed order, and moves the
   * horizon to its last row. Returns how many rows went.
   */
  async prune(cutoff: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [last] = await tx
        .select({ pos: changes.pos, seq: changes.seq })
        .from(changes)
        .where(and(lt(changes.changedAt, cutoff), sql`${changes.pos} < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`))
        .orderBy(sql`${changes.pos} desc`, sql`${changes.seq} desc`)
        .limit(1);
      if (!last) return 0;
      // Lock the horizon first: readers compare against it, and two pruners take turns.
      await tx.select().from(changeFeedHorizon).where(eq(changeFeedHorizon.id, 1)).for('update');
      const deleted = await tx
        .delete(changes)
        .where(sql`(${changes.pos}, ${changes.seq}) <= (${last.pos}, ${last.seq})`)
        .returning({ seq: changes.seq });
      await tx
        .update(changeFeedHorizon)
        .set({ prunedPos: last.pos, prunedSeq: last.seq, prunedAt: new Date() })
        .where(and(eq(changeFeedHorizon.id, 1), sql`(${changeFeedHorizon.prunedPos}, ${changeFeedHorizon.prunedSeq}) < (${last.pos}, ${last.seq})`));
      return deleted.length;
    });
  }
}
