import { randomBytes, randomUUID } from 'node:crypto';
import type postgres from 'postgres';

export interface SeededData {
  /** Bearer token and athlete ids of each user. */
  users: { token: string; athleteIds: string[] }[];
  /** A sample of activity ids (with their owner's token) to fetch one by one. */
  activities: { id: string; token: string }[];
}

const TYPES = ['running', 'trail_running', 'cycling', 'road_cycling', 'walking', 'hiking', 'strength_training', 'yoga', 'pool_swimming', 'hiit'];

/**
 * Bulk-seeds users (with sessions, so no password hashing), one athlete each (the default athlete the
 * trigger creates), and `perAthlete` activities with three statistics each, through plain SQL.
 */
export async function seed(sql: postgres.Sql, athletes: number, perAthlete: number): Promise<SeededData> {
  const users: SeededData['users'] = [];
  const activities: SeededData['activities'] = [];
  for (let u = 0; u < athletes; u++) {
    const userId = randomUUID();
    const token = randomBytes(24).toString('base64url');
    await sql`insert into "user" (id, name, email) values (${userId}, ${`Bench ${u}`}, ${`bench-${userId}@example.test`})`;
    await sql`insert into session (id, token, user_id, expires_at) values (${randomUUID()}, ${token}, ${userId}, now() + interval '7 days')`;
    const [athlete] = await sql<{ id: string }[]>`select id from athletes where user_id = ${userId}`;
    users.push({ token, athleteIds: [athlete!.id] });

    const base = Date.UTC(2016, 0, 1);
    const starts = Array.from({ length: perAthlete }, (_, i) => new Date(base + i * 86_400_000 + (u % 24) * 3_600_000));
    const rows = await sql<{ id: string }[]>`
      insert into activities (athlete_id, activity_type, source, external_id, name, start_time, end_time, time_zone,
                              duration_s, moving_time_s, distance_m, active_energy_kcal, avg_heart_rate_bpm, max_heart_rate_bpm,
                              elevation_gain_m, elevation_loss_m, avg_speed_m_s, max_speed_m_s, is_indoor, device_name, source_data)
      select ${athlete!.id}, (${sql.array(TYPES)}::text[])[1 + (g % ${TYPES.length})], 'garmin', 'g-' || g, 'Activity ' || g,
             s, s + interval '1 hour', 'Europe/Berlin', 3600, 3500, 10000 + g, 600, 140 + g % 20, 175 + g % 10,
             100, 95, 2.8, 4.5, false, 'Forerunner 965', json_build_object('id', g, 'sport', 'running', 'laps', json_build_array(1, 2, 3))
        from unnest(${sql.array(starts.map((d) => d.toISOString()))}::timestamptz[]) with ordinality as t(s, g)
      returning id`;
    const ids = rows.map((row) => row.id);
    await sql`
      insert into activity_statistics (activity_id, key, value, unit)
      select id, k.key, k.value, k.unit
        from unnest(${sql.array(ids)}::uuid[]) as a(id)
       cross join (values ('avg_power_w', 210::float8, 'W'), ('avg_cadence_rpm', 88::float8, 'rpm'), ('training_load', 95::float8, 'score')) as k(key, value, unit)`;
    for (let i = 0; i < ids.length; i += Math.ceil(ids.length / 20)) activities.push({ id: ids[i]!, token });
  }
  await sql`analyze`;
  return { users, activities };
}
