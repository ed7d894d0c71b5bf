import { Injectable } from '@nestjs/common';
import { and, asc, eq, exists, getTableColumns, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database, Transaction } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { withFlatRowMapper } from '../../database/fast-rows.js';
import { activities, activityEvents, activityStatistics, type ActivityEventRow, type ActivityRow, type ActivityStatisticRow, type NewActivityRow } from '../../database/schema/index.js';
import { summaryColumns, type ActivityPayload, type ActivitySummaryRow, type NewEvent, type NewStatistic } from './activity-rows.js';
import { executedRows } from '../../database/executed-rows.js';

const p = sql.placeholder;

/** `'key', alias."column", …` for json_build_object: a row's columns under their camelCase (contract) names. */
const jsonFields = (alias: string, columns: Record<string, { name: string }>) =>
  sql.raw(Object.entries(columns).map(([key, column]) => `'${key}', ${alias}."${column.name}"`).join(', '));

/** A column of the outer `activities` row, qualified: Drizzle leaves columns of a one-table select unqualified, which a subquery would resolve to its own table. */
const outer = (column: { name: string }) => sql.raw(`"activities"."${column.name}"`);

type Json = Record<string, unknown>;

const ACTIVITY_COLUMNS = Object.entries(getTableColumns(activities));
/** An activities row as the driver answered it (column names, driver values), decoded as Drizzle's `returning()` decodes it. */
function activityFromDriver(raw: Record<string, unknown>): ActivityRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of ACTIVITY_COLUMNS) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as ActivityRow;
}
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
  duplicates: DuplicateMember[];
}

/** Another member of a duplicate group, as the detail view lists it. */
export interface DuplicateMember {
  id: string;
  source: ActivityRow['source'];
  externalId: string | null;
  sourceActivityType: string | null;
  startTime: Date;
  durationS: number | null;
  distanceM: number | null;
}

/**
 * Queries on one user's activities by id — the detail view, create, edit, delete — and their
 * statistics and events. Every method takes the owning user's id and scopes by it in the SQL itself
 * (activities.user_id, kept right by the composite foreign key to athletes), so no caller can forget
 * an ownership check: a foreign id finds nothing and changes nothing. Why not row-level security:
 * docs/data-model.md, "Ownership". The timeline is activity-timeline.query.ts; the set-based
 * writes of an ingest by external id are activity-ingest.repository.ts.
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
            // The other members of its duplicate group: those naming its primary, and the primary itself.
            duplicates: sql<Json[]>`coalesce((select json_agg(json_build_object('id', d.id, 'source', d.source, 'externalId', d.external_id,
                'sourceActivityType', d.source_activity_type, 'startTime', d.start_time, 'durationS', d.duration_s, 'distanceM', d.distance_m) order by d.start_time, d.id)
              from ${activities} d where d.user_id = ${outer(activities.userId)} and d.id <> ${outer(activities.id)}
                and (d.duplicate_of = coalesce(${outer(activities.duplicateOf)}, ${outer(activities.id)}) or d.id = ${outer(activities.duplicateOf)})), '[]'::json)`,
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
      /** An import's first question (is this file, by its sha256, already here?): one per file. */
      idByExternalId: db
        .select({ id: activities.id })
        .from(activities)
        .where(and(mine, eq(activities.athleteId, p('athleteId')), eq(activities.source, p('source')), eq(activities.externalId, p('externalId'))))
        .prepare('activity_id_by_external_id'),
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
    const { statistics, events, children, duplicates, ...row } = found;
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
      duplicates: duplicates.map((d) => ({
        id: d.id as string,
        source: d.source as ActivityRow['source'],
        externalId: d.externalId as string | null,
        sourceActivityType: d.sourceActivityType as string | null,
        startTime: new Date(d.startTime as string),
        durationS: d.durationS === null ? null : float(d.durationS),
        distanceM: d.distanceM === null ? null : float(d.distanceM),
      })),
    };
  }

  async findIdByExternalId(userId: string, athleteId: string, source: string, externalId: string): Promise<string | undefined> {
    const [row] = await this.prepared.idByExternalId.execute({ userId, athleteId, source, externalId });
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
   * Inserts an activity of `userId`: the composite foreign key (athlete_id, user_id) refuses an
   * athlete of anyone else, and (parent_id, athlete_id) a parent of another athlete. Its statistics
   * and events, when it has any, are written by the same statement (data-modifying CTEs reading the
   * inserted row): one statement per activity instead of two (issue 24, item 4; an import writes
   * one activity per file).
   */
  async insert(tx: Transaction, userId: string, values: Omit<NewActivityRow, 'userId'>, statistics: NewStatistic[] = [], events: NewEvent[] = []): Promise<ActivityRow> {
    const insert = tx
      .insert(activities)
      .values({ ...values, userId })
      .returning();
    if (statistics.length === 0 && events.length === 0) return (await insert)[0]!;
    const result = await tx.execute(sql`
      with inserted as (${insert.getSQL()}), written_statistics as (
        insert into ${activityStatistics} (activity_id, key, value, unit)
        select inserted.id, s.key, s.value, s.unit
          from inserted, jsonb_to_recordset(${JSON.stringify(statistics)}::jsonb) as s(key text, value float8, unit text)
      ), written_events as (
        insert into ${activityEvents} (activity_id, event_type, start_time, end_time, metadata, ordinal)
        select inserted.id, e.event_type, e.start_time, e.end_time, e.metadata, e.ordinal
          from inserted, jsonb_to_recordset(${JSON.stringify(eventRows(events))}::jsonb)
               as e(event_type text, start_time timestamptz, end_time timestamptz, metadata jsonb, ordinal integer)
      )
      select * from inserted`);
    return activityFromDriver(executedRows<Record<string, unknown>>(result)[0]!);
  }

  /** Updates the user's activity (an edit, a re-ingest, its payload's hash); false when the user has no such activity. */
  async update(tx: Transaction, userId: string, id: string, values: Partial<Omit<NewActivityRow, 'userId' | 'athleteId' | 'editedFields'>> & { editedFields?: string[] | SQL<string[]> }): Promise<boolean> {
    const rows = await tx
      .update(activities)
      .set(values)
      .where(and(eq(activities.id, id), eq(activities.userId, userId)))
      .returning({ id: activities.id });
    return rows.length > 0;
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
    const rows = eventRows(events);
    await tx.execute(sql`
      insert into ${activityEvents} (activity_id, event_type, start_time, end_time, metadata, ordinal)
      select a.id, e.event_type, e.start_time, e.end_time, e.metadata, e.ordinal
        from ${activities} a, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             as e(event_type text, start_time timestamptz, end_time timestamptz, metadata jsonb, ordinal integer)
       where a.id = ${activityId} and a.user_id = ${userId}`);
  }

  /** Deletes the user's activity (its children, statistics and events cascade); returns whether it existed. */
  async delete(userId: string, id: string, tx: Database | Transaction = this.db): Promise<boolean> {
    const rows = await tx
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
}

/** Events as the rows jsonb_to_recordset reads, numbered in the order given. */
function eventRows(events: NewEvent[]) {
  return events.map((event, ordinal) => ({
    event_type: event.eventType,
    start_time: event.startTime.toISOString(),
    end_time: event.endTime?.toISOString() ?? null,
    metadata: event.metadata ?? null,
    ordinal,
  }));
}
