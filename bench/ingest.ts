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
 * 3. The cost of duplicate detection (issue 25): the HealthKit workouts again on a fresh database,
 *    once with detection switched off, once on, each followed by the Garmin copy of every one of them
 *    (each a duplicate of one HealthKit workout that it outranks: the stored row is demoted), and for a
 *    second athlete the other order (the Garmin workouts, then their HealthKit copies, each joining
 *    the stored primary's group). Ratio on / off of the ingest rates, and off / on of the CPU per
 *    activity (the server process and its database backends), which the machine's other load moves
 *    far less than the wall clock.
 *
 * The project runs as `node dist/src/main.js` (NODE_ENV=production) on PostgreSQL with the
 * local-folder object store. Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_ingest),
 * BENCH_ACTIVITIES (20000), BENCH_STRAVA (200), BENCH_DETECTION_OFF (the server env that switches
 * detection off, as JSON; default {"DUPLICATE_DETECTION":"false"}), BENCH_DETECTION_RUNS (3: pairs of
 * off/on passes, each on a fresh database and server warmed up on another athlete; the medians are reported),
 * BENCH_ONLY_DETECTION=true (part 3 alone), BENCH_DETECTION_BASELINE_CHECKOUT (a checkout of the
 * project before duplicate groups existed, built: part 3's "off" passes run its server instead of
 * this one with detection switched off — the ingest rate as it was when issue 25 was filed),
 * BENCH_DETECTION_CHECKOUT (a built checkout whose server runs part 3's "on" passes instead of this
 * one: with the baseline above, the cost of detection as one commit added it, apart from later work).
 */
import { createHash, randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { parseEnv } from '../src/config/env.js';
import { HealthKitWorkoutSchema } from '@unified-activity/contract';
import { mapHealthKitWorkout } from '../src/modules/sync/mappers/healthkit.js';
import { parquetStreamCodec } from '@unified-activity/parquet-streams';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { summarise } from '../src/modules/streams/stream-samples.js';
import { streamObjectKey } from '../src/modules/streams/streams.service.js';
import type { StreamSamples, StreamType } from '../src/modules/streams/stream-types.js';
import { resetDatabase, signUp, startProject } from './project-server.js';
import { databaseCpu, type DatabaseCpu } from './database-cpu.js';
import { sample } from './server-process.js';
import { garminCopyOfHealthKitWorkout, healthKitWorkout, stravaActivity } from './sync-bodies.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_ingest';
const total = Number(process.env.BENCH_ACTIVITIES ?? 20_000);
const stravaTotal = Number(process.env.BENCH_STRAVA ?? 200);
const BATCH = 500;
const STRAVA_BATCH = 20;
const detectionOff = JSON.parse(process.env.BENCH_DETECTION_OFF ?? '{"DUPLICATE_DETECTION":"false"}') as Record<string, string>;
const detectionRuns = Number(process.env.BENCH_DETECTION_RUNS ?? 3);
const baselineCheckout = process.env.BENCH_DETECTION_BASELINE_CHECKOUT;
const detectionCheckout = process.env.BENCH_DETECTION_CHECKOUT;

async function post(base: string, path: string, token: string, body: string) {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ created: number; updated: number; unchanged: number }>;
}

/** Batch bodies of 500 HealthKit workouts, and of their Garmin copies. */
function healthKitBodies() {
  const workouts = Array.from({ length: total }, (_, i) => healthKitWorkout(i));
  const bodies: string[] = [];
  const garminBodies: string[] = [];
  for (let i = 0; i < workouts.length; i += BATCH) {
    bodies.push(JSON.stringify({ activities: workouts.slice(i, i + BATCH), cursor: `anchor-${i}` }));
    garminBodies.push(JSON.stringify({ activities: Array.from({ length: Math.min(BATCH, total - i) }, (_, k) => garminCopyOfHealthKitWorkout(i + k)) }));
  }
  return { workouts, bodies, garminBodies };
}

/** Sends `bodies` one after the other; answers the time taken and the summed counts. */
async function sendAll(base: string, path: string, token: string, bodies: string[], cpu?: CpuMeter) {
  const started = performance.now();
  const cpuBefore = await cpu?.read();
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const body of bodies) {
    const result = await post(base, path, token, body);
    counts.created += result.created;
    counts.updated += result.updated;
    counts.unchanged += result.unchanged;
  }
  const ms = performance.now() - started;
  return { ms, cpuMs: cpu && cpuBefore ? cpu.since(cpuBefore, await cpu.read()) : Number.NaN, ...counts };
}

/**
 * CPU time (ms) of the server process plus its database's backends: what the work cost on the
 * machine, whatever else slowed the wall clock. Background processes (autovacuum, WAL writer,
 * checkpointer) are not counted.
 */
interface CpuMeter {
  read(): Promise<Map<number, number>>;
  since(before: Map<number, number>, after: Map<number, number>): number;
  close(): Promise<void>;
}

function cpuMeter(serverPid: number, database: DatabaseCpu): CpuMeter {
  return {
    async read() {
      const backends = await database.backends();
      return new Map<number, number>([[serverPid, sample(serverPid).cpu * 1000], ...backends.map((pid): [number, number] => [pid, database.cpuMs([pid])])]);
    },
    // A backend that started during the work counts whole; one that ended during it is lost (the pool keeps its connections).
    since: (before, after) => [...after].reduce((sum, [pid, ms]) => sum + Math.max(0, ms - (before.get(pid) ?? 0)), 0),
    close: () => database.close(),
  };
}

/**
 * One pass of part 3 on a fresh database: the HealthKit first ingest, then the Garmin copies (each
 * outranks the HealthKit workout it copies: the stored row is demoted); then, for a second athlete,
 * the other order — the Garmin workouts first, then their HealthKit copies (each ranks below the
 * stored primary and joins its group: only its own row is written) — with the server's duplicate
 * detection as `extraEnv` leaves it.
 */
async function detectionPass(extraEnv: Record<string, string>, input: ReturnType<typeof healthKitBodies>, checkout?: string) {
  const sql = await resetDatabase(url);
  await sql.end();
  const server = await startProject({ databaseUrl: url, extraEnv, ...(checkout ? { checkout } : {}) });
  const cpu = cpuMeter(server.pid, databaseCpu(url));
  try {
    // A fresh process is slower until the JIT has seen the path: warm it on another athlete first.
    const warm = await signUp(server.base, 'bench-warm-up@example.test');
    await sendAll(server.base, `/api/v1/athletes/${warm.athleteId}/sync/healthkit/batches`, warm.token, input.bodies.slice(0, 2));
    await sendAll(server.base, `/api/v1/athletes/${warm.athleteId}/sync/garmin/batches`, warm.token, input.garminBodies.slice(0, 2));
    const athlete = await signUp(server.base, 'bench-detection@example.test');
    const first = await sendAll(server.base, `/api/v1/athletes/${athlete.athleteId}/sync/healthkit/batches`, athlete.token, input.bodies, cpu);
    const copies = await sendAll(server.base, `/api/v1/athletes/${athlete.athleteId}/sync/garmin/batches`, athlete.token, input.garminBodies, cpu);
    const other = await signUp(server.base, 'bench-detection-other-order@example.test');
    const garminFirst = await sendAll(server.base, `/api/v1/athletes/${other.athleteId}/sync/garmin/batches`, other.token, input.garminBodies);
    const members = await sendAll(server.base, `/api/v1/athletes/${other.athleteId}/sync/healthkit/batches`, other.token, input.bodies, cpu);
    for (const pass of [first, copies, garminFirst, members]) if (pass.created !== total) throw new Error(`expected ${total} created, got ${pass.created}`);
    const perActivityUs = (ms: number) => Math.round((ms * 1000) / total);
    return {
      firstPerS: rate(total, first.ms),
      copiesPerS: rate(total, copies.ms),
      membersPerS: rate(total, members.ms),
      firstCpuUs: perActivityUs(first.cpuMs),
      copiesCpuUs: perActivityUs(copies.cpuMs),
      membersCpuUs: perActivityUs(members.cpuMs),
    };
  } finally {
    await cpu.close();
    await server.stop();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

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

/** Parts 1 and 2: the project (as configured) against the hand-written baseline. */
async function againstBaseline(input: ReturnType<typeof healthKitBodies>) {
  const { workouts, bodies } = input;
  const sql = await resetDatabase(url);
  const server = await startProject({ databaseUrl: url });
  const env = server.env;
  try {
    const project = await signUp(server.base, 'bench-project@example.test');
    const baseline = await signUp(server.base, 'bench-baseline@example.test');

    // 1. HealthKit, statistics only.
    const path = `/api/v1/athletes/${project.athleteId}/sync/healthkit/batches`;
    const first = await sendAll(server.base, path, project.token, bodies);
    const replay = await sendAll(server.base, path, project.token, bodies);
    const firstMs = first.ms;
    const replayMs = replay.ms;
    if (first.created !== total || replay.unchanged !== total) throw new Error(`expected ${total} created and unchanged, got ${first.created} / ${replay.unchanged}`);
    const baselineMs = await baselineWrite(sql, baseline.athleteId, workouts);
    const baselineReplayMs = await baselineWrite(sql, baseline.athleteId, workouts);

    // 2. Strava with streams.
    const rides = Array.from({ length: stravaTotal }, (_, i) => stravaActivity(i));
    const stravaPath = `/api/v1/athletes/${project.athleteId}/sync/strava/batches`;
    let started = performance.now();
    for (let i = 0; i < rides.length; i += STRAVA_BATCH) await post(server.base, stravaPath, project.token, JSON.stringify({ activities: rides.slice(i, i + STRAVA_BATCH) }));
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
    };
    return results;
  } finally {
    await server.stop();
    await sql.end();
  }
}

/** Part 3: off/on passes alternated, the median rate of each. */
async function detectionCost(input: ReturnType<typeof healthKitBodies>) {
  const off: Awaited<ReturnType<typeof detectionPass>>[] = [];
  const on: typeof off = [];
  for (let run = 0; run < detectionRuns; run++) {
    off.push(await (baselineCheckout ? detectionPass({}, input, baselineCheckout) : detectionPass(detectionOff, input)));
    on.push(await detectionPass({}, input, detectionCheckout));
  }
  const summary = (passes: typeof off) => ({
    firstPerS: median(passes.map((p) => p.firstPerS)),
    copiesPerS: median(passes.map((p) => p.copiesPerS)),
    membersPerS: median(passes.map((p) => p.membersPerS)),
    firstCpuUs: median(passes.map((p) => p.firstCpuUs)),
    copiesCpuUs: median(passes.map((p) => p.copiesCpuUs)),
    membersCpuUs: median(passes.map((p) => p.membersCpuUs)),
  });
  const [withoutDetection, withDetection] = [summary(off), summary(on)];
  return {
    switchedOffWith: baselineCheckout ? { checkout: baselineCheckout } : detectionOff,
    ...(detectionCheckout ? { switchedOnWith: { checkout: detectionCheckout } } : {}),
    runs: detectionRuns,
    withoutDetection,
    withDetection,
    firstRatio: +(withDetection.firstPerS / withoutDetection.firstPerS).toFixed(2),
    copiesRatio: +(withDetection.copiesPerS / withoutDetection.copiesPerS).toFixed(2),
    membersRatio: +(withDetection.membersPerS / withoutDetection.membersPerS).toFixed(2),
    // The same ratios from CPU per activity (server + its backends), which the machine's other load moves far less than the wall clock.
    cpuRatios: {
      first: +(withoutDetection.firstCpuUs / withDetection.firstCpuUs).toFixed(2),
      demoting: +(withoutDetection.copiesCpuUs / withDetection.copiesCpuUs).toFixed(2),
      joining: +(withoutDetection.membersCpuUs / withDetection.membersCpuUs).toFixed(2),
    },
    // Each pair's own ratios (an off pass and the on pass after it): how far one pair strays from the medians.
    pairRatios: off.map((o, run) => {
      const n = on[run]!;
      const ratio = (a: number, b: number) => +(a / b).toFixed(2);
      return {
        wall: { first: ratio(n.firstPerS, o.firstPerS), demoting: ratio(n.copiesPerS, o.copiesPerS), joining: ratio(n.membersPerS, o.membersPerS) },
        cpu: { first: ratio(o.firstCpuUs, n.firstCpuUs), demoting: ratio(o.copiesCpuUs, n.copiesCpuUs), joining: ratio(o.membersCpuUs, n.membersCpuUs) },
      };
    }),
  };
}

async function main() {
  const input = healthKitBodies();
  if (process.env.BENCH_ONLY_DETECTION === 'true') {
    const d = await detectionCost(input);
    console.log(JSON.stringify(d, null, 2));
    console.log(`duplicate detection on/off: first ingest ratio ${d.firstRatio}, demoting copies ${d.copiesRatio}, copies joining as members ${d.membersRatio}; goal ≥ 0.9`);
    console.log(`the same from CPU per activity (off / on): first ingest ${d.cpuRatios.first}, demoting copies ${d.cpuRatios.demoting}, joining ${d.cpuRatios.joining}`);
    return;
  }
  const results = { ...(await againstBaseline(input)), detection: await detectionCost(input), runId: randomUUID() };
  console.log(JSON.stringify(results, null, 2));
  console.log(`HealthKit first ingest ${results.healthkit.firstIngestPerS}/s, replay ${results.healthkit.replayPerS}/s, baseline ${results.healthkit.baselinePerS}/s`);
  console.log(`ratios: first/baseline ${results.healthkit.firstVsBaseline} (goal ≥ 0.5), replay/baseline ${results.healthkit.replayVsBaseline} (goal ≥ 1.0)`);
  console.log(`Strava with streams: ${results.strava.ingestPerS}/s vs streams write path ${results.strava.baselinePerS}/s (ratio ${results.strava.ingestVsBaseline})`);
  const d = results.detection;
  console.log(
    `duplicate detection on/off: HealthKit first ingest ${d.withDetection.firstPerS}/s vs ${d.withoutDetection.firstPerS}/s (ratio ${d.firstRatio}), ` +
      `their Garmin copies ${d.withDetection.copiesPerS}/s vs ${d.withoutDetection.copiesPerS}/s (ratio ${d.copiesRatio}), ` +
      `HealthKit copies of Garmin workouts ${d.withDetection.membersPerS}/s vs ${d.withoutDetection.membersPerS}/s (ratio ${d.membersRatio}); goal ≥ 0.9`,
  );
}

await main();
