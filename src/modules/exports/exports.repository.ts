import { Injectable } from '@nestjs/common';
import { and, eq, isNotNull, lte } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { exportJobs, type ExportJobRow, type NewExportJobRow } from '../../database/schema/index.js';

@Injectable()
export class ExportsRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async insert(row: NewExportJobRow): Promise<ExportJobRow> {
    const [inserted] = await this.db.insert(exportJobs).values(row).returning();
    return inserted!;
  }

  async findById(id: string): Promise<ExportJobRow | undefined> {
    const [row] = await this.db.select().from(exportJobs).where(eq(exportJobs.id, id));
    return row;
  }

  async update(id: string, changes: Partial<NewExportJobRow>): Promise<void> {
    await this.db.update(exportJobs).set({ ...changes, updatedAt: new Date() }).where(eq(exportJobs.id, id));
  }

  /** Written exports whose time is up. */
  async findExpired(now: Date, limit: number): Promise<ExportJobRow[]> {
    return this.db
      .select()
      .from(exportJobs)
      .where(and(isNotNull(exportJobs.objectKey), lte(exportJobs.expiresAt, now)))
      .limit(limit);
  }
}
