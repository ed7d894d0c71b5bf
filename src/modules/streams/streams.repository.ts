import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { activities, activityStreams, type ActivityStreamRow, type NewActivityStreamRow } from '../../database/schema/index.js';

/** Queries on activity_streams (stream metadata); ownership is checked by the caller through ActivitiesService. */
@Injectable()
export class StreamsRepository {
  private readonly byActivity;

  constructor(@InjectDb() private readonly db: Database) {
    this.byActivity = db
      .select()
      .from(activityStreams)
      .where(eq(activityStreams.activityId, sql.placeholder('activityId')))
      .orderBy(asc(activityStreams.streamType))
      .prepare('streams_by_activity');
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  findByActivity(activityId: string): Promise<ActivityStreamRow[]> {
    return this.byActivity.execute({ activityId });
  }

  async findOne(activityId: string, streamType: string): Promise<ActivityStreamRow | undefined> {
    const [row] = await this.db
      .select()
      .from(activityStreams)
      .where(and(eq(activityStreams.activityId, activityId), eq(activityStreams.streamType, streamType)));
    return row;
  }

  async upsert(tx: Transaction, values: NewActivityStreamRow): Promise<ActivityStreamRow> {
    const { activityId: _activityId, streamType: _streamType, ...changes } = values;
    const [row] = await tx
      .insert(activityStreams)
      .values(values)
      .onConflictDoUpdate({ target: [activityStreams.activityId, activityStreams.streamType], set: { ...changes, updatedAt: new Date() } })
      .returning();
    return row!;
  }

  async delete(tx: Transaction, activityId: string, streamType: string): Promise<string | undefined> {
    const [row] = await tx
      .delete(activityStreams)
      .where(and(eq(activityStreams.activityId, activityId), eq(activityStreams.streamType, streamType)))
      .returning({ objectKey: activityStreams.objectKey });
    return row?.objectKey;
  }

  async objectKeysOfActivities(activityIds: readonly string[]): Promise<string[]> {
    if (activityIds.length === 0) return [];
    const rows = await this.db
      .select({ objectKey: activityStreams.objectKey })
      .from(activityStreams)
      .where(inArray(activityStreams.activityId, [...activityIds]));
    return rows.map((row) => row.objectKey);
  }

  async objectKeysOfAthlete(athleteId: string): Promise<string[]> {
    const rows = await this.db
      .select({ objectKey: activityStreams.objectKey })
      .from(activityStreams)
      .innerJoin(activities, eq(activities.id, activityStreams.activityId))
      .where(eq(activities.athleteId, athleteId));
    return rows.map((row) => row.objectKey);
  }

  /** Every stream row's key and id, for the sweep. */
  allObjectKeys(): Promise<{ id: string; objectKey: string }[]> {
    return this.db.select({ id: activityStreams.id, objectKey: activityStreams.objectKey }).from(activityStreams);
  }

  async deleteByIds(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.db.delete(activityStreams).where(inArray(activityStreams.id, [...ids]));
  }
}
