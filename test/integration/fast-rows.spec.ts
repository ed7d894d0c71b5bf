/**
 * withFlatRowMapper (src/database/fast-rows.ts) maps a prepared select's rows itself: the result
 * must be exactly what Drizzle's own mapper gives, for every kind of selected field.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, eq, sql } from 'drizzle-orm';
import { withFlatRowMapper } from '../../src/database/fast-rows.js';
import { activities, activityEvents, athletes } from '../../src/database/schema/index.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
let user: SignedUpUser;
beforeAll(async () => {
  t = await createTestApp();
  user = await signUp(t, 'Rows');
  await createActivity(t, user, {
    name: 'Full',
    notes: 'notes',
    source: 'strava',
    externalId: 'e-1',
    distanceM: 10_000.5,
    isIndoor: true,
    sourceData: { id: 1, nested: { list: [1, 'two', null] } },
    events: [{ eventType: 'lap', startTime: '2026-05-01T06:30:00.123Z', metadata: { lap: 1 } }],
  });
  await createActivity(t, user, { startTime: '2026-04-01T06:00:00.000Z', endTime: '2026-04-01T06:10:00.000Z' });
  // Microseconds, as rows written outside the API carry them.
  await t.database.db.execute(sql`update activities set start_time = start_time + interval '123 microseconds' where user_id = ${user.userId}`);
});
afterAll(() => t.close());

describe('withFlatRowMapper', () => {
  it('maps whole-table selects (timestamps, JSONB, nulls, booleans, numbers) exactly as Drizzle does', async () => {
    const query = () => t.database.db.select().from(activities).where(eq(activities.userId, sql.placeholder('userId'))).orderBy(asc(activities.startTime));
    const expected = await query().prepare('fast_rows_all').execute({ userId: user.userId });
    const flat = withFlatRowMapper(query().prepare('fast_rows_all_flat'));
    expect((flat as unknown as { customResultMapper?: unknown }).customResultMapper).toEqual(expect.any(Function));
    const actual = await flat.execute({ userId: user.userId });
    expect(expected).toHaveLength(2);
    expect(actual).toEqual(expected);
    expect(actual[1]!.startTime).toBeInstanceOf(Date);
    expect(Object.keys(actual[0]!)).toEqual(Object.keys(expected[0]!));
  });

  it('maps SQL fields with and without a decoder, aliased ones, and events', async () => {
    const query = () =>
      t.database.db
        .select({
          id: activities.id,
          micros: sql<string>`((extract(epoch from ${activities.startTime}) * 1000000)::bigint)::text`,
          count: sql`1 + 1`.mapWith(Number),
          aliased: sql<string>`upper(${activities.activityType})`.as('aliased'),
          createdAt: activities.createdAt,
        })
        .from(activities)
        .where(eq(activities.userId, sql.placeholder('userId')))
        .orderBy(asc(activities.startTime));
    const expected = await query().prepare('fast_rows_sql').execute({ userId: user.userId });
    const flat = withFlatRowMapper(query().prepare('fast_rows_sql_flat'));
    expect((flat as unknown as { customResultMapper?: unknown }).customResultMapper).toEqual(expect.any(Function));
    const actual = await flat.execute({ userId: user.userId });
    expect(actual).toEqual(expected);
    expect(actual[0]).toMatchObject({ count: 2, aliased: 'RUNNING' });
    expect(actual[0]!.micros).toMatch(/123$/);

    const events = () => t.database.db.select().from(activityEvents).orderBy(asc(activityEvents.startTime));
    expect(await withFlatRowMapper(events().prepare('fast_rows_events_flat')).execute()).toEqual(await events().prepare('fast_rows_events').execute());
  });

  it('leaves a joined select to Drizzle (nested objects, nullable joins)', async () => {
    const query = () =>
      t.database.db
        .select({ activity: { id: activities.id }, athlete: { id: athletes.id } })
        .from(activities)
        .leftJoin(athletes, eq(athletes.id, activities.athleteId))
        .where(eq(activities.userId, sql.placeholder('userId')));
    const prepared = query().prepare('fast_rows_join');
    expect(withFlatRowMapper(prepared)).toBe(prepared);
    expect(await prepared.execute({ userId: user.userId })).toHaveLength(2);
    expect((prepared as unknown as { customResultMapper?: unknown }).customResultMapper).toBeUndefined();
  });
});
