import { Injectable } from '@nestjs/common';
import { and, asc, eq, exists, getTableColumns, gt, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import {
  activities,
  originals,
  activityStreams,
  athletes,
  streamObjectDeletions,
  type ActivityStreamRow,
  type NewActivityStreamRow,
} from '../../database/schema/index.js';
import { CURRENT_LAYOUT_SINCE } from '@unified-activity/parquet-streams';
import type { StreamType } from './stream-types.js';

/** The columns a swap leaves as they are: the row's identity and its creation time. */
const SWAP_KEEPS = new Set(['id', 'activityId', 'streamType', 'createdAt', 'updatedAt']);

/** Rows whose object predates its type's current physical layout (CURRENT_LAYOUT_SINCE). */
const outdatedLayout = or(
  and(eq(activityStreams.streamType, 'position'), lt(activityStreams.schemaVersion, CURRENT_LAYOUT_SINCE.position)),
  lt(activityStreams.schemaVersion, CURRENT_LAYOUT_SINCE.scalar),
);

export interface OutdatedStreamRow {
  id: string;
  athleteId: string;
  activityId: string;
  streamType: StreamType;
  objectKey: string;
  schemaVersion: number;
}

/** An entry of the deletion outbox claimed by one drain. */
export interface ClaimedDeletion {
  id: number;
  objectKey: string;
  attempts: number;
  lastError: string | null;
}

/**
 * Queries on activity_streams and its deletion outbox. Every read and write a user can reach is
 * scoped by owner in the query itself (activity_streams → activities → athletes.user_id), so a
 * caller that forgot its ownership check still cannot reach someone else's stream (issue 10).
 */
@Injectable()
export class StreamsRepository {
  private readonly byActivity;
  /** Every stream read starts here: prepared once, not built by Drizzle per request. */
  private readonly one;

  constructor(@InjectDb() private readonly db: Database) {
    const owned = () =>
      db
        .select({ stream: activityStreams })
        .from(activityStreams)
        .innerJoin(activities, eq(activities.id, activityStreams.activityId))
        .innerJoin(athletes, eq(athletes.id, activities.athleteId));
    this.byActivity = owned()
      .where(and(eq(activityStreams.activityId, sql.placeholder('activityId')), eq(athletes.userId, sql.placeholder('userId'))))
      .orderBy(asc(activityStreams.streamType))
      .prepare('streams_by_owned_activity');
    this.one = owned()
      .where(
        and(
          eq(activityStreams.activityId, sql.placeholder('activityId')),
          eq(activityStreams.streamType, sql.placeholder('streamType')),
          eq(athletes.userId, sql.placeholder('userId')),
        ),
      )
      .prepare('stream_by_owned_activity');
  }

  async findByActivity(userId: string, activityId: string): Promise<ActivityStreamRow[]> {
    return (await this.byActivity.execute({ activityId, userId })).map((row) => row.stream);
  }

  async findOne(userId: string, activityId: string, streamType: string): Promise<ActivityStreamRow | undefined> {
    const [row] = await this.one.execute({ activityId, streamType, userId });
    return row?.stream;
  }

  /**
   * The row swap (DATA-MODEL §10): one statement, so one short transaction. Concurrent uploads of the
   * same stream serialise on the row: the last to commit wins, and the trigger queues the key it
   * replaced (the earlier winner's object) for deletion in the same transaction.
   */
  async swap(values: NewActivityStreamRow): Promise<ActivityStreamRow> {
    const { rows } = await this.swapMany([values]);
    return rows[0]!;
  }

  /**
   * Several swaps in one statement (an import stores all streams of an activity at once): each row
   * is upserted and triggers exactly as a swap of its own; every column but the row's identity takes
   * the new value, so nothing of the replaced version's summary survives. `replaced` says whether
   * any row existed before (its object was queued for deletion): a swap that only inserted queued
   * nothing, so the drain need not look (an import's new activity, one drain query less per file).
   */
  async swapMany(values: NewActivityStreamRow[]): Promise<{ rows: ActivityStreamRow[]; replaced: boolean }> {
    if (values.length === 0) return { rows: [], replaced: false };
    const set: Record<string, unknown> = { updatedAt: new Date() };
    for (const [name, column] of Object.entries(getTableColumns(activityStreams))) {
      if (!SWAP_KEEPS.has(name)) set[name] = sql.raw(`excluded."${column.name}"`);
    }
    const returned = await this.db
      .insert(activityStreams)
      .values(values)
      .onConflictDoUpdate({ target: [activityStreams.activityId, activityStreams.streamType], set })
      // xmax is 0 on a freshly inserted row version, the updating transaction's id on an upserted one.
      .returning({ ...getTableColumns(activityStreams), inserted: sql<boolean>`("activity_streams"."xmax" = 0)` });
    return { rows: returned.map(({ inserted: _inserted, ...row }) => row), replaced: returned.some((row) => !row.inserted) };
  }

  /**
   * The upgrade's swap (DATA-MODEL §10): points one row at a new object of the same samples, only
   * while the row still points at `expectedKey` (an upload or a deletion meanwhile wins). The trigger
   * queues the replaced key for deletion in the same transaction, as for any swap.
   */
  async replaceObject(
    id: string,
    expectedKey: string,
    values: Pick<NewActivityStreamRow, 'objectKey' | 'schemaVersion' | 'sampleCount' | 'startTime' | 'endTime' | 'minValue' | 'maxValue' | 'avgValue' | 'byteSize' | 'checksumSha256'>,
  ): Promise<ActivityStreamRow | undefined> {
    const [row] = await this.db
      .update(activityStreams)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(activityStreams.id, id), eq(activityStreams.objectKey, expectedKey)))
      .returning();
    return row;
  }

  /** One page of rows whose object predates its type's current layout (see hasCurrentLayout), in id order, with their athlete. */
  outdatedRowsAfter(afterId: string | undefined, limit: number): Promise<OutdatedStreamRow[]> {
    return this.db
      .select({
        id: activityStreams.id,
        athleteId: activities.athleteId,
        activityId: activityStreams.activityId,
        streamType: activityStreams.streamType,
        objectKey: activityStreams.objectKey,
        schemaVersion: activityStreams.schemaVersion,
      })
      .from(activityStreams)
      .innerJoin(activities, eq(activities.id, activityStreams.activityId))
      .where(and(outdatedLayout, afterId ? gt(activityStreams.id, afterId) : undefined))
      .orderBy(asc(activityStreams.id))
      .limit(limit) as Promise<OutdatedStreamRow[]>;
  }

  async countOutdated(): Promise<number> {
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(activityStreams).where(outdatedLayout);
    return row?.count ?? 0;
  }

  /** Whether any row points at the key (after a failed swap: did it commit after all?). */
  async isReferenced(objectKey: string): Promise<boolean> {
    const [row] = await this.db.select({ id: activityStreams.id }).from(activityStreams).where(eq(activityStreams.objectKey, objectKey));
    return row !== undefined;
  }

  /** Deletes the user's stream row; the trigger queues its object for deletion in the same transaction. */
  async deleteOwned(userId: string, activityId: string, streamType: string): Promise<boolean> {
    const owned = this.db
      .select({ id: activities.id })
      .from(activities)
      .innerJoin(athletes, eq(athletes.id, activities.athleteId))
      .where(and(eq(activities.id, activityId), eq(athletes.userId, userId)));
    const deleted = await this.db
      .delete(activityStreams)
      .where(and(eq(activityStreams.activityId, activityId), eq(activityStreams.streamType, streamType), inArray(activityStreams.activityId, owned)))
      .returning({ id: activityStreams.id });
    return deleted.length > 0;
  }

  /** Queues an object no row points at (the object of an upload whose swap failed). */
  async enqueueDeletion(objectKey: string, reason: 'failed_upload', notBefore = new Date()): Promise<void> {
    await this.db.insert(streamObjectDeletions).values({ objectKey, reason, notBefore }).onConflictDoNothing();
  }

  /**
   * Claims up to `limit` due outbox entries for `leaseMs` (pushing not_before past the lease), so
   * drains on several replicas never work on the same entry. Entries whose key a row points at again
   * (a stream row, or an activity's archived original) are dropped, never deleted: an object a row
   * references is never removed.
   */
  async claimDeletions(limit: number, leaseMs: number): Promise<ClaimedDeletion[]> {
    await this.db
      .delete(streamObjectDeletions)
      .where(
        or(
          exists(this.db.select({ id: activityStreams.id }).from(activityStreams).where(eq(activityStreams.objectKey, streamObjectDeletions.objectKey))),
          // An archived original of a failed import (ImportsRepository.enqueueObjectDeletion) that an activity points at again.
          and(
            sql`${streamObjectDeletions.objectKey} like 'raw/%'`,
            or(
              exists(this.db.select({ id: activities.id }).from(activities).where(eq(activities.sourceArchiveKey, streamObjectDeletions.objectKey))),
              // …or that the athlete's list of originals keeps (a rejected file: no activity points at it).
              exists(this.db.select({ id: originals.id }).from(originals).where(eq(originals.objectKey, streamObjectDeletions.objectKey))),
            ),
          ),
        ),
      );
    const due = this.db
      .select({ id: streamObjectDeletions.id })
      .from(streamObjectDeletions)
      .where(lte(streamObjectDeletions.notBefore, sql`now()`))
      .orderBy(asc(streamObjectDeletions.notBefore))
      .limit(limit)
      .for('update', { skipLocked: true });
    return this.db
      .update(streamObjectDeletions)
      .set({ notBefore: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
      .where(inArray(streamObjectDeletions.id, due))
      .returning({
        id: streamObjectDeletions.id,
        objectKey: streamObjectDeletions.objectKey,
        attempts: streamObjectDeletions.attempts,
        lastError: streamObjectDeletions.lastError,
      });
  }

  async completeDeletions(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.db.delete(streamObjectDeletions).where(inArray(streamObjectDeletions.id, [...ids]));
  }

  async retryDeletions(ids: readonly number[], retryInMs: number, error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(streamObjectDeletions)
      .set({
        attempts: sql`${streamObjectDeletions.attempts} + 1`,
        lastError: error.slice(0, 1000),
        notBefore: sql`now() + ${`${retryInMs} milliseconds`}::interval`,
      })
      .where(inArray(streamObjectDeletions.id, [...ids]));
  }

  async pendingDeletions(): Promise<number> {
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(streamObjectDeletions);
    return row?.count ?? 0;
  }

  /** One page of rows in id order, for the sweep (keyset: constant memory at any size). */
  rowsAfter(afterId: string | undefined, limit: number): Promise<{ id: string; objectKey: string }[]> {
    return this.db
      .select({ id: activityStreams.id, objectKey: activityStreams.objectKey })
      .from(activityStreams)
      .where(afterId ? gt(activityStreams.id, afterId) : undefined)
      .orderBy(asc(activityStreams.id))
      .limit(limit);
  }

  /** Of the given keys, those a row points at. */
  async referencedKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db.select({ objectKey: activityStreams.objectKey }).from(activityStreams).where(inArray(activityStreams.objectKey, [...keys]));
    return new Set(rows.map((row) => row.objectKey));
  }

  /** Of the given keys, those queued in the outbox (the drain owns them; the sweep leaves them alone). */
  async queuedKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db
      .select({ objectKey: streamObjectDeletions.objectKey })
      .from(streamObjectDeletions)
      .where(inArray(streamObjectDeletions.objectKey, [...keys]));
    return new Set(rows.map((row) => row.objectKey));
  }

  /** Of the given (activity, stream type) pairs, those that have a row, as `activityId/streamType`. */
  async streamsWithRows(streams: readonly { activityId: string; streamType: string }[]): Promise<Set<string>> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const valid = streams.filter((stream) => uuid.test(stream.activityId));
    if (valid.length === 0) return new Set();
    const rows = await this.db
      .select({ activityId: activityStreams.activityId, streamType: activityStreams.streamType })
      .from(activityStreams)
      .where(or(...valid.map((stream) => and(eq(activityStreams.activityId, stream.activityId), eq(activityStreams.streamType, stream.streamType)))));
    return new Set(rows.map((row) => `${row.activityId}/${row.streamType}`));
  }

  async deleteByIds(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.db.delete(activityStreams).where(inArray(activityStreams.id, [...ids]));
  }
}
