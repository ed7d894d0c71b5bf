/**
 * `npm run bench:streams` — Parquet streams on object storage (through the API) against the old
 * row-per-sample layout in PostgreSQL, on the same samples and the same machine (issue 5).
 *
 * Data: a 1-hour and a 10-hour activity at 1 Hz with heart_rate, position, altitude, speed, power and
 * cadence (position = latitude/longitude doubles; altitude is its own stream). The project runs as `node dist/src/main.js` on PostgreSQL with the local-folder object
 * store (BENCH_S3=1: an in-process S3-protocol server instead). The baseline is one table per stream
 * type: uuid key, activity id, timestamp, value column(s), index on (activity_id, timestamp). The
 * project's server runs with the image's CMD flags and malloc settings (bench/server-process.ts).
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_streams), BENCH_RUNS (5),
 * BENCH_SMALL=0 (skip the 1 h / 10 h rows), BENCH_LARGE=0 (skip the 2,000,000-sample rows),
 * BENCH_LARGE_SAMPLES (the size of the "2,000,000-sample" rows, e.g. 200000 while iterating),
 * BENCH_LARGE_RUNS (3: each 2,000,000-sample operation is repeated, the table gives median and worst),
 * BENCH_HOURS (1,4,10: the small activities' lengths), BENCH_FLOOR_BATCHES (7: batches of the
 * full-read-against-the-floor and time-range rows, issue 24).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type postgres from 'postgres';
import { parseEnv } from '../src/config/env.js';
import { lttbWithExtremes, simplifyTrack } from '../src/modules/streams/downsample.js';
import { columnsFromSamples } from '../src/modules/streams/stream-samples.js';
import { parquetStreamCodec, type StreamType } from '@unified-activity/parquet-streams';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { rng } from '../libs/testing/seeded-random.js';
import { resetDatabase } from './project-server.js';
import { imageCommand } from './server-process.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_streams';
const runs = Number(process.env.BENCH_RUNS ?? 5);
const largeCount = Number(process.env.BENCH_LARGE_SAMPLES ?? 2_000_000);
const largeRuns = Number(process.env.BENCH_LARGE_RUNS ?? 3);
const port = 3121;
const base = `http://127.0.0.1:${port}`;
const baselinePort = 3122;
const baselineBase = `http://127.0.0.1:${baselinePort}`;
const barePort = 3123;
const bareBase = `http://127.0.0.1:${barePort}`;
const SCALAR = ['heart_rate', 'altitude', 'speed', 'power', 'cadence'] as const;
type Scalar = (typeof SCALAR)[number];


interface Activity {
  label: string;
  start: Date;
  end: Date;
  timestamps: number[];
  scalar: Record<Scalar, number[]>;
  /** GPS fixes; altitude is its own stream, as devices (FIT enhanced_altitude) record it. */
  position: { latitude: number[]; longitude: number[] };
}

function makeActivity(label: string, hours: number, seed: number): Activity {
  const random = rng(seed);
  const count = hours * 3600;
  const start = new Date(Date.UTC(2026, 4, 1, 6));
  const timestamps = Array.from({ length: count }, (_, i) => start.getTime() + i * 1000);
  const walk = (v: number, step: number, min: number, max: number, round: boolean) =>
    Array.from({ length: count }, () => {
      v = Math.min(max, Math.max(min, v + (random() - 0.5) * step));
      return round ? Math.round(v) : v;
    });
  let lat = 47.3769;
  let lng = 8.5417;
  const latitude: number[] = [];
  const longitude: number[] = [];
  for (let i = 0; i < count; i++) {
    lat += (random() - 0.3) * 0.00003;
    lng += (random() - 0.4) * 0.00004;
    latitude.push(lat);
    longitude.push(lng);
  }
  const altitude = walk(420, 0.8, 200, 2500, false);
  return {
    label,
    start,
    end: new Date(start.getTime() + count * 1000),
    timestamps,
    scalar: {
      heart_rate: walk(120, 3, 60, 190, true),
      altitude,
      speed: walk(3, 0.3, 0, 12, false),
      power: walk(220, 25, 0, 900, true),
      cadence: walk(85, 3, 0, 180, true),
    },
    position: { latitude, longitude },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The old layout (heart_rate_samples, route_locations, …): one row per sample. */
async function createBaseline(sql: postgres.Sql) {
  for (const type of SCALAR) {
    await sql.unsafe(`create table baseline_${type} (id uuid primary key default gen_random_uuid(), activity_id uuid not null,
      timestamp timestamptz not null, value double precision not null);
      create index on baseline_${type} (activity_id, timestamp)`);
  }
  await sql.unsafe(`create table baseline_position (id uuid primary key default gen_random_uuid(), activity_id uuid not null,
    timestamp timestamptz not null, latitude double precision not null, longitude double precision not null, altitude_m double precision);
    create index on baseline_position (activity_id, timestamp)`);
}

async function baselineWrite(sql: postgres.Sql, activityId: string, activity: Activity) {
  const ts = activity.timestamps.map((t) => new Date(t).toISOString());
  await sql.begin(async (tx) => {
    for (const type of SCALAR) {
      await tx.unsafe(
        `insert into baseline_${type} (activity_id, timestamp, value) select $1, t, v from unnest($2::timestamptz[], $3::float8[]) as u(t, v)`,
        [activityId, ts, activity.scalar[type]] as never[],
      );
    }
    await tx.unsafe(
      `insert into baseline_position (activity_id, timestamp, latitude, longitude, altitude_m)
       select $1, t, la, lo, null from unnest($2::timestamptz[], $3::float8[], $4::float8[]) as u(t, la, lo)`,
      [activityId, ts, activity.position.latitude, activity.position.longitude] as never[],
    );
  });
}

async function baselineRead(sql: postgres.Sql, activityId: string, maxPoints?: number) {
  const rows = await sql<{ t: Date; value: number }[]>`
    select timestamp as t, value from baseline_heart_rate where activity_id = ${activityId} order by timestamp`;
  const timestamps = Float64Array.from(rows, (row) => row.t.getTime());
  const values = Float64Array.from(rows, (row) => row.value);
  if (!maxPoints) return { timestamps: Array.from(timestamps), values: Array.from(values) };
  const keep = lttbWithExtremes(timestamps, values, maxPoints);
  return { timestamps: Array.from(keep, (i) => timestamps[i]), values: Array.from(keep, (i) => values[i]) };
}

async function baselineReadPosition(sql: postgres.Sql, activityId: string, maxPoints?: number) {
  const rows = await sql<{ t: Date; latitude: number; longitude: number; altitude_m: number }[]>`
    select timestamp as t, latitude, longitude, altitude_m from baseline_position where activity_id = ${activityId} order by timestamp`;
  const latitude = Float64Array.from(rows, (row) => row.latitude);
  const longitude = Float64Array.from(rows, (row) => row.longitude);
  const pick = maxPoints ? Array.from(simplifyTrack(latitude, longitude, maxPoints).indices) : rows.map((_, i) => i);
  return pick.map((i) => ({ t: rows[i]!.t.getTime(), lat: latitude[i], lng: longitude[i], alt: rows[i]!.altitude_m }));
}

async function api(path: string, token: string, init: RequestInit = {}, server = base) {
  const response = await fetch(`${server}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function projectWrite(token: string, activityId: string, activity: Activity) {
  const put = (type: string, body: object) =>
    api(`/api/v1/activities/${activityId}/streams/${type}`, token, { method: 'PUT', body: JSON.stringify(body) });
  for (const type of SCALAR) await put(type, { timestamps: activity.timestamps, values: activity.scalar[type] });
  await put('position', { timestamps: activity.timestamps, ...activity.position });
}

const WARM_UP_ROUNDS = Number(process.env.BENCH_WARM_UP_ROUNDS ?? 150);

/**
 * Every read shape the tables below measure (the stream list, each type's full read, a slice, a
 * maxPoints read), WARM_UP_ROUNDS times on an activity of their own, before anything is measured: a
 * server that has answered a few hundred reads, as one in use has. Without it the first rows (1 h)
 * measured the server while V8 was still compiling the read path (the stream list cost 2.40 ms there
 * and 0.93 ms in the 4 h rows of the same run).
 */
async function warmUp(token: string, athleteId: string): Promise<void> {
  if (WARM_UP_ROUNDS <= 0) return;
  const activity = makeActivity('warm-up', 1, 7);
  const { id } = (await api('/api/v1/activities', token, {
    method: 'POST',
    body: JSON.stringify({ athleteId, activityType: 'running', startTime: activity.start.toISOString(), endTime: activity.end.toISOString() }),
  })) as { id: string };
  await projectWrite(token, id, activity);
  const from = activity.start.getTime() + 900_000;
  const paths = [
    `/api/v1/activities/${id}/streams`,
    ...[...SCALAR, 'position'].flatMap((type) => [
      `/api/v1/activities/${id}/streams/${type}`,
      `/api/v1/activities/${id}/streams/${type}?from=${from}&to=${from + 1_800_000}`,
      `/api/v1/activities/${id}/streams/${type}?maxPoints=500`,
    ]),
  ];
  for (let round = 0; round < WARM_UP_ROUNDS; round++) for (const path of paths) await rawGet(path, token);
}

/**
 * This process is the load generator, on the same two-core machine as the servers it measures, and it
 * is heavy (2,000,000-element arrays, 100 MiB bodies, and the garbage collection of both). Once the
 * servers are started, every thread of this process (V8's GC helpers included; Linux keeps a nice value
 * per thread) drops to nice 10, so that the stall columns measure the servers' event loops rather than
 * the two cores being taken by this process. Threads started later inherit it.
 */
function yieldCpuToServers(): void {
  try {
    for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), 10);
  } catch {
    setPriority(10); // not Linux: the main thread only
  }
}

async function main() {
  const sql = await resetDatabase(url);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-streams-'));
  let s3: { endpoint: string; stop(): Promise<void> } | undefined;
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
  if (process.env.BENCH_S3 === '1') {
    // s3rver ships no types; only its constructor, run and close are used.
    const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => {
      run(): Promise<{ port: number }>;
      close(): Promise<void>;
    };
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dataDir, 's3'), resetOnClose: true, vhostBuckets: false });
    const { port: s3Port } = await server.run();
    s3 = { endpoint: `http://127.0.0.1:${s3Port}`, stop: () => server.close() };
    Object.assign(env, { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' });
  }
  const probe = ['--expose-gc', '--import', './dist/bench/probe.js'];
  // The project's server as the image runs it (its CMD's node flags and malloc settings: V8's heap
  // sizing decides how often a read pays for a full collection, docs/benchmarks.md).
  const image = imageCommand();
  const server = spawn(process.execPath, [...image.nodeFlags, ...probe, image.script], {
    env: { ...process.env, ...image.mallocEnv, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const baselineServer = spawn(process.execPath, [...probe, 'dist/bench/baseline-server.js'], {
    env: { ...process.env, DATABASE_URL: url, PORT: String(baselinePort) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // The third floor: node:http doing only the in-process floor's work per request (bench/bare-stream-server.ts).
  const bareServer = spawn(process.execPath, [...image.nodeFlags, ...probe, 'dist/bench/bare-stream-server.js'], {
    env: { ...process.env, ...image.mallocEnv, PORT: String(barePort) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  yieldCpuToServers();
  try {
    for (let i = 0; i < 120; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok).catch(() => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await createBaseline(sql);
    for (let i = 0; i < 60; i++) {
      if (await fetch(`${baselineBase}/api/v1/activities`).then(() => true).catch(() => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: 'bench@example.test', password: 'bench-password-123' }),
    });
    const token = signUp.headers.get('set-auth-token')!;
    const athleteId = ((await api('/api/v1/athletes', token)) as { items: { id: string }[] }).items[0]!.id;

    // The same store the server writes to, opened in this process to time the storage layer alone.
    const store = createObjectStore(parseEnv({ ...env, LOG_LEVEL: 'silent' }));
    const objectKey = async (activityId: string, type: string) =>
      ((await sql`select object_key from activity_streams where activity_id = ${activityId} and stream_type = ${type}`) as unknown as [{ object_key: string }])[0]
        .object_key;
    const storageRead = async (activityId: string, type: 'heart_rate' | 'position') => {
      const key = await objectKey(activityId, type);
      return timed(async () => parquetStreamCodec.decode(await store.get(key), type));
    };
    const rows: string[] = [];
    const sizes: string[] = [];
    const floors: string[] = [];
    const slices: string[] = [];
    await warmUp(token, athleteId);
    const hours = (process.env.BENCH_HOURS ?? '1,4,10').split(',').map(Number);
    const small = process.env.BENCH_SMALL === '0' ? [] : hours.map((h) => makeActivity(`${h} h`, h, h === 1 ? 1 : h === 10 ? 2 : 100 + h)) // the seeds of the 1 h and 10 h rows as before;
    for (const activity of small) {
      const samples = activity.timestamps.length;
      const writeApi: number[] = [];
      const writeSql: number[] = [];
      let projectId = '';
      let baselineId = '';
      for (let run = 0; run < runs; run++) {
        const created = (await api('/api/v1/activities', token, {
          method: 'POST',
          body: JSON.stringify({ athleteId, activityType: 'running', startTime: activity.start.toISOString(), endTime: activity.end.toISOString() }),
        })) as { id: string };
        projectId = created.id;
        writeApi.push(await timed(() => projectWrite(token, projectId, activity)));
        baselineId = crypto.randomUUID();
        writeSql.push(await timed(() => baselineWrite(sql, baselineId, activity)));
      }
      await sql`vacuum analyze`;

      const read = (server: string, activityId: string, maxPoints?: number, type = 'heart_rate') =>
        timed(() => api(`/api/v1/activities/${activityId}/streams/${type}${maxPoints ? `?maxPoints=${maxPoints}` : ''}`, token, {}, server));
      const readApi = (maxPoints?: number, type = 'heart_rate') => read(base, projectId, maxPoints, type);
      const readBaseline = (maxPoints?: number, type = 'heart_rate') => read(baselineBase, baselineId, maxPoints, type);
      // Reads take milliseconds: five times as many runs as writes, for a median that holds still.
      const measure = async (work: () => Promise<number>) => {
        await work();
        const times: number[] = [];
        for (let run = 0; run < runs * 5; run++) times.push(await work());
        return median(times);
      };
      const results = {
        write: [median(writeApi), median(writeSql)],
        readFull: [await measure(() => readApi()), await measure(() => readBaseline())],
        read500: [await measure(() => readApi(500)), await measure(() => readBaseline(500))],
        readGps: [await measure(() => readApi(undefined, 'position')), await measure(() => readBaseline(undefined, 'position'))],
        readGps500: [await measure(() => readApi(500, 'position')), await measure(() => readBaseline(500, 'position'))],
        storageHr: [await measure(() => storageRead(projectId, 'heart_rate')), await measure(() => timed(() => baselineRead(sql, baselineId)))],
        storageGps: [await measure(() => storageRead(projectId, 'position')), await measure(() => timed(() => baselineReadPosition(sql, baselineId)))],
      };
      // Full reads against two floors on the same object, in the same run (issue 24): decoding it, and
      // decoding plus JSON.stringify of the answer the procedure builds (what any server must at least
      // do). The HTTP read ends with the answer's last byte (the client's JSON.parse is the client's
      // work, not the server's; the table above includes it). Interleaved in batches, so that a change
      // of the machine's load hits both sides alike; medians. Two measures: wall time, and CPU time —
      // the server process's (all threads) per read over a batch, against the floor's on this thread —
      // which the other sessions' load on a shared machine does not inflate.
      // What any authenticated request of this server costs over HTTP (one metadata query, a small answer).
      const requestFloor = await measure(() => timed(() => api(`/api/v1/activities/${projectId}/streams`, token)));
      const requestCpu = await serverCpuPerRequest(server, () => api(`/api/v1/activities/${projectId}/streams`, token));
      for (const type of [...SCALAR, 'position'] as const) {
        const bytes = await store.get(await objectKey(projectId, type));
        const path = `/api/v1/activities/${projectId}/streams/${type}`;
        const bareObject = `${bareBase}/objects/${projectId}-${type}`;
        const put = await fetch(`${bareObject}?type=${type}`, { method: 'PUT', body: bytes });
        if (put.status !== 204) throw new Error(`bare server: PUT ${put.status}`);
        const full = await againstFloors(server, () => rawGet(path, token), bytes, type, { child: bareServer, read: () => rawGet(bareObject) });
        floors.push(
          `| ${activity.label} | ${type} | ${full.http.toFixed(2)} | ${full.decode.toFixed(2)} | ${full.floor.toFixed(2)} | **${(full.http / full.floor).toFixed(2)}×** | ` +
            `${full.bare.toFixed(2)} (${(full.bare / full.floor).toFixed(2)}×) | ` +
            `${full.httpCpu.toFixed(2)} | ${full.decodeCpu.toFixed(2)} | ${full.floorCpu.toFixed(2)} | **${(full.httpCpu / full.floorCpu).toFixed(2)}×** | ` +
            `${full.bareCpu.toFixed(2)} (${(full.bareCpu / full.floorCpu).toFixed(2)}×) | ${requestFloor.toFixed(2)} / ${requestCpu.toFixed(2)} |`,
        );
        // The middle hour of a long stream (from/to): a tenth of the 10 h stream.
        if (activity.timestamps.length >= 36_000) {
          const from = activity.start.getTime() + 4.5 * 3_600_000;
          const slicePath = `${path}?from=${from}&to=${from + 3_600_000}`;
          const slice = await againstFloors(server, () => rawGet(slicePath, token));
          const again = await againstFloors(server, () => rawGet(path, token));
          slices.push(
            `| ${activity.label} | ${type} | ${slice.http.toFixed(2)} | ${again.http.toFixed(2)} | **${(slice.http / again.http).toFixed(2)}×** | ` +
              `${slice.httpCpu.toFixed(2)} | ${again.httpCpu.toFixed(2)} | **${(slice.httpCpu / again.httpCpu).toFixed(2)}×** |`,
          );
        }
      }
      const fmt = ([project, baseline]: number[]) =>
        `${project!.toFixed(1)} | ${baseline!.toFixed(1)} | ${(baseline! / project!).toFixed(2)}×`;
      rows.push(`| ${activity.label} | write 6 streams (${samples} samples each) | ${fmt(results.write)} |`);
      rows.push(`| ${activity.label} | read full heart_rate | ${fmt(results.readFull)} |`);
      rows.push(`| ${activity.label} | read heart_rate maxPoints=500 | ${fmt(results.read500)} |`);
      rows.push(`| ${activity.label} | read full position | ${fmt(results.readGps)} |`);
      rows.push(`| ${activity.label} | read position maxPoints=500 | ${fmt(results.readGps500)} |`);
      rows.push(`| ${activity.label} | storage only: heart_rate object + decode vs SELECT | ${fmt(results.storageHr)} |`);
      rows.push(`| ${activity.label} | storage only: position object + decode vs SELECT | ${fmt(results.storageGps)} |`);

      const streams = ((await api(`/api/v1/activities/${projectId}/streams`, token)) as { items: { streamType: string; byteSize: number }[] }).items;
      for (const type of [...SCALAR, 'position'] as const) {
        const [{ bytes }] = (await sql`select pg_total_relation_size(${`baseline_${type}`}::regclass) as bytes`) as [{ bytes: string }];
        // Every run stored the activity once more in the baseline table: divide by all its rows.
        const [{ count }] = (await sql.unsafe(`select count(*)::int as count from baseline_${type}`)) as [{ count: number }];
        const baselinePerSample = Number(bytes) / count;
        const projectPerSample = streams.find((s) => s.streamType === type)!.byteSize / samples;
        sizes.push(
          `| ${activity.label} | ${type} | ${projectPerSample.toFixed(3)} | ${baselinePerSample.toFixed(1)} | ${(baselinePerSample / projectPerSample).toFixed(0)}× |`,
        );
      }
    }
    const large = process.env.BENCH_LARGE === '0' ? [] : await largeStreams(token, athleteId, sql, server, baselineServer);
    console.log(`\nStore: ${s3 ? 's3rver (in-process S3 protocol)' : 'local folder'}; median of ${runs} runs (writes) and ${runs * 5} (reads); times in ms\n`);
    console.log('Writes: the API (6 PUTs) vs bulk INSERT. Reads: the API vs the same route on a bare Fastify server over the');
    console.log('row-per-sample tables (both over HTTP, same JSON); "storage only": object get + Parquet decode vs SELECT, in process.\n');
    console.log('| activity | operation | project | baseline (row per sample) | baseline/project |');
    console.log('|---|---|---:|---:|---:|');
    for (const row of rows) console.log(row);
    console.log('\nFull reads over HTTP against the floor, on the same object in the same run, interleaved in');
    console.log(`${FLOOR_BATCHES} batches of reads and floors (≥ ${FLOOR_BATCH} each, ~100 ms): "HTTP" = GET …/streams/{type} to the answer's last byte;`);
    console.log('"decode" = Parquet decode in this process; "floor" = decode plus JSON.stringify of the answer object (goal: HTTP ≤ 1.5×');
    console.log('that). Wall ms (median per operation), then CPU ms per operation (median over batches): the server process\'s,');
    console.log('all threads, against this process\'s for the floor.');
    console.log('"bare" = the same object read from a bare node:http server doing only the floor\'s work per request (decode and');
    console.log('JSON.stringify; no framework, session or database, the object in memory; bench/bare-stream-server.ts), wall and its CPU,');
    console.log('with its ratio to the floor: what any Node server pays for the HTTP round trip alone.');
    console.log('"request" = GET …/streams (the metadata list), wall / server CPU: what any authenticated request costs.\n');
    console.log('| activity | stream | HTTP ms | decode ms | floor ms | HTTP / floor | bare ms (/ floor) | HTTP CPU | decode CPU | floor CPU | CPU: HTTP / floor | bare CPU (/ floor) | request ms / CPU |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of floors) console.log(row);
    if (slices.length > 0) {
      console.log('\nA 1 h slice (?from=&to=, the middle hour) against the full read of the same stream over HTTP (goal ≤ 0.3×), both to the');
      console.log('last byte, interleaved as above: wall ms, then the server\'s CPU ms per read.\n');
      console.log('| activity | stream | 1 h slice ms | full read ms | slice / full | slice CPU | full CPU | CPU: slice / full |');
      console.log('|---|---|---:|---:|---:|---:|---:|---:|');
      for (const row of slices) console.log(row);
    }
    console.log('\n| activity | stream | project bytes/sample | baseline bytes/sample | fewer bytes |');
    console.log('|---|---|---:|---:|---:|');
    for (const row of sizes) console.log(row);
    if (large.length > 0) {
      console.log(`\n${largeCount.toLocaleString('en')} samples (50 Hz) in one stream, each operation ${largeRuns}× (median, worst in brackets): peak RSS above idle and longest event-loop stall of the`);
      console.log('server process (monitorEventLoopDelay), and wall time; "main MiB" = peak JS heap + ArrayBuffers of the main thread');
      console.log('alone (RSS includes the worker threads); "busy ms" = the most main-thread CPU time between two 5 ms ticks (the part');
      console.log('of a stall that is work on the loop; the rest is the machine not running the process). Baseline upload = bulk INSERT from the bench process (no HTTP server');
      console.log('involved, so no server stall or RSS to report).\n');
      console.log('| stream | operation | project ms | project peak MiB | project main MiB | project stall ms | project busy ms | baseline ms | baseline peak MiB | baseline stall ms |');
      console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const row of large) console.log(row);
    }
    await store.close?.();
  } finally {
    server.kill('SIGTERM');
    baselineServer.kill('SIGTERM');
    bareServer.kill('SIGTERM');
    await sql.end();
    await s3?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** GET to the answer's last byte, without parsing it (the client's work). */
async function rawGet(path: string, token?: string): Promise<void> {
  const response = await fetch(path.startsWith('http') ? path : `${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

const FLOOR_BATCHES = Number(process.env.BENCH_FLOOR_BATCHES ?? 7);
const FLOOR_BATCH = 5;

function serverCpuMs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string; cpuMs: number }) => {
      if (reply.type !== 'cpu') return;
      child.off('message', onMessage);
      resolve(reply.cpuMs);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

/** The server's CPU (all threads) per request: median over batches of 50 sequential requests. */
async function serverCpuPerRequest(child: ChildProcess, work: () => Promise<unknown>): Promise<number> {
  await work();
  const perRequest: number[] = [];
  for (let batch = 0; batch < FLOOR_BATCHES; batch++) {
    const before = await serverCpuMs(child);
    for (let i = 0; i < 50; i++) await work();
    perRequest.push(((await serverCpuMs(child)) - before) / 50);
  }
  return median(perRequest);
}

/** This process's CPU time, all threads (V8's GC helpers included, as in the server's figure). */
const processCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

interface AgainstFloors {
  http: number;
  httpCpu: number;
  /** The bare node:http server's read of the same object (NaN without one). */
  bare: number;
  bareCpu: number;
  decode: number;
  decodeCpu: number;
  floor: number;
  floorCpu: number;
}

/**
 * An HTTP read against the two floors on the same object (when `bytes` is given), interleaved batch by
 * batch. Wall times: median per operation. CPU times: per batch divided by its size, then the median
 * over batches (the kernel accounts CPU time in scheduler ticks, too coarse for one millisecond
 * operation); a batch is as many operations as take ~100 ms, at least FLOOR_BATCH. The server's CPU
 * is the whole process's (all threads), and so is the floor's in this process, where nothing else
 * runs meanwhile.
 */
async function againstFloors(
  child: ChildProcess,
  read: () => Promise<void>,
  bytes?: Uint8Array,
  type?: StreamType,
  bareServer?: { child: ChildProcess; read: () => Promise<void> },
): Promise<AgainstFloors> {
  const http: number[] = [];
  const httpCpu: number[] = [];
  const bare: number[] = [];
  const bareCpu: number[] = [];
  const decode: number[] = [];
  const decodeCpu: number[] = [];
  const floor: number[] = [];
  const floorCpu: number[] = [];
  const decodeOnly = () => parquetStreamCodec.decode(bytes!, type);
  const decodeStringify = async () => {
    const { samples } = await parquetStreamCodec.decode(bytes!, type);
    return JSON.stringify(columnsFromSamples(type!, samples, samples.timestamps.length));
  };
  const batchOf = (ms: number) => Math.max(FLOOR_BATCH, Math.min(200, Math.ceil(100 / Math.max(ms, 0.05))));
  const inProcess = async (work: () => Promise<unknown>, size: number, wall: number[], cpu: number[]) => {
    const cpuBefore = processCpuMs();
    for (let i = 0; i < size; i++) wall.push(await timed(work));
    cpu.push((processCpuMs() - cpuBefore) / size);
  };
  const overHttp = async (server: ChildProcess, work: () => Promise<unknown>, size: number, wall: number[], cpu: number[]) => {
    const cpuBefore = await serverCpuMs(server);
    for (let i = 0; i < size; i++) wall.push(await timed(work));
    cpu.push(((await serverCpuMs(server)) - cpuBefore) / size);
  };
  // Start from a collected heap in both processes (the uploads before leave garbage behind), then
  // warm both sides up and size the batches.
  await probeCall(child, 'reset');
  (globalThis as { gc?: () => void }).gc?.();
  const httpBatch = batchOf(Math.min(await timed(read), await timed(read)));
  const bareBatch = bareServer ? batchOf(Math.min(await timed(bareServer.read), await timed(bareServer.read))) : 0;
  const floorBatch = bytes ? batchOf(Math.min(await timed(decodeStringify), await timed(decodeStringify))) : 0;
  for (let batch = 0; batch < FLOOR_BATCHES; batch++) {
    await overHttp(child, read, httpBatch, http, httpCpu);
    if (bareServer) await overHttp(bareServer.child, bareServer.read, bareBatch, bare, bareCpu);
    if (!bytes) continue;
    await inProcess(decodeOnly, floorBatch, decode, decodeCpu);
    await inProcess(decodeStringify, floorBatch, floor, floorCpu);
  }
  const m = (values: number[]) => (values.length === 0 ? Number.NaN : median(values));
  return { http: m(http), httpCpu: m(httpCpu), bare: m(bare), bareCpu: m(bareCpu), decode: m(decode), decodeCpu: m(decodeCpu), floor: m(floor), floorCpu: m(floorCpu) };
}

interface ProbeReport {
  maxStallMs: number;
  maxBusyMs: number;
  peakAboveIdleMiB: number;
  mainPeakAboveIdleMiB: number;
}

function probeCall(child: ChildProcess, message: 'reset' | 'report'): Promise<ProbeReport> {
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string } & ProbeReport) => {
      if (reply.type !== message) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

type Probed = ProbeReport & { ms: number };

async function probed(child: ChildProcess, work: () => Promise<unknown>): Promise<Probed> {
  await probeCall(child, 'reset');
  const ms = await timed(work);
  return { ms, ...(await probeCall(child, 'report')) };
}

/** `times` probed runs of the same operation. */
async function probedRuns(child: ChildProcess, work: () => Promise<unknown>, times = largeRuns): Promise<Probed[]> {
  const results: Probed[] = [];
  for (let run = 0; run < times; run++) results.push(await probed(child, work));
  return results;
}

/** "median (worst)" of one measure over runs, or the single value. */
function medianAndWorst(runs: Probed[], measure: (run: Probed) => number): string {
  const values = runs.map(measure);
  const middle = median(values).toFixed(0);
  return values.length === 1 ? middle : `${middle} (${Math.max(...values).toFixed(0)})`;
}

/** Issue 8's 2,000,000-sample rows: heart_rate and position, upload (JSON and Parquet), full read, maxPoints=1000. */
async function largeStreams(token: string, athleteId: string, sql: postgres.Sql, server: ChildProcess, baselineServer: ChildProcess): Promise<string[]> {
  const count = largeCount;
  const random = rng(50);
  const start = new Date(Date.UTC(2026, 4, 2, 6));
  const timestamps = Array.from({ length: count }, (_, i) => start.getTime() + i * 18);
  let hr = 120;
  const heartRate = Array.from({ length: count }, () => (hr = Math.min(190, Math.max(60, hr + Math.round((random() - 0.5) * 3)))));
  let lat = 47.3769;
  let lng = 8.5417;
  const latitude = Array.from({ length: count }, () => (lat += (random() - 0.3) * 0.000001));
  const longitude = Array.from({ length: count }, () => (lng += (random() - 0.4) * 0.0000013));
  const end = new Date(start.getTime() + count * 18);
  const rows: string[] = [];
  const fmt = (label: string, type: string, project: Probed[], baseline?: Probed[], baselineMs?: number) => {
    const of = (measure: (run: Probed) => number) => medianAndWorst(project, measure);
    const baselineCells = baseline
      ? [medianAndWorst(baseline, (run) => run.ms), medianAndWorst(baseline, (run) => run.peakAboveIdleMiB), medianAndWorst(baseline, (run) => run.maxStallMs)]
      : [baselineMs === undefined ? '–' : baselineMs.toFixed(0), '–', '–'];
    const cells = [of((run) => run.ms), of((run) => run.peakAboveIdleMiB), of((run) => run.mainPeakAboveIdleMiB), of((run) => run.maxStallMs), of((run) => run.maxBusyMs)];
    return `| ${type} | ${label} | ${[...cells, ...baselineCells].join(' | ')} |`;
  };
  // The noise floor: the longest stall while the server does nothing (a loaded machine deschedules it).
  const idle = await probedRuns(server, () => new Promise((resolve) => setTimeout(resolve, 3000)));
  rows.push(fmt('idle 3 s (noise floor)', '–', idle));
  // The first large request after start also starts the stream worker thread (kept from then on):
  // a one-off cost of the process, measured on its own so that the rows below are the steady state.
  {
    const created = (await api('/api/v1/activities', token, {
      method: 'POST',
      body: JSON.stringify({ athleteId, activityType: 'running', startTime: start.toISOString(), endTime: end.toISOString() }),
    })) as { id: string };
    const first = await probedRuns(server, () =>
      api(`/api/v1/activities/${created.id}/streams/heart_rate`, token, {
        method: 'PUT',
        body: Buffer.from(parquetStreamCodec.encode('heart_rate', { timestamps: Float64Array.from(timestamps), values: Float64Array.from(heartRate) })),
        headers: { 'content-type': 'application/vnd.apache.parquet' },
      }),
      1,
    );
    rows.push(fmt('first large request after start (Parquet upload; starts the worker thread)', 'heart_rate', first));
  }
  for (const type of ['heart_rate', 'position'] as const) {
    const created = (await api('/api/v1/activities', token, {
      method: 'POST',
      body: JSON.stringify({ athleteId, activityType: 'running', startTime: start.toISOString(), endTime: end.toISOString() }),
    })) as { id: string };
    const body = type === 'position' ? { timestamps, latitude, longitude } : { timestamps, values: heartRate };
    const json = JSON.stringify(body);
    const upload = await probedRuns(server, () => api(`/api/v1/activities/${created.id}/streams/${type}`, token, { method: 'PUT', body: json }));
    const parquet = parquetStreamCodec.encode(
      type,
      type === 'position'
        ? { timestamps: Float64Array.from(timestamps), latitude: Float64Array.from(latitude), longitude: Float64Array.from(longitude), altitudeM: null, horizontalAccuracyM: null }
        : { timestamps: Float64Array.from(timestamps), values: Float64Array.from(heartRate) },
    );
    const uploadParquet = await probedRuns(server, () =>
      api(`/api/v1/activities/${created.id}/streams/${type}`, token, {
        method: 'PUT',
        body: Buffer.from(parquet),
        headers: { 'content-type': 'application/vnd.apache.parquet' },
      }),
    );
    const baselineId = crypto.randomUUID();
    const ts = timestamps.map((t) => new Date(t).toISOString());
    const baselineWriteMs = await timed(() =>
      type === 'position'
        ? sql.unsafe(
            `insert into baseline_position (activity_id, timestamp, latitude, longitude, altitude_m)
             select $1, t, la, lo, null from unnest($2::timestamptz[], $3::float8[], $4::float8[]) as u(t, la, lo)`,
            [baselineId, ts, latitude, longitude] as never[],
          )
        : sql.unsafe(
            `insert into baseline_heart_rate (activity_id, timestamp, value) select $1, t, v from unnest($2::timestamptz[], $3::float8[]) as u(t, v)`,
            [baselineId, ts, heartRate] as never[],
          ),
    );
    await sql.unsafe(`vacuum analyze baseline_${type}`);
    const readPath = (id: string, maxPoints?: number) => `/api/v1/activities/${id}/streams/${type}${maxPoints ? `?maxPoints=${maxPoints}` : ''}`;
    const full = await probedRuns(server, () => api(readPath(created.id), token));
    const fullBaseline = await probedRuns(baselineServer, () => api(readPath(baselineId), token, {}, baselineBase));
    const reduced = await probedRuns(server, () => api(readPath(created.id, 1000), token));
    const reducedBaseline = await probedRuns(baselineServer, () => api(readPath(baselineId, 1000), token, {}, baselineBase));
    rows.push(fmt('upload (JSON)', type, upload, undefined, baselineWriteMs));
    rows.push(fmt(`upload (Parquet, ${(parquet.byteLength / 2 ** 20).toFixed(1)} MiB)`, type, uploadParquet, undefined, baselineWriteMs));
    rows.push(fmt('read full', type, full, fullBaseline));
    rows.push(fmt('read maxPoints=1000', type, reduced, reducedBaseline));
  }
  return rows;
}

await main();
