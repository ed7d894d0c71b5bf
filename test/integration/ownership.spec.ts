import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../src/database/database.js';
import { ActivitiesRepository } from '../../src/modules/activities/activities.repository.js';
import { ActivityIngestRepository } from '../../src/modules/activities/activity-ingest.repository.js';
import { ActivityTimelineQuery } from '../../src/modules/activities/activity-timeline.query.js';
import { AthletesRepository } from '../../src/modules/athletes/athletes.repository.js';
import { openTestDatabase } from '../setup/database.js';

/**
 * Every repository method scopes by owner in its own SQL: called with a foreign user's id and the
 * victim's ids, it finds nothing and changes nothing. The list of methods is read from the classes,
 * so a new method without a case here fails this test.
 */
let database: DatabaseHandle;
let activities: ActivitiesRepository;
let timeline: ActivityTimelineQuery;
let ingest: ActivityIngestRepository;
let athletes: AthletesRepository;
const victim = { userId: randomUUID(), athleteId: '', parentId: '', childId: '' };
const intruder = { userId: randomUUID(), athleteId: '' };

const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows);

async function snapshot(): Promise<string> {
  const db = database.db;
  // Both users' rows only: other test files may share the database.
  const users = sql`(${victim.userId}, ${intruder.userId})`;
  const mine = sql`(select id from activities where user_id in ${users})`;
  const parts = await Promise.all([
    db.execute(sql`select to_jsonb(t) as row from activities t where user_id in ${users} order by id`),
    db.execute(sql`select to_jsonb(t) as row from activity_statistics t where activity_id in ${mine} order by id`),
    db.execute(sql`select to_jsonb(t) as row from activity_events t where activity_id in ${mine} order by id`),
    db.execute(sql`select to_jsonb(t) as row from athletes t where user_id in ${users} order by id`),
  ]);
  return JSON.stringify(parts.map((part) => rowsOf(part)));
}

beforeAll(async () => {
  database = await openTestDatabase();
  const db = database.db;
  activities = new ActivitiesRepository(db);
  timeline = new ActivityTimelineQuery(db);
  ingest = new ActivityIngestRepository();
  athletes = new AthletesRepository(db);
  for (const who of [victim, intruder]) {
    await db.execute(sql`insert into "user" (id, name, email) values (${who.userId}, 'Someone', ${`${who.userId}@example.test`})`);
    const [row] = rowsOf<{ id: string }>(await db.execute(sql`select id from athletes where user_id = ${who.userId}`));
    who.athleteId = row!.id;
  }
  const [parent] = rowsOf<{ id: string }>(
    await db.execute(sql`
      insert into activities (athlete_id, activity_type, source, external_id, start_time, end_time, distance_m, duration_s)
      values (${victim.athleteId}, 'running', 'garmin', 'g-1', '2025-01-01T08:00:00Z', '2025-01-01T09:00:00Z', 10000, 3600) returning id`),
  );
  victim.parentId = parent!.id;
  const [child] = rowsOf<{ id: string }>(
    await db.execute(sql`
      insert into activities (athlete_id, parent_id, activity_type, start_time, end_time)
      values (${victim.athleteId}, ${victim.parentId}, 'running', '2025-01-01T08:00:00Z', '2025-01-01T08:30:00Z') returning id`),
  );
  victim.childId = child!.id;
  await db.execute(sql`insert into activity_statistics (activity_id, key, value, unit) values (${victim.parentId}, 'avg_power_w', 200, 'W')`);
  await db.execute(sql`insert into activity_events (activity_id, event_type, start_time) values (${victim.parentId}, 'lap', '2025-01-01T08:30:00Z')`);
});
afterAll(async () => {
  await database?.close();
});

/** Private helpers that build SQL for the public methods (they run no query of their own). */
const PRIVATE_BUILDERS = new Set(['where', 'pageQuery', 'totalsQuery', 'ownedIds', 'ownedIdsIn', 'onlyOwned']);
const methods = (prototype: object) =>
  Object.getOwnPropertyNames(prototype).filter(
    (name) => name !== 'constructor' && !PRIVATE_BUILDERS.has(name) && typeof (prototype as Record<string, unknown>)[name] === 'function',
  );

describe('owner scoping in every repository query', () => {
  const activityCases: Record<string, () => Promise<unknown>> = {
    findById: async () => expect(await activities.findById(intruder.userId, victim.parentId)).toBeUndefined(),
    findDetail: async () => expect(await activities.findDetail(intruder.userId, victim.parentId)).toBeUndefined(),
    findIdByExternalId: async () => expect(await activities.findIdByExternalId(intruder.userId, victim.athleteId, 'garmin', 'g-1')).toBeUndefined(),
    findChildren: async () => expect(await activities.findChildren(intruder.userId, victim.parentId)).toEqual([]),
    countChildren: async () => expect(await activities.countChildren(intruder.userId, victim.parentId)).toBe(0),
    findStatistics: async () => expect(await activities.findStatistics(intruder.userId, victim.parentId)).toEqual([]),
    findEvents: async () => expect(await activities.findEvents(intruder.userId, victim.parentId)).toEqual([]),
    transaction: async () => expect(await activities.transaction(async () => 'ran')).toBe('ran'),
    insert: async () =>
      expect(
        activities.transaction((tx) =>
          activities.insert(
            tx,
            intruder.userId,
            { athleteId: victim.athleteId, activityType: 'running', startTime: new Date('2025-02-01T08:00:00Z'), endTime: new Date('2025-02-01T09:00:00Z') },
            [{ key: 'forged_w', value: 1, unit: 'W' }],
            [{ eventType: 'marker', startTime: new Date('2025-02-01T08:10:00Z'), endTime: null, metadata: null }],
          ),
        ),
      ).rejects.toThrow(),
    update: async () => expect(await activities.transaction((tx) => activities.update(tx, intruder.userId, victim.parentId, { name: 'Mine now' }))).toBe(false),
    replacePayload: async () =>
      expect(await activities.transaction((tx) => activities.replacePayload(tx, intruder.userId, victim.parentId, { sourceData: { forged: true } }))).toBeUndefined(),
    replaceStatistics: async () =>
      activities.transaction((tx) => activities.replaceStatistics(tx, intruder.userId, victim.parentId, [{ key: 'forged_w', value: 1, unit: 'W' }])),
    replaceEvents: async () =>
      activities.transaction((tx) =>
        activities.replaceEvents(tx, intruder.userId, victim.parentId, [{ eventType: 'marker', startTime: new Date('2025-01-01T08:10:00Z'), endTime: null, metadata: null }]),
      ),
    delete: async () => expect(await activities.delete(intruder.userId, victim.parentId)).toBe(false),
    findIdsWithChildren: async () => expect(await activities.findIdsWithChildren(intruder.userId, victim.parentId)).toEqual([]),
  };
  const timelineCases: Record<string, () => Promise<unknown>> = {
    findPage: async () => {
      expect(await timeline.findPage({ userId: intruder.userId, athleteId: victim.athleteId }, undefined, 50)).toEqual([]);
      expect(await timeline.findPage({ userId: intruder.userId, parentId: victim.parentId }, undefined, 50)).toEqual([]);
      expect(await timeline.findPage({ userId: intruder.userId, athleteId: victim.athleteId, sources: ['garmin'] }, undefined, 50)).toEqual([]);
      // The intruder's own timeline holds none of the victim's rows.
      expect(await timeline.findPage({ userId: intruder.userId }, undefined, 50)).toEqual([]);
    },
    totals: async () => {
      expect(await timeline.totals({ userId: intruder.userId, athleteId: victim.athleteId })).toEqual({ count: 0, distanceM: 0, durationS: 0 });
      expect(await timeline.totals({ userId: intruder.userId, athleteId: victim.athleteId, activityTypes: ['running'] })).toEqual({
        count: 0,
        distanceM: 0,
        durationS: 0,
      });
    },
    timelineSql: async () => expect(timeline.timelineSql({ userId: intruder.userId }, undefined, 1).page.params).toContain(intruder.userId),
  };
  const ingestCases: Record<string, () => Promise<unknown>> = {
    // The set-based writes of an ingest by external id (sync issue 11, imports).
    findBySourceExternalIds: async () =>
      expect(await activities.transaction((tx) => ingest.findBySourceExternalIds(tx, intruder.userId, victim.athleteId, 'garmin', ['g-1']))).toEqual([]),
    insertMany: async () =>
      expect(
        activities.transaction((tx) =>
          ingest.insertMany(tx, intruder.userId, [
            {
              id: '00000000-0000-4000-8000-00000000f00d',
              athleteId: victim.athleteId,
              activityType: 'running',
              startTime: new Date('2025-02-01T08:00:00Z'),
              endTime: new Date('2025-02-01T09:00:00Z'),
            },
          ]),
        ),
      ).rejects.toThrow(),
    deleteStatisticsEventsAndChildren: async () =>
      activities.transaction((tx) => ingest.deleteStatisticsEventsAndChildren(tx, intruder.userId, [victim.parentId])),
    insertStatistics: async () =>
      activities.transaction((tx) => ingest.insertStatistics(tx, intruder.userId, [{ activityId: victim.parentId, key: 'forged_w', value: 1, unit: 'W' }])),
    insertEvents: async () =>
      activities.transaction((tx) =>
        ingest.insertEvents(tx, intruder.userId, [{ activityId: victim.parentId, eventType: 'marker', startTime: new Date('2025-01-01T08:10:00Z'), endTime: null, metadata: null }]),
      ),
    deleteBySourceExternalIds: async () =>
      expect(await activities.transaction((tx) => ingest.deleteBySourceExternalIds(tx, intruder.userId, victim.athleteId, 'garmin', ['g-1']))).toEqual([]),
    linkParentsByExternalId: async () =>
      activities.transaction((tx) => ingest.linkParentsByExternalId(tx, intruder.userId, victim.athleteId, 'garmin', [{ childId: victim.childId, parentExternalId: 'g-1' }])),
  };
  const athleteCases: Record<string, () => Promise<unknown>> = {
    findMany: async () => expect((await athletes.findMany(intruder.userId)).map((row) => row.id)).toEqual([intruder.athleteId]),
    findById: async () => expect(await athletes.findById(intruder.userId, victim.athleteId)).toBeUndefined(),
    insert: async () => {
      // An insert names its owner; it can only ever create the caller's own athlete.
      const row = await athletes.insert({ userId: intruder.userId, displayName: 'Own' });
      expect(row.userId).toBe(intruder.userId);
      await athletes.delete(intruder.userId, row.id);
    },
    update: async () => expect(await athletes.update(intruder.userId, victim.athleteId, { displayName: 'Mine now' })).toBeUndefined(),
    delete: async () => expect(await athletes.delete(intruder.userId, victim.athleteId)).toBe(false),
    findPage: async () => expect((await athletes.findPage(intruder.userId, undefined, 50)).map((row) => row.id)).toEqual([intruder.athleteId]),
  };

  const repositories: Record<string, { prototype: object; cases: Record<string, () => Promise<unknown>> }> = {
    ActivitiesRepository: { prototype: ActivitiesRepository.prototype, cases: activityCases },
    ActivityTimelineQuery: { prototype: ActivityTimelineQuery.prototype, cases: timelineCases },
    ActivityIngestRepository: { prototype: ActivityIngestRepository.prototype, cases: ingestCases },
    AthletesRepository: { prototype: AthletesRepository.prototype, cases: athleteCases },
  };

  it('every method of every repository has a case here', () => {
    for (const { prototype, cases } of Object.values(repositories)) expect(methods(prototype).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(Object.entries(repositories).flatMap(([repository, { cases }]) => Object.keys(cases).map((name) => [repository, name])))(
    '%s.%s with a foreign user id gets nothing and changes nothing',
    async (repository, name) => {
      const before = await snapshot();
      await repositories[repository]!.cases[name]!();
      expect(await snapshot()).toBe(before);
    },
  );

  it('the owner still sees and changes their own rows (the cases above are not vacuous)', async () => {
    expect((await activities.findById(victim.userId, victim.parentId))?.id).toBe(victim.parentId);
    expect(await activities.findChildren(victim.userId, victim.parentId)).toHaveLength(1);
    expect(await activities.findStatistics(victim.userId, victim.parentId)).toHaveLength(1);
    expect(await activities.findEvents(victim.userId, victim.parentId)).toHaveLength(1);
    expect(await activities.findIdsWithChildren(victim.userId, victim.parentId)).toHaveLength(2);
    const detail = await activities.findDetail(victim.userId, victim.parentId);
    expect(detail?.children).toHaveLength(1);
    expect(detail?.statistics).toHaveLength(1);
    expect(detail?.events).toHaveLength(1);
    expect((await timeline.totals({ userId: victim.userId, athleteId: victim.athleteId })).count).toBe(2);
    const replaced = await activities.transaction((tx) => activities.replacePayload(tx, victim.userId, victim.parentId, { sourceData: { v: 2 } }));
    expect(replaced?.revision).toBe(2);
    await activities.transaction((tx) => activities.replaceStatistics(tx, victim.userId, victim.parentId, [{ key: 'avg_power_w', value: 250.5, unit: 'W' }]));
    expect((await activities.findStatistics(victim.userId, victim.parentId)).map((row) => row.value)).toEqual([250.5]);
    // An insert with statistics and events (one statement) answers the row as a plain insert does.
    const withDetails = await activities.transaction((tx) =>
      activities.insert(
        tx,
        victim.userId,
        { athleteId: victim.athleteId, activityType: 'cycling', startTime: new Date('2025-03-01T08:00:00Z'), endTime: new Date('2025-03-01T09:00:00Z'), sourceData: { a: [1, 'x'] }, distanceM: 1234.5 },
        [{ key: 'max_power_w', value: 400, unit: 'W' }],
        [{ eventType: 'marker', startTime: new Date('2025-03-01T08:10:00Z'), endTime: null, metadata: { lap: 1 } }],
      ),
    );
    expect(withDetails).toEqual(await activities.findById(victim.userId, withDetails.id));
    expect(withDetails).toMatchObject({ startTime: new Date('2025-03-01T08:00:00Z'), sourceData: { a: [1, 'x'] }, distanceM: 1234.5, revision: 1 });
    expect((await activities.findStatistics(victim.userId, withDetails.id)).map((row) => row.value)).toEqual([400]);
    expect(await activities.findEvents(victim.userId, withDetails.id)).toMatchObject([{ eventType: 'marker', metadata: { lap: 1 } }]);
    expect(await activities.transaction((tx) => activities.update(tx, victim.userId, victim.parentId, { name: 'Renamed' }))).toBe(true);
    expect((await athletes.findById(victim.userId, victim.athleteId))?.id).toBe(victim.athleteId);
  });
});
