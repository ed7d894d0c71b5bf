import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/database/database.js';
import { activities, athletes, user, type NewActivityRow } from '../../src/database/schema/index.js';

/**
 * Row-level factories for tests of the schema itself (constraints, cascades). Tests of behaviour
 * create their data through the API instead (test/factories/api.ts).
 */
export async function insertUser(db: Database) {
  const id = randomUUID();
  const [row] = await db
    .insert(user)
    .values({ id, name: `User ${id.slice(0, 8)}`, email: `${id}@example.test` })
    .returning();
  return row!;
}

export async function insertAthlete(db: Database, userId?: string) {
  const owner = userId ?? (await insertUser(db)).id;
  const [row] = await db.insert(athletes).values({ userId: owner, displayName: 'Test Athlete' }).returning();
  return row!;
}

export async function insertActivity(db: Database, athleteId: string, overrides: Partial<NewActivityRow> = {}) {
  const [row] = await db
    .insert(activities)
    .values({
      athleteId,
      activityType: 'running',
      startTime: new Date('2026-05-01T06:00:00Z'),
      endTime: new Date('2026-05-01T07:00:00Z'),
      ...overrides,
    })
    .returning();
  return row!;
}
