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
      filter.activityTypes ? sql`${activities.activityType} = any(${p('activityTypes')}::text[])` : undefined,
      filter.sources ? sql`${activities.source} = any(${p('sources')}::text[])` : undefined,
      filter.startTimeFrom ? gte(activities.startTime, p('startTimeFrom')) : undefined,
      filter.startTimeTo ? lt(activities.startTime, p('startTimeTo')) : undefined,
      filter.topLevelOnly ? isNull(activities.parentId) : undefined,
      filter.parentId ? eq(activities.parentId, p('parentId')) : undefined,
    );
  }

  private readonly pageQueries = new Map<string, ReturnType<ActivitiesRepository['preparePage']>>();
  private readonly totalsQueries = new Map<string, ReturnType<ActivitiesRepository['prepareTotals']>>();

  private static shape(filter: ActivityFilter): string {
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
      // Arrays travel as one text[] parameter; the driver cannot bind a JS array to `any($n)` itself.
      activityTypes: filter.activityTypes && `{${filter.activityTypes.map((v) => `"${v}"`).join(',')}}`,
      sources: filter.sources && `{${filter.sources.map((v) => `"${v}"`).join(',')}}`,
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
    const key = `${ActivitiesRepository.shape(filter)}${after ? '_cursor' : ''}`;
    let query = this.pageQueries.get(key);
    if (!query) {
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
    let query = this.totalsQueries.get(key);
    if (!query) {
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

  // -------------------------------------------------------------------------------------------
  // Ingest from a provider (sync, issue 11): set-based writes inside the caller's transaction.

  /** The rows a batch may touch, keyed by external id: just what replay detection needs. */
  findBySourceExternalIds(tx: Transaction, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]) {
    if (externalIds.length === 0) return Promise.resolve([]);
    return tx
      .select({ id: activities.id, externalId: activities.externalId, sourceDataHash: activities.sourceDataHash, revision: activities.revision })
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.source, source), inArray(activities.externalId, [...externalIds])));
  }

  /**
   * Multi-row INSERT of rows that carry their own ids. The rows travel as one JSON parameter
   * (jsonb_to_recordset): building a statement with 15,000 bind parameters costs more than the
   * insert itself. A concurrent insert of the same external id waits on the unique index, then fails.
   */
  async insertMany(tx: Transaction, rows: (NewActivityRow & { id: string })[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insertRecordset(tx, activities, rows.slice(i, i + INSERT_CHUNK));
  }

  async updateById(tx: Transaction, id: string, values: Partial<NewActivityRow>): Promise<void> {
    await tx.update(activities).set(values).where(eq(activities.id, id));
  }

  async deleteStatisticsEventsAndChildren(tx: Transaction, activityIds: readonly string[]): Promise<void> {
    if (activityIds.length === 0) return;
    const ids = [...activityIds];
    await tx.delete(activityStatistics).where(inArray(activityStatistics.activityId, ids));
    await tx.delete(activityEvents).where(inArray(activityEvents.activityId, ids));
    await tx.delete(activities).where(inArray(activities.parentId, ids));
  }

  async insertStatistics(tx: Transaction, rows: (NewStatistic & { activityId: string })[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK * 10) await insertRecordset(tx, activityStatistics, rows.slice(i, i + INSERT_CHUNK * 10));
  }

  async insertEvents(tx: Transaction, rows: (NewEvent & { activityId: string })[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK * 10) await insertRecordset(tx, activityEvents, rows.slice(i, i + INSERT_CHUNK * 10));
  }

  /** Deletes by external id (children, statistics and events cascade); returns what was deleted. */
  async deleteBySourceExternalIds(tx: Transaction, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]) {
    if (externalIds.length === 0) return [];
    return tx
      .delete(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.source, source), inArray(activities.externalId, [...externalIds])))
      .returning({ id: activities.id, externalId: activities.externalId });
  }

  /** Ids of the activities (and their children) a delete by external id would remove, for object cleanup. */
  async findIdsBySourceExternalIds(tx: Transaction, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]): Promise<string[]> {
    if (externalIds.length === 0) return [];
    const parents = tx
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), eq(activities.source, source), inArray(activities.externalId, [...externalIds])));
    const rows = await tx
      .select({ id: activities.id })
      .from(activities)
      .where(or(inArray(activities.id, parents), inArray(activities.parentId, parents)));
    return rows.map((row) => row.id);
  }

  /** Links children to parents named by external id within one athlete and source; a parent must be top-level. */
  async linkParentsByExternalId(tx: Transaction, athleteId: string, source: ActivityRow['source'], links: { childId: string; parentExternalId: string }[]): Promise<void> {
    for (const { childId, parentExternalId } of links) {
      await tx.execute(sql`
        update ${activities} set parent_id = parent.id
        from (select id from ${activities}
              where athlete_id = ${athleteId} and source = ${source} and external_id = ${parentExternalId} and parent_id is null) as parent
        where ${activities.id} = ${childId} and parent.id <> ${childId}`);
    }
  }
}

const INSERT_CHUNK = 500;

/** INSERT … SELECT FROM jsonb_to_recordset($1): the columns are the union of the rows' keys, typed from the table. */
async function insertRecordset(tx: Transaction, table: typeof activities | typeof activityStatistics | typeof activityEvents, rows: object[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = getTableColumns(table) as Record<string, { name: string; getSQLType(): string }>;
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((key) => columns[key]);
  const names = keys.map((key) => `"${columns[key]!.name}"`);
  const definitions = keys.map((key) => `"${columns[key]!.name}" ${columns[key]!.getSQLType()}`);
  const json = JSON.stringify(
    rows.map((row) => Object.fromEntries(keys.map((key) => [columns[key]!.name, (row as Record<string, unknown>)[key] ?? null]))),
  );
  await tx.execute(
    sql`insert into ${table} (${sql.raw(names.join(', '))}) select ${sql.raw(names.join(', '))} from jsonb_to_recordset(${json}::jsonb) as r(${sql.raw(definitions.join(', '))})`,
  );
}
