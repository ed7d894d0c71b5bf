import { randomBytes, randomUUID } from 'node:crypto';
import type postgres from 'postgres';

export interface SeededUser {
  token: string;
  athleteIds: string[];
  /** Activities per athlete, in athleteIds order. */
  counts: number[];
}

export interface SeededData {
  /** Light users: one athlete each. */
  users: SeededUser[];
  /** The one athlete with `heavy` activities (years of 1 Hz imports and daily HealthKit walks). */
  heavy: SeededUser;
  /** A user with several athletes (a family account): the cross-athlete timeline. */
  family: SeededUser;
  /** A sample of activity ids (with their owner's token) to fetch one by one. */
  activities: { id: string; token: string }[];
  total: number;
}

export interface SeedSize {
  /** Athletes in all, including the heavy one and the family's. */
  athletes: number;
  /** Activities in all. */
  total: number;
  /** Activities of the heavy athlete. */
  heavy: number;
  /** Athletes of the family user. */
  familyAthletes: number;
}

const TYPES = ['running', 'trail_running', 'cycling', 'road_cycling', 'walking', 'hiking', 'strength_training', 'yoga', 'pool_swimming', 'hiit'];
const SOURCES = ['garmin', 'healthkit', 'strava', 'health_connect', 'file', 'manual'];

async function createUser(sql: postgres.Sql, name: string) {
  const userId = randomUUID();
  const token = randomBytes(24).toString('base64url');
  await sql`insert into "user" (id, name, email) values (${userId}, ${name}, ${`bench-${userId}@example.test`})`;
  await sql`insert into session (id, token, user_id, expires_at) values (${randomUUID()}, ${token}, ${userId}, now() + interval '7 days')`;
  const [athlete] = await sql<{ id: string }[]>`select id from athletes where user_id = ${userId}`;
  return { userId, token, athleteId: athlete!.id };
}

/**
 * `count` activities for one athlete, generated inside PostgreSQL (generate_series), spaced so that
 * they span years, with start times carrying microseconds as rows written by importers do. Ids are
 * time-ordered UUIDs (version 7 layout: the start's milliseconds, then hashed bits), so the primary
 * key's index is filled in order rather than at random pages — at 10 M rows the difference between
 * a load that stays in memory and one that rewrites index pages all the time. One in
 * 20 of the heavy athlete's rows is a session leg (a child of the row before it).
 */
export async function insertActivities(sql: postgres.Sql, athleteId: string, userId: string, count: number, seed: number) {
  const spacingSeconds = Math.max(60, Math.floor((10 * 365 * 86_400) / Math.max(count, 1)));
  await sql`
    insert into activities (id, athlete_id, user_id, activity_type, source, external_id, name, start_time, end_time, time_zone,
                            duration_s, moving_time_s, distance_m, active_energy_kcal, avg_heart_rate_bpm, max_heart_rate_bpm,
                            elevation_gain_m, elevation_loss_m, avg_speed_m_s, max_speed_m_s, is_indoor, device_name, source_data)
    select (lpad(to_hex((extract(epoch from s) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3)
            || substr('89ab', 1 + g % 4, 1) || substr(h, 4, 15))::uuid,
           ${athleteId}, ${userId}, (${sql.array(TYPES)}::text[])[1 + ((g + ${seed}) % ${TYPES.length})],
           (${sql.array(SOURCES)}::text[])[1 + ((g * 7 + ${seed}) % ${SOURCES.length})], 'x-' || g, 'Activity ' || g,
           s, s + interval '50 minutes', 'Europe/Berlin', 3000, 2900, 10000 + g % 5000, 600, 140 + g % 20, 175 + g % 10,
           100, 95, 2.8, 4.5, false, 'Forerunner 965', json_build_object('id', g, 'sport', 'running', 'laps', json_build_array(1, 2, 3))
      from generate_series(1, ${count}) as g,
           lateral (select timestamptz '2016-01-01T00:00:00Z' + make_interval(secs => g * ${spacingSeconds} + ((g * 7919) % 1000000) / 1000000.0 + ${seed % 3600})) as t(s),
           lateral (select md5(${seed} || '-' || g)) as r(h)`;
}

/**
 * Bulk-seeds users (with sessions, so no password hashing), their default athletes (the trigger) and
 * activities through plain SQL, then a few statistics per sampled activity, and ANALYZEs.
 *
 * Sized for 10,000,000 activities in one go (issue 10): the timeline and external-id indexes of
 * activities are dropped for the load and built once afterwards from their own definitions (one
 * sort each instead of millions of random index insertions; the schema ends up exactly as
 * migrated), and the light athletes are loaded over `lanes` connections at once (the pool of
 * `sql`). Constraints, their indexes and the triggers stay in place throughout.
 */
export async function seed(
  sql: postgres.Sql,
  size: SeedSize,
  log: (message: string) => void = () => undefined,
  lanes = 1,
): Promise<SeededData> {
  const lightAthletes = size.athletes - 1 - size.familyAthletes;
  const perLight = Math.floor((size.total - size.heavy) / (lightAthletes + size.familyAthletes));
  const users: SeededUser[] = [];
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(0);

  // Plain (non-constraint) indexes of activities, rebuilt after the load from the same definitions.
  const indexes = await sql<{ name: string; definition: string }[]>`
    select indexname as name, indexdef as definition from pg_indexes
     where schemaname = current_schema() and tablename = 'activities'
       and indexname not in (select conname from pg_constraint where conrelid = 'activities'::regclass)`;
  for (const { name } of indexes) await sql.unsafe(`drop index "${name}"`);

  const heavyUser = await createUser(sql, 'Heavy');
  await insertActivities(sql, heavyUser.athleteId, heavyUser.userId, size.heavy, 0);
  const heavy: SeededUser = { token: heavyUser.token, athleteIds: [heavyUser.athleteId], counts: [size.heavy] };
  log(`heavy athlete: ${size.heavy} activities in ${seconds()} s`);

  const familyUser = await createUser(sql, 'Family');
  const family: SeededUser = { token: familyUser.token, athleteIds: [familyUser.athleteId], counts: [] };
  for (let i = 1; i < size.familyAthletes; i++) {
    const [row] = await sql<{ id: string }[]>`insert into athletes (user_id, display_name) values (${familyUser.userId}, ${`Family member ${i}`}) returning id`;
    family.athleteIds.push(row!.id);
  }
  for (const [i, athleteId] of family.athleteIds.entries()) {
    await insertActivities(sql, athleteId, familyUser.userId, perLight, 100 + i);
    family.counts.push(perLight);
  }

  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, lanes) }, async () => {
      for (let u = next++; u < lightAthletes; u = next++) {
        const user = await createUser(sql, `Bench ${u}`);
        await insertActivities(sql, user.athleteId, user.userId, perLight, 1000 + u);
        users[u] = { token: user.token, athleteIds: [user.athleteId], counts: [perLight] };
        if (++done % 100 === 0) log(`${done} light athletes (${perLight} each) after ${seconds()} s`);
      }
    }),
  );

  // One index per lane at a time; the children update below needs the parent index.
  await Promise.all(
    Array.from({ length: Math.max(1, lanes) }, async (_, lane) => {
      for (let i = lane; i < indexes.length; i += Math.max(1, lanes)) {
        await sql.begin(async (tx) => {
          await tx`set local maintenance_work_mem = '256MB'`;
          await tx.unsafe(indexes[i]!.definition);
        });
      }
    }),
  );
  log(`${indexes.length} indexes built after ${seconds()} s`);

  // Children: one in 20 of the heavy athlete's activities becomes a leg of the activity before it.
  await sql`
    with numbered as (
      select id, row_number() over (order by start_time, id) as n from activities where athlete_id = ${heavyUser.athleteId}
    )
    update activities a set parent_id = p.id
      from numbered c join numbered p on p.n = c.n - 1
     where a.id = c.id and c.n % 20 = 0 and p.n % 20 <> 0`;

  // A sample of activities to GET, spread over each athlete's history, with three statistics each.
  const sample = await sql<{ id: string; user_id: string }[]>`
    select id, user_id from activities tablesample system (0.5) repeatable (42) limit 4000`;
  const tokenOf = new Map<string, string>();
  const owners = await sql<{ id: string; token: string }[]>`select user_id as id, token from session`;
  for (const owner of owners) tokenOf.set(owner.id, owner.token);
  await sql`
    insert into activity_statistics (activity_id, key, value, unit)
    select id, k.key, k.value, k.unit
      from unnest(${sql.array(sample.map((row) => row.id))}::uuid[]) as a(id)
     cross join (values ('avg_power_w', 210::float8, 'W'), ('avg_cadence_rpm', 88::float8, 'rpm'), ('training_load', 95::float8, 'score')) as k(key, value, unit)`;
  const activities = sample.map((row) => ({ id: row.id, token: tokenOf.get(row.user_id)! }));

  await sql`vacuum analyze activities`;
  await sql`analyze`;
  const [counted] = await sql<{ count: number }[]>`select count(*)::int as count from activities`;
  const count = counted!.count;
  log(`seeded ${count} activities in ${seconds()} s`);
  return { users, heavy, family, activities, total: count };
}
