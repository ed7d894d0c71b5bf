/**
 * withFlatRowMapper (src/database/fast-rows.ts) maps a prepared select's rows itself: the result
 * must be exactly what Drizzle's own mapper gives, for every kind of selected field.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asc, eq, sql } from 'drizzle-orm';
import { withFlatRowMapper } from '../../src/database/fast-rows.js';
import { ActivitiesRepository } from '../../src/modules/activities/activities.repository.js';
import { activities, activityEvents, athletes } from '../../src/database/schema/index.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
let user: SignedUpUser;
let parent: { id: string };
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
  parent = await createActivity(t, user, {
    name: 'Session',
    statistics: [
      { key: 'training_load', value: 95.123456789, unit: 'score' },
      { key: 'avg_power_w', value: 0.1, unit: 'W' },
    ],
    events: [
      { eventType: 'lap', startTime: '2026-05-01T06:20:00.000Z', endTime: '2026-05-01T06:25:00.000Z', metadata: { lap: 2, nested: { x: [1, null, 'a'] } } },
      { eventType: 'pause', startTime: '2026-05-01T06:10:00.000Z' },
    ],
    children: [
      { activityType: 'cycling', startTime: '2026-05-01T06:00:00.000Z', endTime: '2026-05-01T06:30:00.000Z', distanceM: 12_345.678, avgHeartRateBpm: 141.5 },
      { activityType: 'running', startTime: '2026-05-01T06:31:00.000Z', endTime: '2026-05-01T07:00:00.000Z', isIndoor: false, deviceName: 'Watch' },
    ],
  });
  // Microseconds, as rows written outside the API carry them.
  await t.database.db.execute(sql`update activities set start_time = start_time + interval '123 microseconds' where user_id = ${user.userId}`);
  await t.database.db.execute(
    sql`update activity_events set start_time = start_time + interval '457 microseconds' where activity_id in (select id from activities where user_id = ${user.userId})`,
  );
  // A non-finite float, as only SQL can write it: JSON aggregation spells it as a string.
  await t.database.db.execute(sql`update activities set elevation_gain_m = 'Infinity' where parent_id = ${parent.id} and activity_type = 'cycling'`);
});
afterAll(() => t.close());

describe('withFlatRowMapper', () => {
  it('maps whole-table selects (timestamps, JSONB, nulls, booleans, numbers) exactly as Drizzle does', async () => {
    const query = () => t.database.db.select().from(activities).where(eq(activities.userId, sql.placeholder('userId'))).orderBy(asc(activities.startTime));
    const expected = await query().prepare('fast_rows_all').execute({ userId: user.userId });
    const flat = withFlatRowMapper(query().prepare('fast_rows_all_flat'));
    expect((flat as unknown as { customResultMapper?: unknown }).customResultMapper).toEqual(expect.any(Function));
    const actual = await flat.execute({ userId: user.userId });
    expect(expected).toHaveLength(5);
    expect(actual).toEqual(expected);
    expect(actual[4]!.startTime).toBeInstanceOf(Date);
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

  it('the detail in one statement (findDetail) reads what the separate queries read', async () => {
    const repository = t.app.get(ActivitiesRepository);
    const detail = await repository.findDetail(user.userId, parent.id);
    expect(detail?.row).toEqual(await repository.findById(user.userId, parent.id));
    const children = await repository.findChildren(user.userId, parent.id);
    expect(children).toHaveLength(2);
    expect(children[0]!.elevationGainM).toBe(Infinity);
    expect(detail?.children).toEqual(children);
    expect(detail?.children.map((child) => Object.keys(child))).toEqual(children.map((child) => Object.keys(child)));
    expect(detail?.statistics).toEqual((await repository.findStatistics(user.userId, parent.id)).map(({ key, value, unit }) => ({ key, value, unit })));
    const events = (await repository.findEvents(user.userId, parent.id)).map(({ eventType, startTime, endTime, metadata }) => ({ eventType, startTime, endTime, metadata }));
    expect(events).toHaveLength(2);
    expect(detail?.events).toEqual(events);
    const childDetail = await repository.findDetail(user.userId, children[0]!.id);
    expect(childDetail).toMatchObject({ children: [], statistics: [], events: [] });
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
    expect(await prepared.execute({ userId: user.userId })).toHaveLength(5);
    expect((prepared as unknown as { customResultMapper?: unknown }).customResultMapper).toBeUndefined();
  });
});
