import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, exists, getTableColumns, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database, Transaction } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { withFlatRowMapper } from '../../database/fast-rows.js';
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

/**
 * The public columns of a summary, and only those: what lists and children select. The payload,
 * its archive pointer and hash and the owner never leave the database for a list (contract-conformance.ts
 * names the same private columns; test/e2e/private-columns.e2e.spec.ts checks no answer carries one).
 */
const {
  sourceData: _sourceData,
  sourceDataReceivedAt: _sourceDataReceivedAt,
  sourceArchiveKey: _sourceArchiveKey,
  sourceArchiveIndex: _sourceArchiveIndex,
  sourceDataHash: _sourceDataHash,
  userId: _userId,
  ...summaryColumns
} = getTableColumns(activities);
export type ActivitySummaryRow = Omit<ActivityRow, 'sourceData' | 'sourceDataReceivedAt' | 'sourceArchiveKey' | 'sourceArchiveIndex' | 'sourceDataHash' | 'userId'>;
/** A timeline row with its start time in whole microseconds, for the next page's cursor. */
export type TimelineRow = ActivitySummaryRow & { startTimeMicros: string };

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

/** Where the previous page ended: start_time at the column's full precision, then id. */
export interface Keyset {
  startTimeMicros: bigint;
  id: string;
}

export type NewStatistic = Pick<ActivityStatisticRow, 'key' | 'value' | 'unit'>;
export type NewEvent = Pick<ActivityEventRow, 'eventType' | 'startTime' | 'endTime' | 'metadata'>;
/** What a re-ingest replaces (§6): the promoted fields and the payload. */
export type ActivityPayload = Partial<Omit<NewActivityRow, 'id' | 'userId' | 'athleteId' | 'parentId' | 'revision' | 'createdAt' | 'updatedAt'>>;

const p = sql.placeholder;
const micros = (column: SQL | typeof activities.startTime) => sql<string>`((extract(epoch from ${column}) * 1000000)::bigint)::text`;
const fromMicros = (value: SQL | ReturnType<typeof p>) => sql`(timestamptz 'epoch' + ${value}::bigint * interval '1 microsecond')`;

/** `'key', alias."column", …` for json_build_object: a row's columns under their camelCase (contract) names. */
const jsonFields = (alias: string, columns: Record<string, { name: string }>) =>
  sql.raw(Object.entries(columns).map(([key, column]) => `'${key}', ${alias}."${column.name}"`).join(', '));

/** A column of the outer `activities` row, qualified: Drizzle leaves columns of a one-table select unqualified, which a subquery would resolve to its own table. */
const outer = (column: { name: string }) => sql.raw(`"activities"."${column.name}"`);

type Json = Record<string, unknown>;
const SUMMARY_TIMES = Object.entries(summaryColumns).filter(([, column]) => column.getSQLType().startsWith('timestamp')).map(([key]) => key);
const SUMMARY_FLOATS = Object.entries(summaryColumns).filter(([, column]) => column.getSQLType() === 'double precision').map(([key]) => key);
/** JSON writes a non-finite float8 as a string ("NaN", "Infinity"); the driver reads the column as Number() of its text. */
const float = (value: unknown) => (typeof value === 'string' ? Number(value) : value) as number;
/** A child as json_build_object wrote it: times back to Dates (the driver's own parse of the same ISO text), floats to numbers. */
function summaryFromJson(json: Json): ActivitySummaryRow {
  const row = { ...json };
  for (const key of SUMMARY_TIMES) if (typeof row[key] === 'string') row[key] = new Date(row[key]);
  for (const key of SUMMARY_FLOATS) row[key] = row[key] === null ? null : float(row[key]);
  return row as unknown as ActivitySummaryRow;
}

/** The detail view's rows, read in one statement (findDetail). */
export interface ActivityDetailRows {
  row: ActivityRow;
  statistics: NewStatistic[];
  events: NewEvent[];
  children: ActivitySummaryRow[];
}

/**
 * Queries on activities and their statistics and events. Every method takes the owning user's id
 * and scopes by it in the SQL itself (activities.user_id, kept right by the composite foreign key
 * to athletes), so no caller can forget an ownership check: a foreign id finds nothing and changes
 * nothing. Why not row-level security: docs/data-model.md, "Ownership".
 */
@Injectable()
export class ActivitiesRepository {
  /** The hot reads of the detail view, built once (Drizzle then skips rebuilding their SQL per call), rows mapped flat (fast-rows.ts). */
  private readonly prepared;

  constructor(@InjectDb() private readonly db: Database) {
    const id = p('id');
    const mine = eq(activities.userId, p('userId'));
    const ownedActivity = (activityId: AnyPgColumn) =>
      exists(db.select({ one: sql`1` }).from(activities).where(and(eq(activities.id, activityId), mine)));
    this.prepared = {
      /**
       * The detail view in one statement (one round trip and one socket write instead of four): the
       * owned row, with its statistics, events and children aggregated as JSON by subqueries scoped
       * through that row (children by its owner too).
       */
      detail: withFlatRowMapper(
        db
          .select({
            ...getTableColumns(activities),
            statistics: sql<Json[]>`coalesce((select json_agg(json_build_object('key', s.key, 'value', s.value, 'unit', s.unit) order by s.key)
              from ${activityStatistics} s where s.activity_id = ${outer(activities.id)}), '[]'::json)`,
            events: sql<Json[]>`coalesce((select json_agg(json_build_object('eventType', e.event_type, 'startTime', e.start_time, 'endTime', e.end_time,
                'metadata', e.metadata) order by e.start_time, e.ordinal, e.id)
              from ${activityEvents} e where e.activity_id = ${outer(activities.id)}), '[]'::json)`,
            children: sql<Json[]>`coalesce((select json_agg(json_build_object(${jsonFields('c', summaryColumns)}) order by c.start_time, c.id)
              from ${activities} c where c.parent_id = ${outer(activities.id)} and c.user_id = ${outer(activities.userId)}), '[]'::json)`,
          })
          .from(activities)
          .where(and(eq(activities.id, id), mine))
          .prepare('activity_detail'),
      ),
      byId: withFlatRowMapper(
        db
          .select()
          .from(activities)
          .where(and(eq(activities.id, id), mine))
          .prepare('activity_by_id'),
      ),
      children: withFlatRowMapper(
        db
          .select(summaryColumns)
          .from(activities)
          .where(and(eq(activities.parentId, id), mine))
          .orderBy(asc(activities.startTime), asc(activities.id))
          .prepare('activity_children'),
      ),
      statistics: withFlatRowMapper(
        db
          .select()
          .from(activityStatistics)
          .where(and(eq(activityStatistics.activityId, id), ownedActivity(activityStatistics.activityId)))
          .orderBy(asc(activityStatistics.key))
          .prepare('activity_statistics'),
      ),
      events: withFlatRowMapper(
        db
          .select()
          .from(activityEvents)
          .where(and(eq(activityEvents.activityId, id), ownedActivity(activityEvents.activityId)))
          .orderBy(asc(activityEvents.startTime), asc(activityEvents.ordinal), asc(activityEvents.id))
          .prepare('activity_events'),
      ),
    };
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async findById(userId: string, id: string): Promise<ActivityRow | undefined> {
    const [row] = await this.prepared.byId.execute({ id, userId });
    return row;
  }

  /** The user's activity with its statistics, events and children (the detail view); undefined for anyone else's. */
  async findDetail(userId: string, id: string): Promise<ActivityDetailRows | undefined> {
    const [found] = await this.prepared.detail.execute({ id, userId });
    if (!found) return undefined;
    const { statistics, events, children, ...row } = found;
    return {
      row,
      statistics: statistics.map((s) => ({ key: s.key as string, value: float(s.value), unit: s.unit as string })),
      events: events.map((e) => ({
        eventType: e.eventType as NewEvent['eventType'],
        startTime: new Date(e.startTime as string),
        endTime: e.endTime === null ? null : new Date(e.endTime as string),
        metadata: e.metadata as NewEvent['metadata'],
      })),
      children: children.map(summaryFromJson),
    };
  }

  async findIdByExternalId(userId: string, athleteId: string, source: string, externalId: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ id: activities.id })
      .from(activities)
      .where(
        and(
          eq(activities.userId, userId),
          eq(activities.athleteId, athleteId),
          eq(activities.source, source as ActivityRow['source']),
          eq(activities.externalId, externalId),
        ),
      );
    return row?.id;
  }

  findChildren(userId: string, parentId: string): Promise<ActivitySummaryRow[]> {
    return this.prepared.children.execute({ id: parentId, userId });
  }

  async countChildren(userId: string, parentId: string): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(activities)
      .where(and(eq(activities.parentId, parentId), eq(activities.userId, userId)));
    return row?.count ?? 0;
  }

  findStatistics(userId: string, activityId: string): Promise<ActivityStatisticRow[]> {
    return this.prepared.statistics.execute({ id: activityId, userId });
  }

  findEvents(userId: string, activityId: string): Promise<ActivityEventRow[]> {
    return this.prepared.events.execute({ id: activityId, userId });
  }

  /**
   * The timeline's WHERE clause. Scalar filters are placeholders, so those queries are prepared once
   * per combination of filters; list filters (types, sources) are bound as IN lists per request.
   * With an athleteId, ownership is an uncorrelated EXISTS on athletes (a one-time filter), so the
   * scan runs on (athlete_id, start_time, id, …) alone and totals can be index-only.
   */
  private where(filter: ActivityFilter, inline: boolean): SQL | undefined {
    const bind = <T>(name: string, value: T) => (inline ? (value as unknown as SQL) : p(name));
    const userId = bind('userId', filter.userId);
    return and(
      filter.athleteId
        ? and(
            eq(activities.athleteId, bind('athleteId', filter.athleteId)),
            exists(this.db.select({ one: sql`1` }).from(athletes).where(and(eq(athletes.id, bind('athleteId', filter.athleteId)), eq(athletes.userId, userId)))),
          )
        : eq(activities.userId, userId),
      filter.activityTypes ? inArray(activities.activityType, filter.activityTypes) : undefined,
      filter.sources ? inArray(activities.source, filter.sources as ActivityRow['source'][]) : undefined,
      filter.startTimeFrom ? gte(activities.startTime, bind('startTimeFrom', filter.startTimeFrom)) : undefined,
      filter.startTimeTo ? lt(activities.startTime, bind('startTimeTo', filter.startTimeTo)) : undefined,
      filter.topLevelOnly ? isNull(activities.parentId) : undefined,
      filter.parentId ? eq(activities.parentId, bind('parentId', filter.parentId)) : undefined,
    );
  }

  private readonly pageQueries = new Map<string, ReturnType<ReturnType<ActivitiesRepository['pageQuery']>['prepare']>>();
  private readonly totalsQueries = new Map<string, ReturnType<ReturnType<ActivitiesRepository['totalsQuery']>['prepare']>>();

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
      userId: filter.userId,
      athleteId: filter.athleteId,
      parentId: filter.parentId,
      startTimeFrom: filter.startTimeFrom?.toISOString(),
      startTimeTo: filter.startTimeTo?.toISOString(),
    };
  }

  /** Lists are bound per request (an IN list's length is part of the SQL); the rest is prepared. */
  private static preparable(filter: ActivityFilter): boolean {
    return !filter.activityTypes && !filter.sources;
  }

  /**
   * Newest first, `order by start_time desc, id desc` — NULLS FIRST, the order of the timeline
   * indexes — and the keyset as one row comparison, so the page is read in index order with no Sort.
   */
  private pageQuery(filter: ActivityFilter, after: Keyset | undefined, limit: number, inline = false) {
    const prepared = !inline && ActivitiesRepository.preparable(filter);
    const afterCursor = after
      ? sql`(${activities.startTime}, ${activities.id}) < (${fromMicros(prepared ? p('afterMicros') : sql`${after.startTimeMicros.toString()}`)}, ${
          prepared ? p('afterId') : after.id
        }::uuid)`
      : undefined;
    return this.db
      .select({ ...summaryColumns, startTimeMicros: micros(activities.startTime) })
      .from(activities)
      .where(and(this.where(filter, !prepared), afterCursor))
      .orderBy(desc(activities.startTime), desc(activities.id))
      .limit(prepared ? p('limit') : limit);
  }

  private totalsQuery(filter: ActivityFilter, inline = false) {
    return this.db
      .select({
        count: sql<number>`count(*)::int`,
        distanceM: sql<number>`coalesce(sum(${activities.distanceM}), 0)::float8`,
        durationS: sql<number>`coalesce(sum(${activities.durationS}), 0)::float8`,
      })
      .from(activities)
      .where(this.where(filter, inline || !ActivitiesRepository.preparable(filter)));
  }

  /** The SQL and parameters of a timeline page and of its totals, for EXPLAIN (test/integration/timeline.spec.ts). */
  timelineSql(filter: ActivityFilter, after: Keyset | undefined, limit: number) {
    return { page: this.pageQuery(filter, after, limit, true).toSQL(), totals: this.totalsQuery(filter, true).toSQL() };
  }

  /** One page of the timeline, newest first, after the keyset `after` (exclusive). */
  findPage(filter: ActivityFilter, after: Keyset | undefined, limit: number): Promise<TimelineRow[]> {
    if (!ActivitiesRepository.preparable(filter)) return this.pageQuery(filter, after, limit);
    const key = `${ActivitiesRepository.shape(filter)}${after ? '_cursor' : ''}`;
    let query = this.pageQueries.get(key);
    if (!query) {
      query = withFlatRowMapper(this.pageQuery(filter, after, limit).prepare(`activity_page_${this.pageQueries.size}`));
      this.pageQueries.set(key, query);
    }
    return query.execute({
      ...ActivitiesRepository.params(filter),
      afterMicros: after?.startTimeMicros.toString(),
      afterId: after?.id,
      limit,
    });
  }

  /**
   * Count, distance and duration of everything the filter matches. Only run when a client asks
   * (includeTotals); unfiltered per-athlete or per-user totals are an index-only scan of the
   * timeline index (duration_s and distance_m are its trailing columns).
   */
  async totals(filter: ActivityFilter): Promise<{ count: number; distanceM: number; durationS: number }> {
    let rows: { count: number; distanceM: number; durationS: number }[];
    if (ActivitiesRepository.preparable(filter)) {
      const key = ActivitiesRepository.shape(filter);
      let query = this.totalsQueries.get(key);
      if (!query) {
        query = this.totalsQuery(filter).prepare(`activity_totals_${this.totalsQueries.size}`);
        this.totalsQueries.set(key, query);
      }
      rows = await query.execute(ActivitiesRepository.params(filter));
    } else {
      rows = await this.totalsQuery(filter);
    }
    return rows[0] ?? { count: 0, distanceM: 0, durationS: 0 };
  }

  /**
   * Inserts an activity of `userId`: the composite foreign key (athlete_id, user_id) refuses an
   * athlete of anyone else, and (parent_id, athlete_id) a parent of another athlete.
   */
  async insert(tx: Transaction, userId: string, values: Omit<NewActivityRow, 'userId'>): Promise<ActivityRow> {
    const [row] = await tx
      .insert(activities)
      .values({ ...values, userId })
      .returning();
    return row!;
  }

  /** Updates the user's activity; undefined when there is none. */
  async update(tx: Transaction, userId: string, id: string, values: Partial<Omit<NewActivityRow, 'userId' | 'athleteId'>>): Promise<ActivityRow | undefined> {
    const [row] = await tx
      .update(activities)
      .set(values)
      .where(and(eq(activities.id, id), eq(activities.userId, userId)))
      .returning();
    return row;
  }

  /**
   * A re-ingest (sync, import) replacing an activity's payload and promoted fields (§6): revision
   * goes up by one in the same statement, sourceData becomes the new payload. Undefined when the
   * user has no such activity.
   */
  async replacePayload(tx: Transaction, userId: string, id: string, values: ActivityPayload): Promise<ActivityRow | undefined> {
    const [row] = await tx
      .update(activities)
      .set({
        ...values,
        revision: sql`${activities.revision} + 1`,
        sourceDataReceivedAt: values.sourceDataReceivedAt ?? new Date(),
        updatedAt: new Date(),
      })
      .where(and(eq(activities.id, id), eq(activities.userId, userId)))
      .returning();
    return row;
  }

  private ownedIds(userId: string, activityId: string) {
    return this.db
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.id, activityId), eq(activities.userId, userId)));
  }

  async replaceStatistics(tx: Transaction, userId: string, activityId: string, statistics: NewStatistic[], replace = true): Promise<void> {
    if (replace) await tx.delete(activityStatistics).where(inArray(activityStatistics.activityId, this.ownedIds(userId, activityId)));
    if (statistics.length === 0) return;
    await tx.execute(sql`
      insert into ${activityStatistics} (activity_id, key, value, unit)
      select a.id, s.key, s.value, s.unit
        from ${activities} a, jsonb_to_recordset(${JSON.stringify(statistics)}::jsonb) as s(key text, value float8, unit text)
       where a.id = ${activityId} and a.user_id = ${userId}`);
  }

  /** Writes the events numbered in the order given (`ordinal`): ties in start time are read back in that order. */
  async replaceEvents(tx: Transaction, userId: string, activityId: string, events: NewEvent[], replace = true): Promise<void> {
    if (replace) await tx.delete(activityEvents).where(inArray(activityEvents.activityId, this.ownedIds(userId, activityId)));
    if (events.length === 0) return;
    const rows = events.map((event, ordinal) => ({
      event_type: event.eventType,
      start_time: event.startTime.toISOString(),
      end_time: event.endTime?.toISOString() ?? null,
      metadata: event.metadata ?? null,
      ordinal,
    }));
    await tx.execute(sql`
      insert into ${activityEvents} (activity_id, event_type, start_time, end_time, metadata, ordinal)
      select a.id, e.event_type, e.start_time, e.end_time, e.metadata, e.ordinal
        from ${activities} a, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             as e(event_type text, start_time timestamptz, end_time timestamptz, metadata jsonb, ordinal integer)
       where a.id = ${activityId} and a.user_id = ${userId}`);
  }

  /** Deletes the user's activity (its children, statistics and events cascade); returns whether it existed. */
  async delete(userId: string, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(activities)
      .where(and(eq(activities.id, id), eq(activities.userId, userId)))
      .returning({ id: activities.id });
    return rows.length > 0;
  }

  /** The activity and its children, if the user owns it; empty otherwise. */
  async findIdsWithChildren(userId: string, id: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: activities.id })
      .from(activities)
      .where(and(or(eq(activities.id, id), eq(activities.parentId, id)), eq(activities.userId, userId)));
    return rows.map((row) => row.id);
  }

  // -------------------------------------------------------------------------------------------
  // Ingest from a provider (sync, issue 11): set-based writes inside the caller's transaction.

  /** The rows a batch may touch, keyed by external id: just what replay detection needs. */
  findBySourceExternalIds(tx: Transaction, userId: string, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]) {
    if (externalIds.length === 0) return Promise.resolve([]);
    return tx
      .select({ id: activities.id, externalId: activities.externalId, sourceDataHash: activities.sourceDataHash, revision: activities.revision })
      .from(activities)
      .where(
        and(
          eq(activities.userId, userId),
          eq(activities.athleteId, athleteId),
          eq(activities.source, source),
          inArray(activities.externalId, [...externalIds]),
        ),
      );
  }

  /**
   * Multi-row INSERT of rows that carry their own ids. The rows travel as one JSON parameter
   * (jsonb_to_recordset): building a statement with 15,000 bind parameters costs more than the
   * insert itself. A concurrent insert of the same external id waits on the unique index, then fails.
   * Every row carries the caller's userId: the composite foreign key (athlete_id, user_id) refuses a
   * row for someone else's athlete.
   */
  async insertMany(tx: Transaction, userId: string, rows: (Omit<NewActivityRow, 'userId'> & { id: string })[]): Promise<void> {
    const owned = rows.map((row) => ({ ...row, userId }));
    for (let i = 0; i < owned.length; i += INSERT_CHUNK) await insertRecordset(tx, activities, owned.slice(i, i + INSERT_CHUNK));
  }

  async updateById(tx: Transaction, userId: string, id: string, values: Partial<Omit<NewActivityRow, 'userId' | 'athleteId'>>): Promise<void> {
    await tx.update(activities).set(values).where(and(eq(activities.id, id), eq(activities.userId, userId)));
  }

  async deleteStatisticsEventsAndChildren(tx: Transaction, userId: string, activityIds: readonly string[]): Promise<void> {
    if (activityIds.length === 0) return;
    const ids = this.ownedIdsIn(tx, userId, activityIds);
    await tx.delete(activityStatistics).where(inArray(activityStatistics.activityId, ids));
    await tx.delete(activityEvents).where(inArray(activityEvents.activityId, ids));
    await tx.delete(activities).where(and(eq(activities.userId, userId), inArray(activities.parentId, [...activityIds])));
  }

  /** Statistics rows of the user's own activities; a row naming anyone else's activity is not written. */
  async insertStatistics(tx: Transaction, userId: string, rows: (NewStatistic & { activityId: string })[]): Promise<void> {
    const owned = await this.onlyOwned(tx, userId, rows);
    for (let i = 0; i < owned.length; i += INSERT_CHUNK * 10) await insertRecordset(tx, activityStatistics, owned.slice(i, i + INSERT_CHUNK * 10));
  }

  /** Events of the user's own activities; a row naming anyone else's activity is not written. */
  async insertEvents(tx: Transaction, userId: string, rows: (NewEvent & { activityId: string })[]): Promise<void> {
    // Each activity's events are numbered in the order given: ties in start time are read back so.
    const next = new Map<string, number>();
    const numbered = rows.map((row) => {
      const ordinal = next.get(row.activityId) ?? 0;
      next.set(row.activityId, ordinal + 1);
      return { ...row, ordinal };
    });
    const owned = await this.onlyOwned(tx, userId, numbered);
    for (let i = 0; i < owned.length; i += INSERT_CHUNK * 10) await insertRecordset(tx, activityEvents, owned.slice(i, i + INSERT_CHUNK * 10));
  }

  /** Deletes by external id (children, statistics and events cascade); returns what was deleted. */
  async deleteBySourceExternalIds(tx: Transaction, userId: string, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]) {
    if (externalIds.length === 0) return [];
    return tx
      .delete(activities)
      .where(
        and(
          eq(activities.userId, userId),
          eq(activities.athleteId, athleteId),
          eq(activities.source, source),
          inArray(activities.externalId, [...externalIds]),
        ),
      )
      .returning({ id: activities.id, externalId: activities.externalId });
  }

  private ownedIdsIn(tx: Transaction, userId: string, activityIds: readonly string[]) {
    return tx
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.userId, userId), inArray(activities.id, [...activityIds])));
  }

  private async onlyOwned<T extends { activityId: string }>(tx: Transaction, userId: string, rows: T[]): Promise<T[]> {
    if (rows.length === 0) return rows;
    const owned = new Set((await this.ownedIdsIn(tx, userId, [...new Set(rows.map((row) => row.activityId))])).map((row) => row.id));
    return rows.filter((row) => owned.has(row.activityId));
  }

  /** Links children to parents named by external id within one athlete and source; a parent must be top-level. */
  async linkParentsByExternalId(
    tx: Transaction,
    userId: string,
    athleteId: string,
    source: ActivityRow['source'],
    links: { childId: string; parentExternalId: string }[],
  ): Promise<void> {
    for (const { childId, parentExternalId } of links) {
      await tx.execute(sql`
        update ${activities} set parent_id = parent.id
        from (select id from ${activities}
              where user_id = ${userId} and athlete_id = ${athleteId} and source = ${source} and external_id = ${parentExternalId} and parent_id is null) as parent
        where ${activities.id} = ${childId} and ${activities.userId} = ${userId} and parent.id <> ${childId}`);
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
