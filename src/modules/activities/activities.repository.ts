import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, getTableColumns, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Database, Transaction } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import {
  activities,
  activityEvents,
  activityStatistics,
  athletes,
  type ActivityEventRow,
  type ActivityRow,
  type ActivityStatisticRow,
  type NewActivityRow,
} from '../../database/schema/index.js';

/** Every column but the raw payload: what lists and children need. */
const { sourceData: _sourceData, ...summaryColumns } = getTableColumns(activities);
export type ActivitySummaryRow = Omit<ActivityRow, 'sourceData'>;

export interface ActivityFilter {
  userId: string;
  athleteId?: string;
  activityTypes?: string[];
  sources?: string[];
  startTimeFrom?: Date;
  startTimeTo?: Date;
  topLevelOnly?: boolean;
  parentId?: string;
}

export interface Keyset {
  startTime: Date;
  id: string;
}

export type NewStatistic = Pick<ActivityStatisticRow, 'key' | 'value' | 'unit'>;
export type NewEvent = Pick<ActivityEventRow, 'eventType' | 'startTime' | 'endTime' | 'metadata'>;

type Executor = Database | Transaction;

/** Queries on activities and their statistics and events; every read is scoped to the owning user. */
@Injectable()
export class ActivitiesRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  private owned(userId: string): SQL {
    return inArray(activities.athleteId, this.db.select({ id: athletes.id }).from(athletes).where(eq(athletes.userId, userId)));
  }

  async findById(userId: string, id: string, executor: Executor = this.db): Promise<ActivityRow | undefined> {
    const [row] = await executor
      .select(getTableColumns(activities))
      .from(activities)
      .innerJoin(athletes, eq(athletes.id, activities.athleteId))
      .where(and(eq(activities.id, id), eq(athletes.userId, userId)));
    return row;
  }

  async findIdByExternalId(athleteId: string, source: string, externalId: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.source, source as ActivityRow['source']), eq(activities.externalId, externalId)));
    return row?.id;
  }

  findChildren(parentId: string, executor: Executor = this.db): Promise<ActivitySummaryRow[]> {
    return executor
      .select(summaryColumns)
      .from(activities)
      .where(eq(activities.parentId, parentId))
      .orderBy(asc(activities.startTime), asc(activities.id));
  }

  async countChildren(parentId: string, executor: Executor = this.db): Promise<number> {
    const [row] = await executor.select({ count: sql<number>`count(*)::int` }).from(activities).where(eq(activities.parentId, parentId));
    return row?.count ?? 0;
  }

  findStatistics(activityId: string, executor: Executor = this.db): Promise<ActivityStatisticRow[]> {
    return executor.select().from(activityStatistics).where(eq(activityStatistics.activityId, activityId)).orderBy(asc(activityStatistics.key));
  }

  findEvents(activityId: string, executor: Executor = this.db): Promise<ActivityEventRow[]> {
    return executor
      .select()
      .from(activityEvents)
      .where(eq(activityEvents.activityId, activityId))
      .orderBy(asc(activityEvents.startTime), asc(activityEvents.id));
  }

  private where(filter: ActivityFilter): SQL | undefined {
    return and(
      this.owned(filter.userId),
      filter.athleteId ? eq(activities.athleteId, filter.athleteId) : undefined,
      filter.activityTypes ? inArray(activities.activityType, filter.activityTypes) : undefined,
      filter.sources ? inArray(activities.source, filter.sources as ActivityRow['source'][]) : undefined,
      filter.startTimeFrom ? gte(activities.startTime, filter.startTimeFrom) : undefined,
      filter.startTimeTo ? lt(activities.startTime, filter.startTimeTo) : undefined,
      filter.topLevelOnly ? isNull(activities.parentId) : undefined,
      filter.parentId ? eq(activities.parentId, filter.parentId) : undefined,
    );
  }

  /** One page of the timeline, newest first, after the keyset `after` (exclusive). */
  findPage(filter: ActivityFilter, after: Keyset | undefined, limit: number): Promise<ActivitySummaryRow[]> {
    const beforeCursor = after
      ? or(lt(activities.startTime, after.startTime), and(eq(activities.startTime, after.startTime), lt(activities.id, after.id)))
      : undefined;
    return this.db
      .select(summaryColumns)
      .from(activities)
      .where(and(this.where(filter), beforeCursor))
      .orderBy(desc(activities.startTime), desc(activities.id))
      .limit(limit);
  }

  async totals(filter: ActivityFilter): Promise<{ count: number; distanceM: number; durationS: number }> {
    const [row] = await this.db
      .select({
        count: sql<number>`count(*)::int`,
        distanceM: sql<number>`coalesce(sum(${activities.distanceM}), 0)::float8`,
        durationS: sql<number>`coalesce(sum(${activities.durationS}), 0)::float8`,
      })
      .from(activities)
      .where(this.where(filter));
    return row ?? { count: 0, distanceM: 0, durationS: 0 };
  }

  async insert(tx: Transaction, values: NewActivityRow): Promise<ActivityRow> {
    const [row] = await tx.insert(activities).values(values).returning();
    return row!;
  }

  async update(tx: Transaction, id: string, values: Partial<NewActivityRow>): Promise<ActivityRow> {
    const [row] = await tx.update(activities).set(values).where(eq(activities.id, id)).returning();
    return row!;
  }

  async replaceStatistics(tx: Transaction, activityId: string, statistics: NewStatistic[], replace = true): Promise<void> {
    if (replace) await tx.delete(activityStatistics).where(eq(activityStatistics.activityId, activityId));
    if (statistics.length > 0) await tx.insert(activityStatistics).values(statistics.map((s) => ({ ...s, activityId })));
  }

  async replaceEvents(tx: Transaction, activityId: string, events: NewEvent[], replace = true): Promise<void> {
    if (replace) await tx.delete(activityEvents).where(eq(activityEvents.activityId, activityId));
    if (events.length > 0) await tx.insert(activityEvents).values(events.map((e) => ({ ...e, activityId })));
  }

  /** Deletes an activity (its children, statistics and events cascade); returns whether it existed. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(activities).where(eq(activities.id, id)).returning({ id: activities.id });
    return rows.length > 0;
  }

  async findIdsWithChildren(id: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: activities.id })
      .from(activities)
      .where(or(eq(activities.id, id), eq(activities.parentId, id)));
    return rows.map((row) => row.id);
  }
}
