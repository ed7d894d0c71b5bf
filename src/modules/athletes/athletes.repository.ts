import { Injectable } from '@nestjs/common';
import { and, asc, eq } from 'drizzle-orm';
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
