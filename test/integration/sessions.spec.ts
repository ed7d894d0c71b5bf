import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { pgError } from '../../src/database/errors.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

/**
 * Sessions have one level, within one athlete (docs/data-model.md, "Sessions"), and the database
 * holds both rules — so concurrent requests, each valid when checked alone, cannot break them.
 */
let t: TestApp;
let user: SignedUpUser;
let otherAthlete: string;

beforeAll(async () => {
  t = await createTestApp();
  user = await signUp(t);
  const created = await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'Second' });
  otherAthlete = created.body.id;
});
afterAll(async () => {
  await t?.close();
});

/** postgres.js answers an array of rows, PGlite `{ rows }`. */
const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows);

let sequence = 0;
async function create(athleteId: string, extra: Record<string, unknown> = {}): Promise<{ id: string; children: { id: string }[] }> {
  const start = new Date(Date.UTC(2025, 0, 1) + sequence++ * 7_200_000);
  const response = await t
    .http()
    .post('/api/v1/activities')
    .set(user.auth)
    .send({ athleteId, activityType: 'running', startTime: start.toISOString(), endTime: new Date(start.getTime() + 3_600_000).toISOString(), ...extra });
  if (response.status !== 201 && response.status !== 200) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

const patch = (id: string, parentId: string) => t.http().patch(`/api/v1/activities/${id}`).set(user.auth).send({ parentId });

async function violations() {
  const rows = rowsOf<{ grandchildren: number; cross_athlete: number }>(
    await t.database.db.execute(sql`
      select count(*) filter (where p.parent_id is not null)::int as grandchildren,
             count(*) filter (where p.athlete_id <> c.athlete_id)::int as cross_athlete
        from activities c join activities p on p.id = c.parent_id`),
  );
  return rows[0]!;
}

describe('session rules under concurrency', () => {
  it('20 concurrent requests nesting under a child or under another athlete’s parent are all refused with 4xx', async () => {
    const session = await create(user.athleteId, {
      children: Array.from({ length: 10 }, (_, i) => ({
        activityType: 'running',
        startTime: new Date(Date.UTC(2024, 0, 1, 8, i)).toISOString(),
        endTime: new Date(Date.UTC(2024, 0, 1, 8, i + 1)).toISOString(),
      })),
    });
    const foreignParent = await create(otherAthlete);
    const loose = await Promise.all(Array.from({ length: 20 }, () => create(user.athleteId)));
    const responses = await Promise.all(
      loose.map((activity, i) => (i < 10 ? patch(activity.id, session.children[i]!.id) : patch(activity.id, foreignParent.id))),
    );
    for (const response of responses) {
      expect(response.status).toBe(422);
      expect(response.body.issues[0].path).toEqual(['parentId']);
    }
    expect(await violations()).toEqual({ grandchildren: 0, cross_athlete: 0 });
  });

  it('racing pairs (A under P while B goes under A) never leave a grandchild', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 10 }, async () => ({ parent: await create(user.athleteId), middle: await create(user.athleteId), leaf: await create(user.athleteId) })),
    );
    // Each request is valid when checked alone; together they would make parent → middle → leaf.
    const responses = await Promise.all(pairs.flatMap((pair) => [patch(pair.middle.id, pair.parent.id), patch(pair.leaf.id, pair.middle.id)]));
    for (const response of responses) expect([200, 409, 422]).toContain(response.status);
    for (let i = 0; i < pairs.length; i++) {
      const ok = [responses[2 * i]!, responses[2 * i + 1]!].filter((response) => response.status === 200);
      expect(ok.length).toBeLessThanOrEqual(1);
    }
    expect(await violations()).toEqual({ grandchildren: 0, cross_athlete: 0 });
  });

  it('the database itself refuses a grandchild and a parent of another athlete, whatever the writer', async () => {
    const session = await create(user.athleteId, {
      children: [{ activityType: 'running', startTime: '2023-05-01T08:00:00Z', endTime: '2023-05-01T08:30:00Z' }],
    });
    const foreign = await create(otherAthlete);
    const child = session.children[0]!.id;
    const attempt = async (statement: ReturnType<typeof sql>) => {
      try {
        await t.database.db.execute(statement);
        return undefined;
      } catch (error) {
        return pgError(error);
      }
    };
    const insert = (parentId: string) => sql`
      insert into activities (athlete_id, parent_id, activity_type, start_time, end_time)
      values (${user.athleteId}, ${parentId}, 'running', '2023-05-01T09:00:00Z', '2023-05-01T09:10:00Z')`;
    expect(await attempt(insert(child))).toMatchObject({ code: '23514', constraint: 'activities_one_level_sessions' });
    expect(await attempt(insert(foreign.id))).toMatchObject({ code: '23503', constraint: 'activities_parent_fk' });
    // A parent with children cannot become a child (nor move under another athlete's activity).
    expect(['23503', '23514']).toContain((await attempt(sql`update activities set parent_id = ${foreign.id} where id = ${session.id}`))?.code);
    const another = await create(user.athleteId);
    expect(await attempt(sql`update activities set parent_id = ${another.id} where id = ${session.id}`)).toMatchObject({
      code: '23514',
      constraint: 'activities_one_level_sessions',
    });
    // An activity's user_id is its athlete's owner: a hand-written INSERT gets it filled in, a wrong one is refused.
    const rows = rowsOf<{ user_id: string }>(
      await t.database.db.execute(sql`
        insert into activities (athlete_id, activity_type, start_time, end_time)
        values (${user.athleteId}, 'running', '2023-06-01T09:00:00Z', '2023-06-01T09:10:00Z') returning user_id`),
    );
    expect(rows[0]!.user_id).toBe(user.userId);
    const stranger = await signUp(t);
    expect(
      await attempt(sql`
        insert into activities (athlete_id, user_id, activity_type, start_time, end_time)
        values (${user.athleteId}, ${stranger.userId}, 'running', '2023-06-01T09:00:00Z', '2023-06-01T09:10:00Z')`),
    ).toMatchObject({ code: '23503', constraint: 'activities_athlete_fk' });
    expect(await violations()).toEqual({ grandchildren: 0, cross_athlete: 0 });
  });
});

describe('parent totals (§4)', () => {
  it('a parent without its own totals shows its children’s; stored values win', async () => {
    const leg = (minute: number, extra: Record<string, unknown>) => ({
      activityType: 'running',
      startTime: new Date(Date.UTC(2022, 0, 1, 8, minute)).toISOString(),
      endTime: new Date(Date.UTC(2022, 0, 1, 8, minute + 10)).toISOString(),
      ...extra,
    });
    const session = await create(user.athleteId, {
      activityType: 'triathlon',
      distanceM: 51_500,
      children: [
        leg(0, { durationS: 600, distanceM: 1500, avgHeartRateBpm: 140, maxHeartRateBpm: 160 }),
        leg(10, { durationS: 1800, distanceM: 40_000, avgHeartRateBpm: 150, maxHeartRateBpm: 175 }),
        leg(40, { durationS: 1200, distanceM: 10_000 }),
      ],
    });
    const detail = await t.http().get(`/api/v1/activities/${session.id}`).set(user.auth);
    expect(detail.status).toBe(200);
    expect(detail.body.durationS).toBe(3600);
    expect(detail.body.distanceM).toBe(51_500); // stored on the parent
    expect(detail.body.maxHeartRateBpm).toBe(175);
    expect(detail.body.avgHeartRateBpm).toBeCloseTo((140 * 600 + 150 * 1800) / 2400, 9);
    expect(detail.body.avgSpeedMS).toBeCloseTo(51_500 / 3600, 9);
    // Nothing derived is written back: the list shows what is stored.
    const list = await t.http().get(`/api/v1/activities?athleteId=${user.athleteId}&topLevelOnly=true&limit=200`).set(user.auth);
    const listed = list.body.items.find((item: { id: string }) => item.id === session.id);
    expect(listed.durationS).toBeNull();
  });
});
