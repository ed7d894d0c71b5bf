import { Injectable } from '@nestjs/common';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { athletes, type AthleteRow, type NewAthleteRow } from '../../database/schema/index.js';

/** Queries on athletes, always scoped to the owning user. */
@Injectable()
export class AthletesRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  findMany(userId: string): Promise<AthleteRow[]> {
    return this.db.select().from(athletes).where(eq(athletes.userId, userId)).orderBy(asc(athletes.createdAt), asc(athletes.id));
  }

  /**
   * One page, oldest first, after the athlete `afterId` (a keyset on created_at, id taken from the
   * row itself, so the comparison keeps the database's microseconds).
   */
  findPage(userId: string, afterId: string | undefined, limit: number): Promise<AthleteRow[]> {
    const after = afterId
      ? sql`(${athletes.createdAt}, ${athletes.id}) > (select a.created_at, a.id from ${athletes} a where a.id = ${afterId} and a.user_id = ${userId})`
      : undefined;
    return this.db
      .select()
      .from(athletes)
      .where(and(eq(athletes.userId, userId), after))
      .orderBy(asc(athletes.createdAt), asc(athletes.id))
      .limit(limit);
  }

  async findById(userId: string, id: string): Promise<AthleteRow | undefined> {
    const [row] = await this.db
      .select()
      .from(athletes)
      .where(and(eq(athletes.id, id), eq(athletes.userId, userId)));
    return row;
  }


  async insert(values: NewAthleteRow): Promise<AthleteRow> {
    const [row] = await this.db.insert(athletes).values(values).returning();
    return row!;
  }

  async update(userId: string, id: string, values: Partial<NewAthleteRow>): Promise<AthleteRow | undefined> {
    const [row] = await this.db
      .update(athletes)
      .set(values)
      .where(and(eq(athletes.id, id), eq(athletes.userId, userId)))
      .returning();
    return row;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(athletes)
      .where(and(eq(athletes.id, id), eq(athletes.userId, userId)))
      .returning({ id: athletes.id });
    return rows.length > 0;
  }
}
