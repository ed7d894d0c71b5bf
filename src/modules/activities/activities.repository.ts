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

/** Queries on activities and their statistics and events; every read is scoped to the owning user. */
@Injectable()
export class ActivitiesRepository {
  /** The hot reads of the detail view, built once (Drizzle then skips rebuilding their SQL per call). */
  private readonly prepared;

  constructor(@InjectDb() private readonly db: Database) {
    const id = sql.placeholder('id');
    this.prepared = {
      byId: db
        .select(getTableColumns(activities))
        .from(activities)
        .innerJoin(athletes, eq(athletes.id, activities.athleteId))
        .where(and(eq(activities.id, id), eq(athletes.userId, sql.placeholder('userId'))))
        .prepare('activity_by_id'),
      children: db
        .select(summaryColumns)
        .from(activities)
        .where(eq(activities.parentId, id))
        .orderBy(asc(activities.startTime), asc(activities.id))
        .prepare('activity_children'),
      statistics: db
        .select()
        .from(activityStatistics)
        .where(eq(activityStatistics.activityId, id))
        .orderBy(asc(activityStatistics.key))
        .prepare('activity_statistics'),
      events: db
        .select()
        .from(activityEvents)
        .where(eq(activityEvents.activityId, id))
        .orderBy(asc(activityEvents.startTime), asc(activityEvents.id))
        .prepare('activity_events'),
    };
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  private owned(userId: string): SQL {
    return inArray(activities.athleteId, this.db.select({ id: athletes.id }).from(athletes).where(eq(athletes.userId, userId)));
  }

  async findById(userId: string, id: string): Promise<ActivityRow | undefined> {
    const [row] = await this.prepared.byId.execute({ id, userId });
    return row;
  }

  async findIdByExternalId(athleteId: string, source: string, externalId: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.source, source as ActivityRow['source']), eq(activities.externalId, externalId)));
    return row?.id;
  }

  findChildren(parentId: string): Promise<ActivitySummaryRow[]> {
    return this.prepared.children.execute({ id: parentId });
  }

  async countChildren(parentId: string): Promise<number> {
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(activities).where(eq(activities.parentId, parentId));
    return row?.count ?? 0;
  }

  findStatistics(activityId: string): Promise<ActivityStatisticRow[]> {
    return this.prepared.statistics.execute({ id: activityId });
  }

  findEvents(activityId: string): Promise<ActivityEventRow[]> {
    return this.prepared.events.execute({ id: activityId });
  }

  /**
   * The timeline's WHERE clause with a placeholder for each filter present. Queries are prepared once
   * per combination of filters (a handful in practice), so paging builds no SQL per request.
   */
  private where(filter: ActivityFilter): SQL | undefined {
    const p = sql.placeholder;
    return and(
      inArray(activities.athleteId, this.db.select({ id: athletes.id }).from(athletes).where(eq(athletes.userId, p('userId')))),
      filter.athleteId ? eq(activities.athleteId, p('athleteId')) : undefined,
      // One bound parameter per value: a value never becomes SQL or array-literal syntax.
      filter.activityTypes ? inArray(activities.activityType, filter.activityTypes) : undefined,
      filter.sources ? inArray(activities.source, filter.sources as ActivityRow['source'][]) : undefined,
      filter.startTimeFrom ? gte(activities.startTime, p('startTimeFrom')) : undefined,
      filter.startTimeTo ? lt(activities.startTime, p('startTimeTo')) : undefined,
      filter.topLevelOnly ? isNull(activities.parentId) : undefined,
      filter.parentId ? eq(activities.parentId, p('parentId')) : undefined,
    );
  }

  private readonly pageQueries = new Map<string, ReturnType<ActivitiesRepository['preparePage']>>();
  private readonly totalsQueries = new Map<string, ReturnType<ActivitiesRepository['prepareTotals']>>();

  /** Which filters are present; list filters bind their values, so their lengths are part of the shape. */
  private static shape(filter: ActivityFilter): string | undefined {
    // inArray binds its values into the query: such a query is built per request, not prepared.
    if (filter.activityTypes || filter.sources) return undefined;
    const { userId: _userId, ...filters } = filter;
    return Object.entries(filters)
      .filter(([, value]) => value !== undefined && value !== false)
      .map(([key]) => key)
      .sort()
      .join('_');
  }

  private static params(filter: ActivityFilter) {
    return {
      ...filter,
      startTimeFrom: filter.startTimeFrom?.toISOString(),
      startTimeTo: filter.startTimeTo?.toISOString(),
    };
  }

  private preparePage(filter: ActivityFilter, withCursor: boolean, name: string) {
    const p = sql.placeholder;
    const afterCursor = withCursor
      ? sql`(${activities.startTime}, ${activities.id}) < (${p('afterStartTime')}::timestamptz, ${p('afterId')}::uuid)`
      : undefined;
    return this.db
      .select(summaryColumns)
      .from(activities)
      .where(and(this.where(filter), afterCursor))
      .orderBy(desc(activities.startTime), desc(activities.id))
      .limit(p('limit'))
      .prepare(name);
  }

  private prepareTotals(filter: ActivityFilter, name: string) {
    return this.db
      .select({
        count: sql<number>`count(*)::int`,
        distanceM: sql<number>`coalesce(sum(${activities.distanceM}), 0)::float8`,
        durationS: sql<number>`coalesce(sum(${activities.durationS}), 0)::float8`,
      })
      .from(activities)
      .where(this.where(filter))
      .prepare(name);
  }

  /** One page of the timeline, newest first, after the keyset `after` (exclusive). */
  findPage(filter: ActivityFilter, after: Keyset | undefined, limit: number): Promise<ActivitySummaryRow[]> {
    const shape = ActivitiesRepository.shape(filter);
    const key = `${shape}${after ? '_cursor' : ''}`;
    let query = shape === undefined ? undefined : this.pageQueries.get(key);
    if (shape === undefined) {
      query = this.preparePage(filter, after !== undefined, 'activity_page_listed');
    } else if (!query) {
      query = this.preparePage(filter, after !== undefined, `activity_page_${this.pageQueries.size}`);
      this.pageQueries.set(key, query);
    }
    return query.execute({
      ...ActivitiesRepository.params(filter),
      afterStartTime: after?.startTime.toISOString(),
      afterId: after?.id,
      limit,
    });
  }

  async totals(filter: ActivityFilter): Promise<{ count: number; distanceM: number; durationS: number }> {
    const key = ActivitiesRepository.shape(filter);
    let query = key === undefined ? undefined : this.totalsQueries.get(key);
    if (key === undefined) {
      query = this.prepareTotals(filter, 'activity_totals_listed');
    } else if (!query) {
      query = this.prepareTotals(filter, `activity_totals_${this.totalsQueries.size}`);
      this.totalsQueries.set(key, query);
    }
    const [row] = await query.execute(ActivitiesRepository.params(filter));
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
