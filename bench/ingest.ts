/**
 * `npm run bench:ingest` — batch ingest through the API against hand-written SQL (issue 11).
 *
 * 1. 20,000 HealthKit-shaped workouts (statistics, metadata, no streams) in batches of 500 through
 *    POST /api/v1/athletes/{id}/sync/healthkit/batches, then the same batches again (replay).
 *    Baseline: the same rows (mapped by the same mapper, outside the timing) written by a hand-written
 *    multi-row `INSERT … ON CONFLICT (athlete_id, source, external_id) DO UPDATE` plus the statistics
 *    rows, through `postgres`, one transaction per 500.
 * 2. 200 Strava activities with full 1 Hz streams (1 h: time, latlng, heartrate, watts, altitude,
 *    velocity_smooth, cadence) in batches of 20. Baseline: the streams write path called directly —
 *    the same Parquet codec and object store, plus the activity and stream rows by SQL.
 *
 * The project runs as `node dist/src/main.js` (NODE_ENV=production) on PostgreSQL with the
 * local-folder object store. Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_ingest),
 * BENCH_ACTIVITIES (20000), BENCH_STRAVA (200).
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { parseEnv } from '../src/config/env.js';
import { HealthKitWorkoutSchema } from '@unified-activity/contract';
import { mapHealthKitWorkout } from '../src/modules/sync/mappers/healthkit.js';
import { parquetStreamCodec } from '@unified-activity/parquet-streams';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { summarise } from '../src/modules/streams/stream-samples.js';
import { streamObjectKey } from '../src/modules/streams/streams.service.js';
import type { StreamSamples, StreamType } from '../src/modules/streams/stream-types.js';
import { healthKitWorkout, stravaActivity } from './sync-bodies.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_ingest';
const total = Number(process.env.BENCH_ACTIVITIES ?? 20_000);
const stravaTotal = Number(process.env.BENCH_STRAVA ?? 200);
const BATCH = 500;
const STRAVA_BATCH = 20;
const port = 3131;
const base = `http://127.0.0.1:${port}`;

async function resetDatabase(): Promise<postgres.Sql> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const name = new URL(url).pathname.slice(1);
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => undefined });
  const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
  if (!exists) await sql.unsafe(`create database "${name}"`);
  await sql.end();
  const db = postgres(url, { max: 4, onnotice: () => undefined });
  await db.unsafe('drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public;');
  return db;
}

async function post(path: string, token: string, body: string) {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ created: number; updated: number; unchanged: number }>;
}

async function signUp(email: string) {
  const response = await fetch(`${base}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email, password: 'bench-password-123' }),
  });
  const token = response.headers.get('set-auth-token')!;
  const athletes = (await (await fetch(`${base}/api/v1/athletes`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { id: string }[] };
  return { token, athleteId: athletes.items[0]!.id };
}

const COLUMNS = [
  'athlete_id', 'activity_type', 'source_activity_type', 'source', 'external_id', 'name', 'start_time', 'end_time', 'time_zone',
  'duration_s', 'distance_m', 'active_energy_kcal', 'avg_heart_rate_bpm', 'max_heart_rate_bpm', 'elevation_gain_m', 'is_indoor',
  'device_name', 'source_data', 'source_data_hash',
] as const;

/** The hand-written baseline: one multi-row upsert of the activities, then their statistics, per 500. */
async function baselineWrite(sql: postgres.Sql, athleteId: string, items: ReturnType<typeof healthKitWorkout>[]) {
  const mapped = items.map((item) => ({ item, activity: mapHealthKitWorkout(HealthKitWorkoutSchema.parse(item)) }));
  const started = performance.now();
  for (let i = 0; i < mapped.length; i += BATCH) {
    const chunk = mapped.slice(i, i + BATCH);
    await sql.begin(async (tx) => {
      const rows = chunk.map(({ item, activity: a }) => [
        athleteId, a.activityType, a.sourceActivityType, 'healthkit', a.externalId, a.name, a.startTime.toISOString(), a.endTime.toISOString(),
        a.timeZone ?? 'UTC', a.durationS, a.distanceM, a.activeEnergyKcal, a.avgHeartRateBpm, a.maxHeartRateBpm, a.elevationGainM, a.isIndoor,
        a.deviceName, JSON.stringify(item), createHash('sha256').update(JSON.stringify(item)).digest('hex'),
      ]);
      const params: unknown[] = [];
      const values = rows
        .map((row) => `(${row.map((value) => { params.push(value); return `$${params.length}`; }).join(',')})`)
        .join(',');
      const ids = await tx.unsafe<{ id: string }[]>(
        `insert into activities (${COLUMNS.join(',')}) values ${values}
         on conflict (athlete_id, source, external_id) where external_id is not null do update set
         activity_type = excluded.activity_type, name = excluded.name, start_time = excluded.start_time, end_time = excluded.end_time,
         duration_s = excluded.duration_s, distance_m = excluded.distance_m, active_energy_kcal = excluded.active_energy_kcal,
         avg_heart_rate_bpm = excluded.avg_heart_rate_bpm, max_heart_rate_bpm = excluded.max_heart_rate_bpm,
         elevation_gain_m = excluded.elevation_gain_m, source_data = excluded.source_data, source_data_hash = excluded.source_data_hash,
         revision = activities.revision + 1, updated_at = now()
         returning id`,
        params as never[],
      );
      const stats = chunk.flatMap(({ activity }, k) => activity.statistics.map((s) => [ids[k]!.id, s.key, s.value, s.unit]));
      await tx.unsafe(`delete from activity_statistics where activity_id = any($1::uuid[])`, [ids.map((r) => r.id)] as never[]);
      await tx.unsafe(
        `insert into activity_statistics (activity_id, key, value, unit) select * from unnest($1::uuid[], $2::text[], $3::float8[], $4::text[])`,
        [stats.map((s) => s[0]), stats.map((s) => s[1]), stats.map((s) => s[2]), stats.map((s) => s[3])] as never[],
      );
    });
  }
  return performance.now() - started;
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

async function main() {
  const sql = await resetDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    AUTH_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
    AUTH_RATE_LIMIT: 'false',
  };
  const server = spawn(process.execPath, ['dist/src/main.js'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 120; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok).catch(() => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const project = await signUp('bench-project@example.test');
    const baseline = await signUp('bench-baseline@example.test');

    // 1. HealthKit, statistics only.
    const workouts = Array.from({ length: total }, (_, i) => healthKitWorkout(i));
    const bodies: string[] = [];
    for (let i = 0; i < workouts.length; i += BATCH) bodies.push(JSON.stringify({ activities: workouts.slice(i, i + BATCH), cursor: `anchor-${i}` }));
    const path = `/api/v1/athletes/${project.athleteId}/sync/healthkit/batches`;
    let started = performance.now();
    let created = 0;
    for (const body of bodies) created += (await post(path, project.token, body)).created;
    const firstMs = performance.now() - started;
    started = performance.now();
    let unchanged = 0;
    for (const body of bodies) unchanged += (await post(path, project.token, body)).unchanged;
    const replayMs = performance.now() - started;
    if (created !== total || unchanged !== total) throw new Error(`expected ${total} created and unchanged, got ${created} / ${unchanged}`);
    const baselineMs = await baselineWrite(sql, baseline.athleteId, workouts);
    const baselineReplayMs = await baselineWrite(sql, baseline.athleteId, workouts);

    // 2. Strava with streams.
    const rides = Array.from({ length: stravaTotal }, (_, i) => stravaActivity(i));
    const stravaPath = `/api/v1/athletes/${project.athleteId}/sync/strava/batches`;
    started = performance.now();
    for (let i = 0; i < rides.length; i += STRAVA_BATCH) await post(stravaPath, project.token, JSON.stringify({ activities: rides.slice(i, i + STRAVA_BATCH) }));
    const stravaMs = performance.now() - started;

    const store = createObjectStore(parseEnv({ ...env, LOG_LEVEL: 'silent' }));
    const columns = (ride: ReturnType<typeof stravaActivity>): [StreamType, StreamSamples][] => {
      const startMs = Date.parse(ride.start_date);
      const ts = Float64Array.from(ride.streams[0]!.data as number[], (s) => startMs + s * 1000);
      const scalar = (k: number) => Float64Array.from(ride.streams[k]!.data as number[]);
      const latlng = ride.streams[1]!.data as number[][];
      return [
        ['position', { timestamps: ts, latitude: Float64Array.from(latlng, (p) => p[0]!), longitude: Float64Array.from(latlng, (p) => p[1]!), altitudeM: null, horizontalAccuracyM: null }],
        ['heart_rate', { timestamps: ts, values: scalar(2) }],
        ['power', { timestamps: ts, values: scalar(3) }],
        ['altitude', { timestamps: ts, values: scalar(4) }],
        ['speed', { timestamps: ts, values: scalar(5) }],
        ['cadence', { timestamps: ts, values: scalar(6) }],
      ];
    };
    started = performance.now();
    for (const ride of rides) {
      const startTime = new Date(ride.start_date);
      const [row] = await sql<{ id: string }[]>`
        insert into activities (athlete_id, activity_type, source_activity_type, source, external_id, name, start_time, end_time, source_data)
        values (${baseline.athleteId}, 'cycling', 'Ride', 'strava', ${String(ride.id)}, ${ride.name}, ${startTime}, ${new Date(startTime.getTime() + 3600_000)}, ${sql.json({ ...ride, streams: undefined })})
        returning id`;
      for (const [type, samples] of columns(ride)) {
        const bytes = parquetStreamCodec.encode(type, samples);
        const key = streamObjectKey(baseline.athleteId, row!.id, type, 'baseline');
        await store.put(key, bytes, { contentType: parquetStreamCodec.contentType });
        const summary = summarise(samples);
        await sql`insert into activity_streams (activity_id, stream_type, object_key, sample_count, start_time, end_time, min_value, max_value, avg_value, byte_size, checksum_sha256)
          values (${row!.id}, ${type}, ${key}, ${summary.sampleCount}, ${summary.startTime}, ${summary.endTime}, ${summary.minValue}, ${summary.maxValue}, ${summary.avgValue}, ${bytes.byteLength}, ${createHash('sha256').update(bytes).digest('hex')})`;
      }
    }
    const stravaBaselineMs = performance.now() - started;
    await store.close?.();

    const results = {
      healthkit: {
        activities: total,
        firstIngestPerS: rate(total, firstMs),
        replayPerS: rate(total, replayMs),
        baselinePerS: rate(total, baselineMs),
        baselineReplayPerS: rate(total, baselineReplayMs),
        firstVsBaseline: +(baselineMs / firstMs).toFixed(2),
        replayVsBaseline: +(baselineMs / replayMs).toFixed(2),
      },
      strava: {
        activities: stravaTotal,
        ingestPerS: +((stravaTotal / stravaMs) * 1000).toFixed(1),
        baselinePerS: +((stravaTotal / stravaBaselineMs) * 1000).toFixed(1),
        ingestVsBaseline: +(stravaBaselineMs / stravaMs).toFixed(2),
      },
      runId: randomUUID(),
    };
    console.log(JSON.stringify(results, null, 2));
    console.log(`HealthKit first ingest ${results.healthkit.firstIngestPerS}/s, replay ${results.healthkit.replayPerS}/s, baseline ${results.healthkit.baselinePerS}/s`);
    console.log(`ratios: first/baseline ${results.healthkit.firstVsBaseline} (goal ≥ 0.5), replay/baseline ${results.healthkit.replayVsBaseline} (goal ≥ 1.0)`);
    console.log(`Strava with streams: ${results.strava.ingestPerS}/s vs streams write path ${results.strava.baselinePerS}/s (ratio ${results.strava.ingestVsBaseline})`);
  } finally {
    server.kill('SIGTERM');
    await sql.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
