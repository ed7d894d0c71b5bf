import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { activityTypes } from '../../libs/seed-data/activity-types.js';
import { ActivityTimelineQuery, type ActivityFilter, type Keyset } from '../../src/modules/activities/activity-timeline.query.js';
import { PgDialect } from 'drizzle-orm/pg-core';
import { neighbourhoodSql } from '../../src/modules/activities/duplicates/duplicate-groups.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('paging at the column’s full precision', () => {
  it('visits rows inserted by SQL with sub-millisecond start times exactly once', async () => {
    const user = await signUp(t);
    // Twelve rows within the same millisecond, and pairs that share a microsecond (ties broken by id).
    const micros = [100, 200, 300, 400, 500, 600, 700, 800, 900, 901, 901, 999, 999, 1000, 1001, 1500];
    await t.database.db.execute(sql`
      insert into activities (athlete_id, activity_type, source, start_time, end_time)
      select ${user.athleteId}, 'running', 'file', s, s + interval '1 hour'
        from unnest(${`{${micros.join(',')}}`}::int[]) as m(us),
             lateral (select timestamptz '2024-03-01T10:00:00Z' + us * interval '1 microsecond') as x(s)`);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const query: string = cursor ? `limit=3&cursor=${cursor}` : 'limit=3';
      const response = await t.http().get(`/api/v1/activities?athleteId=${user.athleteId}&${query}`).set(user.auth);
      expect(response.status).toBe(200);
      seen.push(...response.body.items.map((item: { id: string }) => item.id));
      cursor = response.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(micros.length);
    expect(new Set(seen).size).toBe(micros.length);
  });
});

/**
 * For every filter combination the API offers, the page is read from an index in index order: the
 * plan has an Index Scan on a timeline index and no Sort. PostgreSQL only (PGlite is one process with
 * its own planner settings; the production planner is what matters).
 */
const describePg = TEST_DATABASE_URL ? describe : describe.skip;

describePg('query plans of the timeline (PostgreSQL)', () => {
  let owner: SignedUpUser;
  let second: string;
  let parentId: string;
  let repository: ActivityTimelineQuery;
  const types = ['running', 'cycling', 'walking', 'hiking', 'yoga', 'pool_swimming', 'strength_training', 'trail_running', 'road_cycling', 'hiit'];
  const sources = ['garmin', 'healthkit', 'strava', 'health_connect', 'file', 'manual'];

  beforeAll(async () => {
    owner = await signUp(t);
    const created = await t.http().post('/api/v1/athletes').set(owner.auth).send({ displayName: 'Second' });
    second = created.body.id;
    const other = await signUp(t);
    const db = t.database.db;
    const insert = (athleteId: string, count: number) =>
      db.execute(sql`
        insert into activities (athlete_id, activity_type, source, start_time, end_time, duration_s, distance_m)
        select ${athleteId}, (${`{${types.join(',')}}`}::text[])[1 + g % 10], (${`{${sources.join(',')}}`}::text[])[1 + (g / 10) % 6],
               s, s + interval '40 minutes', 2400, 8000
          from generate_series(1, ${count}) as g,
               lateral (select timestamptz '2015-01-01T00:00:00Z' + g * interval '97 minutes' + (g % 1000) * interval '1 microsecond') as x(s)`);
    await insert(owner.athleteId, 40_000);
    await insert(second, 10_000);
    // Other users hold most of the table, as they do in production.
    await insert(other.athleteId, 150_000);
    // Every 10th of the owner's activities becomes a leg of the one before it.
    await db.execute(sql`
      with numbered as (select id, row_number() over (order by start_time, id) as n from activities where athlete_id = ${owner.athleteId})
      update activities a set parent_id = p.id from numbered c join numbered p on p.n = c.n - 1
       where a.id = c.id and c.n % 10 = 0 and p.n % 10 <> 0`);
    // Duplicate groups present: every 7th top-level activity is a copy of the top-level one before it.
    await db.execute(sql`
      with numbered as (select id, row_number() over (order by start_time, id) as n from activities where athlete_id = ${owner.athleteId} and parent_id is null)
      update activities a set duplicate_of = p.id from numbered c join numbered p on p.n = c.n - 1
       where a.id = c.id and c.n % 7 = 0`);
    const [parent] = (await db.execute(sql`select parent_id as id from activities where parent_id is not null limit 1`)) as unknown as { id: string }[];
    parentId = parent!.id;
    await db.execute(sql`vacuum analyze activities`);
    repository = new ActivityTimelineQuery(db);
  }, 300_000);

  interface PlanNode {
    'Node Type': string;
    'Index Name'?: string;
    'Relation Name'?: string;
    'Index Cond'?: string;
    Plans?: PlanNode[];
  }
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

  async function plan(query: { sql: string; params: unknown[] }): Promise<PlanNode[]> {
    const client = (t.database.db as unknown as { $client: { unsafe(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> } }).$client;
    const [row] = await client.unsafe(`explain (format json) ${query.sql}`, query.params as never);
    const json = (row!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan;
    return nodes(json);
  }

  const category = activityTypes.find((type) => type.slug === 'cycling')!.category;
  const inCategory = activityTypes.filter((type) => type.category === category).map((type) => type.slug);
  const combinations: [string, () => Omit<ActivityFilter, 'userId'>][] = [
    ['all of a user’s athletes', () => ({})],
    ['one athlete', () => ({ athleteId: owner.athleteId })],
    ['athlete + one type', () => ({ athleteId: owner.athleteId, activityTypes: ['running'] })],
    ['athlete + category (several types)', () => ({ athleteId: owner.athleteId, activityTypes: inCategory })],
    ['athlete + sources', () => ({ athleteId: owner.athleteId, sources: ['garmin', 'strava'] })],
    ['athlete + time range', () => ({ athleteId: owner.athleteId, startTimeFrom: new Date('2018-01-01'), startTimeTo: new Date('2020-01-01') })],
    ['athlete + from only', () => ({ athleteId: owner.athleteId, startTimeFrom: new Date('2016-01-01') })],
    ['athlete + top-level only', () => ({ athleteId: owner.athleteId, topLevelOnly: true })],
    ['children of a parent', () => ({ parentId })],
    ['athlete + children of a parent', () => ({ athleteId: owner.athleteId, parentId })],
    ['user + type', () => ({ activityTypes: ['running', 'walking'] })],
    ['user + source', () => ({ sources: ['healthkit'] })],
    ['user + time range', () => ({ startTimeFrom: new Date('2018-01-01'), startTimeTo: new Date('2020-01-01') })],
    ['user + top-level only', () => ({ topLevelOnly: true })],
    [
      'everything at once',
      () => ({
        athleteId: owner.athleteId,
        activityTypes: inCategory,
        sources: ['garmin', 'healthkit', 'strava'],
        startTimeFrom: new Date('2015-06-01'),
        startTimeTo: new Date('2021-01-01'),
        topLevelOnly: true,
      }),
    ],
    // The default timeline: one item per duplicate group (duplicate_of is null, read from the index entry).
    ['one athlete, primaries only (the default)', () => ({ athleteId: owner.athleteId, primariesOnly: true })],
    ['user, primaries only (the default)', () => ({ primariesOnly: true })],
    ['athlete + time range, primaries only', () => ({ athleteId: owner.athleteId, startTimeFrom: new Date('2018-01-01'), startTimeTo: new Date('2020-01-01'), primariesOnly: true })],
    [
      'user + everything but athlete',
      () => ({ activityTypes: ['running', 'cycling'], sources: ['garmin', 'file'], startTimeFrom: new Date('2016-01-01'), topLevelOnly: true }),
    ],
  ];
  const TIMELINE_INDEXES = ['activities_athlete_start_time_idx', 'activities_user_start_time_idx', 'activities_parent_start_time_idx'];

  describe.each([false, true])('with a cursor: %s', (withCursor) => {
    it.each(combinations)('%s: index scan in index order, no Sort', async (_name, make) => {
      const filter = { userId: owner.userId, ...make() };
      const after: Keyset | undefined = withCursor ? { startTimeMicros: 1_560_000_000_123_456n, id: randomUUID() } : undefined;
      const steps = await plan(repository.timelineSql(filter, after, 51).page);
      const types = steps.map((step) => step['Node Type']);
      expect(types).not.toContain('Sort');
      expect(types).not.toContain('Incremental Sort');
      expect(types).not.toContain('Seq Scan');
      const scan = steps.find((step) => step['Relation Name'] === 'activities');
      expect(['Index Scan', 'Index Scan Backward', 'Index Only Scan']).toContain(scan?.['Node Type']);
      expect(TIMELINE_INDEXES).toContain(scan?.['Index Name']);
    });
  });

  it.each([
    ['one athlete', () => ({ athleteId: owner.athleteId })],
    ['all of a user’s athletes', () => ({})],
    ['one athlete, a duplicate group counted once', () => ({ athleteId: owner.athleteId, primariesOnly: true })],
    ['all of a user’s athletes, a duplicate group counted once', () => ({ primariesOnly: true })],
  ])('totals of %s are an index-only scan', async (_name, make) => {
    // An index-only scan is chosen from the visibility map, which other test files' writes to the
    // shared table (a test app's duplicate backfill at boot, say) clear page by page: the plan is
    // asked of the table as vacuum leaves it, as it stands in production between autovacuums.
    await t.database.db.execute(sql`vacuum analyze activities`);
    const steps = await plan(repository.timelineSql({ userId: owner.userId, ...make() }, undefined, 51).totals);
    const scan = steps.find((step) => step['Relation Name'] === 'activities');
    expect(scan?.['Node Type']).toBe('Index Only Scan');
  });

  it('duplicate candidates are read from index ranges of (athlete_id, start_time), never a scan of the history', async () => {
    const ids = (await repository.findPage({ userId: owner.userId, athleteId: owner.athleteId }, undefined, 500)).map((row) => row.id);
    const steps = await plan(new PgDialect().sqlToQuery(neighbourhoodSql(owner.userId, owner.athleteId, ids)));
    const activityScans = steps.filter((step) => step['Relation Name'] === 'activities' || step['Index Name']?.startsWith('activities_'));
    expect(activityScans.map((step) => step['Node Type'])).not.toContain('Seq Scan');
    // The candidates of each id: a range of (athlete_id, start_time).
    const timeline = activityScans.filter((step) => step['Index Name'] === 'activities_athlete_start_time_idx');
    expect(timeline.length).toBeGreaterThan(0);
    // Never the athlete's whole range (a batch of 500 copies once bitmap-scanned the history for its rows).
    for (const scan of timeline) expect(scan['Index Cond']).toContain('start_time');
    expect(activityScans.some((step) => step['Index Name'] === 'activities_user_start_time_idx')).toBe(false);
  });

  it('the page answers match the plans: the cursor walks the whole history once', async () => {
    const seen = new Set<string>();
    let after: Keyset | undefined;
    for (;;) {
      const rows = await repository.findPage({ userId: owner.userId, athleteId: second }, after, 1000);
      for (const row of rows) seen.add(row.id);
      const last = rows.at(-1);
      if (rows.length < 1000 || !last) break;
      after = { startTimeMicros: BigInt(last.startTimeMicros), id: last.id };
    }
    expect(seen.size).toBe(10_000);
  });
});
