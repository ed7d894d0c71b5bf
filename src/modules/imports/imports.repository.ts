import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { importJobs, type ImportJobRow, type NewImportJobRow } from '../../database/schema/index.js';

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
}
