import { Injectable } from '@nestjs/common';
import { and, asc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { changeFeedHorizon, changes, type ChangeRow } from '../../database/schema/index.js';
import type { ChangePosition } from './change-cursor.js';

/** What a reader may serve now: rows below `watermark`; what was pruned: up to `horizon`. */
export interface FeedBounds {
  /** The oldest transaction id of this database still running: every row below it is final. */
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
    // The snapshot's xmax first (every id below it was assigned), then the transactions of this
    // database still running among them: read in this order, nothing below the minimum can still
    // be running (docs/data-model.md, "Change feed").
    const [row] = await this.db
      .select({
        xmax: sql<string>`pg_snapshot_xmax(pg_current_snapshot())::text`,
        prunedPos: changeFeedHorizon.prunedPos,
        prunedSeq: changeFeedHorizon.prunedSeq,
      })
      .from(changeFeedHorizon)
      .where(eq(changeFeedHorizon.id, 1));
    if (!row) throw new Error('change_feed_horizon has no row: src/database/sql/changes.sql was not applied');
    return { watermark: await this.oldestRunning(Number(row.xmax)), horizon: { pos: row.prunedPos, seq: row.prunedSeq } };
  }

  /**
   * The smallest of `xmax` and the ids of this database's transactions still running (sessions and
   * prepared transactions). Not pg_snapshot_xmin: that one counts every database of the cluster, so
   * a long transaction elsewhere would stall this feed. pg_stat_activity shows 32-bit ids (visible
   * to every role); each is widened to 64 bits next to `xmax` (running ids lie within 2^31 of it).
   */
  private async oldestRunning(xmax: number): Promise<number> {
    const widen = (xid: SQL) => sql`(${xmax}::bigint + ((${xid}::text::bigint - ${xmax}::bigint % 4294967296 + 6442450944) % 4294967296 - 2147483648))`;
    const [row] = await this.db
      .select({
        watermark: sql<string>`least(
          ${xmax}::bigint,
          (select min(${widen(sql`a.backend_xid`)}) from pg_stat_activity a
             where a.backend_xid is not null and a.datid = (select d.oid from pg_database d where d.datname = current_database())),
          (select min(${widen(sql`p.transaction`)}) from pg_prepared_xacts p where p.database = current_database())
        )::text`,
      })
      .from(sql`(select 1) as one`);
    return Number(row!.watermark);
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
    const { watermark } = await this.bounds();
    return this.db.transaction(async (tx) => {
      const [last] = await tx
        .select({ pos: changes.pos, seq: changes.seq })
        .from(changes)
        .where(and(lt(changes.changedAt, cutoff), lt(changes.pos, watermark)))
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
