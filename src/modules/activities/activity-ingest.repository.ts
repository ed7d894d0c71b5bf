import { Injectable } from '@nestjs/common';
import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Transaction } from '../../database/database.js';
import { activities, activityEvents, activityStatistics, type ActivityRow, type NewActivityRow } from '../../database/schema/index.js';
import type { NewEvent, NewStatistic } from './activity-rows.js';

/** The user's activities of one athlete and source with these external ids. */
const ofSourceExternalIds = (userId: string, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]) =>
  and(eq(activities.userId, userId), eq(activities.athleteId, athleteId), eq(activities.source, source), inArray(activities.externalId, [...externalIds]));

/**
 * An ingest from a provider or a file (sync, imports): set-based writes keyed by external id,
 * inside the caller's transaction. Every method takes the owning user's id and scopes by it in the
 * SQL itself, as ActivitiesRepository does (docs/data-model.md, "Ownership").
 */
@Injectable()
export class ActivityIngestRepository {
  /** The rows a batch may touch, keyed by external id: just what replay detection needs. */
  findBySourceExternalIds(tx: Transaction, userId: string, athleteId: string, source: ActivityRow['source'], externalIds: readonly string[]) {
    if (externalIds.length === 0) return Promise.resolve([]);
    return tx
      .select({ id: activities.id, externalId: activities.externalId, sourceDataHash: activities.sourceDataHash, revision: activities.revision })
      .from(activities)
      .where(ofSourceExternalIds(userId, athleteId, source, externalIds));
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
      .where(ofSourceExternalIds(userId, athleteId, source, externalIds))
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
