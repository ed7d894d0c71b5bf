import { Injectable } from '@nestjs/common';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { syncStates, type SyncStateRow } from '../../database/schema/index.js';

export type SyncStateChanges = Partial<Omit<SyncStateRow, 'id' | 'athleteId' | 'source' | 'createdAt'>>;

/** Queries on sync_states; ownership of the athlete is checked by the caller through AthletesService. */
@Injectable()
export class SyncRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  findMany(athleteId: string): Promise<SyncStateRow[]> {
    return this.db.select().from(syncStates).where(eq(syncStates.athleteId, athleteId)).orderBy(asc(syncStates.source));
  }

  async findOne(athleteId: string, source: SyncStateRow['source']): Promise<SyncStateRow | undefined> {
    const [row] = await this.db.select().from(syncStates).where(and(eq(syncStates.athleteId, athleteId), eq(syncStates.source, source)));
    return row;
  }

  /**
   * The state row, created if missing, locked until the transaction ends: every batch, start and
   * finish of one (athlete, source) runs one after the other, which is what makes two identical
   * concurrent batches produce one activity each (the second sees the first's rows as unchanged).
   */
  async lock(tx: Transaction, athleteId: string, source: SyncStateRow['source']): Promise<SyncStateRow> {
    await tx.insert(syncStates).values({ athleteId, source }).onConflictDoNothing({ target: [syncStates.athleteId, syncStates.source] });
    const [row] = await tx
      .select()
      .from(syncStates)
      .where(and(eq(syncStates.athleteId, athleteId), eq(syncStates.source, source)))
      .for('update');
    return row!;
  }

  async update(tx: Transaction, id: string, changes: SyncStateChanges): Promise<SyncStateRow> {
    const [row] = await tx.update(syncStates).set({ ...changes, updatedAt: new Date() }).where(eq(syncStates.id, id)).returning();
    return row!;
  }

  /** Adds a batch's outcome to the life-time counters. */
  async recordBatch(
    tx: Transaction,
    id: string,
    counts: { created: number; updated: number; unchanged: number; deleted: number },
    changes: SyncStateChanges,
  ): Promise<SyncStateRow> {
    const [row] = await tx
      .update(syncStates)
      .set({
        ...changes,
        createdCount: sql`${syncStates.createdCount} + ${counts.created}`,
        updatedCount: sql`${syncStates.updatedCount} + ${counts.updated}`,
        unchangedCount: sql`${syncStates.unchangedCount} + ${counts.unchanged}`,
        deletedCount: sql`${syncStates.deletedCount} + ${counts.deleted}`,
        batchCount: sql`${syncStates.batchCount} + 1`,
        updatedAt: new Date(),
      })
      .where(eq(syncStates.id, id))
      .returning();
    return row!;
  }
}
