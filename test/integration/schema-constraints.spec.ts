import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../src/database/database.js';
import { pgError } from '../../src/database/errors.js';
import {
  activities,
  activityEvents,
  activityStatistics,
  activityStreams,
  athletes,
  syncStates,
  user,
} from '../../src/database/schema/index.js';
import { insertActivity, insertAthlete, insertUser } from '../factories/rows.js';
import { openTestDatabase } from '../setup/database.js';

let database: DatabaseHandle;
const db = () => database.db;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

/** Runs the statement and returns the SQLSTATE (and constraint) it failed with. */
async function rejection(statement: Promise<unknown>) {
  try {
    await statement;
  } catch (error) {
    return pgError(error);
  }
  throw new Error('expected the database to reject the statement');
}

const checksum = 'a'.repeat(64);

describe('DATA-MODEL §7 constraints', () => {
  it('rejects a second activity with the same (athlete, source, external id)', async () => {
    const athlete = await insertAthlete(db());
    await insertActivity(db(), athlete.id, { source: 'strava', externalId: '123' });
    expect(await rejection(insertActivity(db(), athlete.id, { source: 'strava', externalId: '123' }))).toEqual({
      code: '23505',
      constraint: 'activities_athlete_source_external_id_key',
    });
  });

  it('allows the same external id for another source, another athlete, or when it is null', async () => {
    const athlete = await insertAthlete(db());
    const other = await insertAthlete(db());
    await insertActivity(db(), athlete.id, { source: 'strava', externalId: '9' });
    await insertActivity(db(), athlete.id, { source: 'garmin', externalId: '9' });
    await insertActivity(db(), other.id, { source: 'strava', externalId: '9' });
    await insertActivity(db(), athlete.id, { source: 'manual' });
    await insertActivity(db(), athlete.id, { source: 'manual' });
    const [{ count }] = (await db()
      .select({ count: sql<number>`count(*)::int` })
      .from(activities)
      .where(eq(activities.athleteId, athlete.id))) as [{ count: number }];
    expect(count).toBe(4);
  });

  it('rejects an activity that ends before it starts', async () => {
    const athlete = await insertAthlete(db());
    const failure = await rejection(
      insertActivity(db(), athlete.id, {
        startTime: new Date('2026-05-01T07:00:00Z'),
        endTime: new Date('2026-05-01T06:59:59Z'),
      }),
    );
    expect(failure).toEqual({ code: '23514', constraint: 'activities_end_after_start' });
  });

  it.each([
    ['distanceM', 'activities_distance_m_non_negative'],
    ['durationS', 'activities_duration_s_non_negative'],
    ['activeEnergyKcal', 'activities_active_energy_kcal_non_negative'],
    ['avgHeartRateBpm', 'activities_avg_heart_rate_bpm_non_negative'],
    ['maxSpeedMS', 'activities_max_speed_m_s_non_negative'],
    ['elevationGainM', 'activities_elevation_gain_m_non_negative'],
  ] as const)('rejects a negative %s', async (field, constraint) => {
    const athlete = await insertAthlete(db());
    expect(await rejection(insertActivity(db(), athlete.id, { [field]: -1 }))).toEqual({ code: '23514', constraint });
  });

  it('rejects an activity type that is not in the catalog', async () => {
    const athlete = await insertAthlete(db());
    const failure = await rejection(insertActivity(db(), athlete.id, { activityType: 'quidditch' }));
    expect(failure?.code).toBe('23503');
  });

  it('rejects a second sync state for the same athlete and source', async () => {
    const athlete = await insertAthlete(db());
    await db().insert(syncStates).values({ athleteId: athlete.id, source: 'strava' });
    expect(await rejection(db().insert(syncStates).values({ athleteId: athlete.id, source: 'strava' }))).toEqual({
      code: '23505',
      constraint: 'sync_states_athlete_id_source_key',
    });
    await db().insert(syncStates).values({ athleteId: athlete.id, source: 'healthkit' });
  });

  it('rejects an unknown sync status', async () => {
    const athlete = await insertAthlete(db());
    const failure = await rejection(
      db().execute(sql`insert into sync_states (athlete_id, source, status) values (${athlete.id}, 'strava', 'paused')`),
    );
    expect(failure).toEqual({ code: '23514', constraint: 'sync_states_status_check' });
  });

  it('rejects a duplicate statistic key and a key that is not snake_case', async () => {
    const athlete = await insertAthlete(db());
    const activity = await insertActivity(db(), athlete.id);
    await db().insert(activityStatistics).values({ activityId: activity.id, key: 'avg_power_w', value: 210, unit: 'W' });
    expect(
      await rejection(
        db().insert(activityStatistics).values({ activityId: activity.id, key: 'avg_power_w', value: 1, unit: 'W' }),
      ),
    ).toEqual({ code: '23505', constraint: 'activity_statistics_activity_id_key_key' });
    expect(
      await rejection(
        db().insert(activityStatistics).values({ activityId: activity.id, key: 'AvgPower', value: 1, unit: 'W' }),
      ),
    ).toEqual({ code: '23514', constraint: 'activity_statistics_key_snake_case' });
  });

  it('rejects a second stream of the same type for one activity', async () => {
    const athlete = await insertAthlete(db());
    const activity = await insertActivity(db(), athlete.id);
    const stream = (key: string) => ({
      activityId: activity.id,
      streamType: 'heart_rate',
      objectKey: key,
      sampleCount: 10,
      startTime: activity.startTime,
      endTime: activity.endTime,
      byteSize: 100,
      checksumSha256: checksum,
    });
    await db().insert(activityStreams).values(stream(`k/${activity.id}/a`));
    expect(await rejection(db().insert(activityStreams).values(stream(`k/${activity.id}/b`)))).toEqual({
      code: '23505',
      constraint: 'activity_streams_activity_id_stream_type_key',
    });
  });

  it('rejects an event that ends before it starts', async () => {
    const athlete = await insertAthlete(db());
    const activity = await insertActivity(db(), athlete.id);
    const failure = await rejection(
      db()
        .insert(activityEvents)
        .values({
          activityId: activity.id,
          eventType: 'lap',
          startTime: new Date('2026-05-01T06:30:00Z'),
          endTime: new Date('2026-05-01T06:29:00Z'),
        }),
    );
    expect(failure).toEqual({ code: '23514', constraint: 'activity_events_end_after_start' });
  });

  it('rejects a child whose parent does not exist', async () => {
    const athlete = await insertAthlete(db());
    const failure = await rejection(insertActivity(db(), athlete.id, { parentId: '00000000-0000-4000-8000-000000000000' }));
    expect(failure?.code).toBe('23503');
  });
});

describe('DATA-MODEL §2 default athlete', () => {
  it('creating a user creates exactly one athlete for it, in the same statement', async () => {
    const created = await insertUser(db());
    const rows = await db().select().from(athletes).where(eq(athletes.userId, created.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ displayName: created.name, timeZone: 'UTC' });
  });
});

describe('DATA-MODEL §7 cascades', () => {
  it('deleting a user removes its athletes and all their activity data', async () => {
    const owner = await insertUser(db());
    const athlete = await insertAthlete(db(), owner.id);
    const parent = await insertActivity(db(), athlete.id, { activityType: 'triathlon' });
    const child = await insertActivity(db(), athlete.id, { activityType: 'open_water_swimming', parentId: parent.id });
    await db().insert(activityStatistics).values({ activityId: child.id, key: 'total_strokes', value: 800, unit: 'count' });
    await db().insert(activityEvents).values({ activityId: child.id, eventType: 'lap', startTime: child.startTime });
    await db().insert(syncStates).values({ athleteId: athlete.id, source: 'garmin' });

    await db().delete(user).where(eq(user.id, owner.id));

    expect(await db().select().from(athletes).where(eq(athletes.id, athlete.id))).toEqual([]);
    expect(await db().select().from(activities).where(eq(activities.athleteId, athlete.id))).toEqual([]);
    expect(await db().select().from(activityStatistics).where(eq(activityStatistics.activityId, child.id))).toEqual([]);
    expect(await db().select().from(activityEvents).where(eq(activityEvents.activityId, child.id))).toEqual([]);
    expect(await db().select().from(syncStates).where(eq(syncStates.athleteId, athlete.id))).toEqual([]);
  });

  it('deleting a parent activity removes its children and leaves siblings of other parents alone', async () => {
    const athlete = await insertAthlete(db());
    const parent = await insertActivity(db(), athlete.id, { activityType: 'triathlon' });
    const other = await insertActivity(db(), athlete.id, { activityType: 'multisport' });
    const legs = await Promise.all(
      ['open_water_swimming', 'transition', 'cycling'].map((activityType) =>
        insertActivity(db(), athlete.id, { activityType, parentId: parent.id }),
      ),
    );
    const keep = await insertActivity(db(), athlete.id, { activityType: 'running', parentId: other.id });

    await db().delete(activities).where(eq(activities.id, parent.id));

    const remaining = await db().select({ id: activities.id }).from(activities).where(eq(activities.athleteId, athlete.id));
    expect(remaining.map((row) => row.id).sort()).toEqual([other.id, keep.id].sort());
    expect(legs).toHaveLength(3);
  });
});
