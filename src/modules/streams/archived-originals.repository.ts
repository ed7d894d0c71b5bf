import { Injectable } from '@nestjs/common';
import { and, asc, countDistinct, eq, gt, inArray, like, notLike } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { activities, originals, streamObjectDeletions } from '../../database/schema/index.js';
import { COMPRESSED_SUFFIX } from './objects/original-encoding.js';

/** Activities pointing at an archived original stored as it arrived, before originals were compressed. */
const uncompressed = and(like(activities.sourceArchiveKey, 'raw/%'), notLike(activities.sourceArchiveKey, `%${COMPRESSED_SUFFIX}`));

/**
 * The activities' pointers at their archived originals (activities.source_archive_key), for the
 * compression of originals stored before it (objects/original-compression.ts).
 */
@Injectable()
export class ArchivedOriginalsRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async countUncompressed(): Promise<number> {
    const [row] = await this.db.select({ count: countDistinct(activities.sourceArchiveKey) }).from(activities).where(uncompressed);
    return row?.count ?? 0;
  }

  /** One page of distinct uncompressed keys in key order (keyset: constant memory at any size). */
  async uncompressedAfter(afterKey: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ key: activities.sourceArchiveKey })
      .from(activities)
      .where(and(uncompressed, afterKey !== undefined ? gt(activities.sourceArchiveKey, afterKey) : undefined))
      .orderBy(asc(activities.sourceArchiveKey))
      .limit(limit);
    return rows.map((row) => row.key!);
  }

  /** Which of `keys` some activity points at. */
  async referencedKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db.selectDistinct({ key: activities.sourceArchiveKey }).from(activities).where(inArray(activities.sourceArchiveKey, [...keys]));
    return new Set(rows.map((row) => row.key!));
  }

  /**
   * Points every activity at `newKey` instead of `oldKey` and queues `oldKey` for deletion, in one
   * transaction: a reader sees either the old pointer (whose object is still there) or the new one,
   * and the old object goes only once nothing points at it (claimDeletions drops an entry whose
   * original an activity points at again). Answers the number of activities switched.
   */
  async switchArchive(oldKey: string, newKey: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const moved = await tx.update(activities).set({ sourceArchiveKey: newKey }).where(eq(activities.sourceArchiveKey, oldKey)).returning({ id: activities.id });
      // The athlete's list of originals points at the same object (a rejected file's only pointer).
      await tx.update(originals).set({ objectKey: newKey }).where(eq(originals.objectKey, oldKey));
      await tx.insert(streamObjectDeletions).values({ objectKey: oldKey, reason: 'superseded' }).onConflictDoNothing();
      return moved.length;
    });
  }
}
