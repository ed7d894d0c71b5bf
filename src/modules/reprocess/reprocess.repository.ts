import { Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, gte, inArray, type SQL } from 'drizzle-orm';
import type { Database, Transaction } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import {
  activities,
  activityEvents,
  activityStatistics,
  activityStreams,
  originals,
  reprocessJobs,
  type ActivityEventRow,
  type ActivityRow,
  type NewReprocessJobRow,
  type OriginalRow,
  type ReprocessJobRow,
} from '../../database/schema/index.js';

/** Which originals a reprocess looks at. */
export interface OriginalFilter {
  athleteId: string;
  sources?: readonly string[];
  since?: Date;
}

/**
 * The reprocess jobs, and what a reprocess reads to compare (originals, the activities derived from
 * them with their statistics, events and stream checksums). Every write of an activity or stream goes
 * through the activities and streams services, never here.
 */
@Injectable()
export class ReprocessRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async insert(row: NewReprocessJobRow): Promise<ReprocessJobRow> {
    const [inserted] = await this.db.insert(reprocessJobs).values(row).returning();
    return inserted!;
  }

  async findById(id: string): Promise<ReprocessJobRow | undefined> {
    const [row] = await this.db.select().from(reprocessJobs).where(eq(reprocessJobs.id, id));
    return row;
  }

  async update(id: string, changes: Partial<NewReprocessJobRow>): Promise<void> {
    await this.db
      .update(reprocessJobs)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(reprocessJobs.id, id));
  }

  private originalsWhere(filter: OriginalFilter, after?: string): SQL | undefined {
    return and(
      eq(originals.athleteId, filter.athleteId),
      filter.sources ? inArray(originals.source, [...filter.sources]) : undefined,
      filter.since ? gte(originals.receivedAt, filter.since) : undefined,
      after ? gt(originals.id, after) : undefined,
    );
  }

  async countOriginals(filter: OriginalFilter): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(originals).where(this.originalsWhere(filter));
    return row?.n ?? 0;
  }

  /** One page of the originals, in id order (a stable walk while rows change status). */
  async originalsPage(filter: OriginalFilter, after: string | undefined, limit: number): Promise<OriginalRow[]> {
    return this.db.select().from(originals).where(this.originalsWhere(filter, after)).orderBy(asc(originals.id)).limit(limit);
  }

  /** The athlete's activities whose newest payload came from this archived object, children after their parents. */
  async activitiesFrom(athleteId: string, objectKey: string): Promise<ActivityRow[]> {
    return this.db
      .select()
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.sourceArchiveKey, objectKey)))
      .orderBy(asc(activities.startTime), asc(activities.id));
  }

  /** The legs of an activity, in start order. */
  async childrenOf(athleteId: string, parentId: string): Promise<ActivityRow[]> {
    return this.db
      .select()
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.parentId, parentId)))
      .orderBy(asc(activities.startTime), asc(activities.id));
  }

  /**
   * Locks the activities a reprocess is about to rewrite (in the caller's transaction) and answers
   * those whose `updated_at` is no longer what the comparison read: changed meanwhile (an edit, a
   * sync batch), so the comparison is stale.
   */
  async lockUnchangedSince(tx: Transaction, read: readonly Pick<ActivityRow, 'id' | 'updatedAt'>[]): Promise<string[]> {
    if (read.length === 0) return [];
    const rows = await tx
      .select({ id: activities.id, updatedAt: activities.updatedAt })
      .from(activities)
      .where(
        inArray(
          activities.id,
          read.map((row) => row.id),
        ),
      )
      .orderBy(asc(activities.id))
      .for('update');
    const now = new Map(rows.map((row) => [row.id, row.updatedAt.getTime()]));
    return read.filter((row) => now.get(row.id) !== row.updatedAt.getTime()).map((row) => row.id);
  }

  async details(activityId: string): Promise<{
    statistics: { key: string; value: number; unit: string }[];
    events: Pick<ActivityEventRow, 'eventType' | 'startTime' | 'endTime' | 'metadata'>[];
    checksums: Map<string, string>;
  }> {
    const [statistics, events, streams] = await Promise.all([
      this.db
        .select({ key: activityStatistics.key, value: activityStatistics.value, unit: activityStatistics.unit })
        .from(activityStatistics)
        .where(eq(activityStatistics.activityId, activityId))
        .orderBy(asc(activityStatistics.key)),
      this.db
        .select({ eventType: activityEvents.eventType, startTime: activityEvents.startTime, endTime: activityEvents.endTime, metadata: activityEvents.metadata })
        .from(activityEvents)
        .where(eq(activityEvents.activityId, activityId))
        .orderBy(asc(activityEvents.ordinal), asc(activityEvents.id)),
      this.db
        .select({ type: activityStreams.streamType, checksum: activityStreams.checksumSha256 })
        .from(activityStreams)
        .where(eq(activityStreams.activityId, activityId)),
    ]);
    return { statistics, events, checksums: new Map(streams.map((s) => [s.type, s.checksum])) };
  }
}
