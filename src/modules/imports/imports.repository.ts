import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { activities, importJobs, streamObjectDeletions, type ImportJobRow, type NewImportJobRow } from '../../database/schema/index.js';

@Injectable()
export class ImportsRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async insertJob(row: NewImportJobRow): Promise<ImportJobRow> {
    const [inserted] = await this.db.insert(importJobs).values(row).returning();
    return inserted!;
  }

  async findJob(id: string): Promise<ImportJobRow | undefined> {
    const [row] = await this.db.select().from(importJobs).where(eq(importJobs.id, id));
    return row;
  }

  async updateJob(id: string, changes: Partial<NewImportJobRow>): Promise<void> {
    await this.db.update(importJobs).set({ ...changes, updatedAt: new Date() }).where(eq(importJobs.id, id));
  }

  /** True when an activity points at this archived original (DATA-MODEL §6). */
  async isOriginalReferenced(key: string): Promise<boolean> {
    const [row] = await this.db.select({ id: activities.id }).from(activities).where(eq(activities.sourceArchiveKey, key)).limit(1);
    return row !== undefined;
  }

  /**
   * Hands an object that a failed import put and nothing points at (an archived original, a staged
   * upload) to the deletion outbox that cleans stream objects: the drain removes it once the store
   * answers — an original only if no activity points at it again by then (claimDeletions drops such
   * entries).
   */
  async enqueueObjectDeletion(key: string): Promise<void> {
    await this.db.insert(streamObjectDeletions).values({ objectKey: key, reason: 'failed_upload' }).onConflictDoNothing();
  }

  /** A pending outbox entry for an original that is being archived again is withdrawn. */
  async withdrawOriginalDeletion(key: string): Promise<void> {
    await this.db.delete(streamObjectDeletions).where(eq(streamObjectDeletions.objectKey, key));
  }
}
