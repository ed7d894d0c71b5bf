/**
 * `npm run bench:api` — throughput of the activities API against a bare-Fastify baseline on the same
 * data and the same machine (issues 4 and 10). Needs PostgreSQL: BENCH_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/bench_api (created if missing, emptied and seeded — unless
 * BENCH_REUSE=1 finds a finished seed of the same size there, which it then measures again).
 *
 * Env: BENCH_DURATION (s per route, default 10), BENCH_CONNECTIONS (default 10),
 *      BENCH_TOTAL (activities, default 10,000,000), BENCH_ATHLETES (1000), BENCH_HEAVY (200,000),
 *      BENCH_FAMILY (athletes of the multi-athlete user, 5), BENCH_CACHE (on,off: session cache modes),
 *      BENCH_SEED_ONLY=1 (seed, then stop), BENCH_SEED_LANES (connections loading at once, 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { openDatabase } from '../src/database/database.js';
import { seedCatalog } from '../src/database/seed.js';
import { encodeCursor } from '../src/modules/activities/cursor.js';
import { seed, type SeededData, type SeedSize } from './api-seed.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_api';
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const size: SeedSize = {
  total: Number(process.env.BENCH_TOTAL ?? 10_000_000),
  athletes: Number(process.env.BENCH_ATHLETES ?? 1000),
  heavy: Number(process.env.BENCH_HEAVY ?? 200_000),
  familyAthletes: Number(process.env.BENCH_FAMILY ?? 5),
};
const cacheModes = (process.env.BENCH_CACHE ?? 'on,off').split(',').map((mode) => mode.trim());

async function resetDatabase() {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => undefined });
  const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
  if (!exists) await sql.unsafe(`create database "${name}"`);
  await sql.end();
  const db = postgres(url, { max: 1, onnotice: () => undefined });
  await db.unsafe('drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public;');
  await db.end();
  const database = openDatabase({ url });
  await database.migrate();
  await seedCatalog(database.db);
  await database.close();
}

/** The seed is kept in the database it describes, so BENCH_REUSE=1 can measure it again. */
async function loadOrSeed(): Promise<SeededData> {
  if (process.env.BENCH_REUSE === '1') {
    try {
      const sql = postgres(url, { max: 1, onnotice: () => undefined });
      const [row] = await sql<{ size: SeedSize; data: SeededData }[]>`select size, data from bench_seed`;
      await sql.end();
      if (row && isDeepStrictEqual(row.size, size)) {
        console.log(`Reusing the seed in ${url} (${row.data.total} activities).`);
        return row.data;
      }
    } catch {
      // no seed there yet
    }
  }
  console.log(`Seeding ${size.total} activities (${size.athletes} athletes, one with ${size.heavy}) into ${url} ...`);
  await resetDatabase();
  // Two lanes (connections) load athletes at once; a benchmark database need not wait for each commit's flush.
  const lanes = Number(process.env.BENCH_SEED_LANES ?? 2);
  const sql = postgres(url, { max: lanes, onnotice: () => undefined, connection: { synchronous_commit: 'off' } });
  const data = await seed(sql, size, (message) => console.log(`  ${message}`), lanes);
  await sql`create table bench_seed (size jsonb not null, data jsonb not null)`;
  await sql`insert into bench_seed values (${sql.json(size as never)}, ${sql.json(data as never)})`;
  await sql.end();
  return data;
}

function start(name: string, script: string, port: number, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, PORT: String(port), DATABASE_URL: url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code) => {
    if (code) console.error(`${name} exited with ${code}`);
  });
  return child;
}

async function waitFor(base: string, token: string) {
  for (let i = 0; i < 120; i++) {
    try {
      const response = await fetch(`${base}/api/v1/activities?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${base} did not come up`);
}

interface Result {
  mode: string;
  route: string;
  server: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

type Target = { path: string; token: string };

async function load(base: string, server: string, mode: string, route: string, paths: Target[], seconds = duration): Promise<Result> {
  let next = 0;
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const target = paths[next++ % paths.length]!;
          return { ...request, path: target.path, headers: { authorization: `Bearer ${target.token}` } };
        },
      },
    ],
  });
  return { mode, route, server, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

async function sameJson(project: string, baseline: string, { path, token }: Target) {
  const get = async (base: string) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<unknown>;
  const [a, b] = await Promise.all([get(project), get(baseline)]);
  if (!isDeepStrictEqual(a, b)) {
    console.error(JSON.stringify(a).slice(0, 600));
    console.error(JSON.stringify(b).slice(0, 600));
    throw new Error(`project and baseline answer ${path} differently`);
  }
}

/** Cursors deep into each athlete's history (half-way down), made the way the API makes them. */
async function deepCursors(data: SeededData): Promise<Target[]> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  const targets: Target[] = [];
  const pick = async (athleteId: string, offset: number, token: string) => {
    const [row] = await sql<{ micros: string; id: string }[]>`
      select (extract(epoch from start_time) * 1000000)::bigint::text as micros, id from activities
       where athlete_id = ${athleteId} order by start_time desc, id desc offset ${offset} limit 1`;
    if (row) targets.push({ path: `/api/v1/activities?athleteId=${athleteId}&limit=50&cursor=${encodeCursor({ startTimeMicros: BigInt(row.micros), id: row.id })}`, token });
  };
  for (let i = 0; i < 20; i++) await pick(data.heavy.athleteIds[0]!, Math.floor((data.heavy.counts[0]! * (i + 1)) / 22), data.heavy.token);
  await sql.end();
  return targets;
}

async function measure(mode: string, data: SeededData, routes: [string, Target[]][]): Promise<Result[]> {
  const projectBase = 'http://127.0.0.1:3101';
  const baselineBase = 'http://127.0.0.1:3102';
  const servers = [
    start('project', 'dist/src/main.js', 3101, {
      NODE_ENV: 'production',
      AUTH_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
      AUTH_SESSION_CACHE_SECONDS: mode === 'on' ? '10' : '0',
      LOG_LEVEL: 'warn',
      DATABASE_MIGRATE: 'false',
      HOST: '127.0.0.1',
    }),
    start('baseline', 'dist/bench/baseline-server.js', 3102, {}),
  ];
  try {
    await Promise.all([waitFor(projectBase, data.heavy.token), waitFor(baselineBase, data.heavy.token)]);
    for (const [, paths] of routes) await sameJson(projectBase, baselineBase, paths[0]!);
    console.log(`Session cache ${mode}: project and baseline return identical JSON for every route.`);
    await load(projectBase, 'project', mode, 'warm-up', routes[0]![1], 5);
    await load(baselineBase, 'baseline', mode, 'warm-up', routes[0]![1], 5);
    const results: Result[] = [];
    // Alternate per route so that machine noise hits both alike.
    for (const [route, paths] of routes) {
      results.push(await load(baselineBase, 'baseline', mode, route, paths));
      results.push(await load(projectBase, 'project', mode, route, paths));
    }
    return results;
  } finally {
    for (const server of servers) server.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function main() {
  const started = Date.now();
  const data = await loadOrSeed();
  console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (process.env.BENCH_SEED_ONLY === '1') return;

  const light = data.users.slice(0, 200);
  const page = (user: SeededData['users'][number], extra = '') => ({ path: `/api/v1/activities?athleteId=${user.athleteIds[0]}&limit=50${extra}`, token: user.token });
  const routes: [string, Target[]][] = [
    ['list, first page, light athletes', light.map((user) => page(user))],
    ['list, first page, heavy athlete', [page(data.heavy)]],
    ['list, deep page via cursor, heavy athlete', await deepCursors(data)],
    ['list, includeTotals, light athletes', light.map((user) => page(user, '&includeTotals=true'))],
    ['list, includeTotals, heavy athlete', [page(data.heavy, '&includeTotals=true')]],
    ['list, all athletes of a user (5)', [{ path: '/api/v1/activities?limit=50', token: data.family.token }]],
    ['get', data.activities.map((activity) => ({ path: `/api/v1/activities/${activity.id}`, token: activity.token }))],
  ];

  const results: Result[] = [];
  for (const mode of cacheModes) results.push(...(await measure(mode, data, routes)));

  console.log(`\n${data.total} activities; ${duration} s per route, ${connections} connections, autocannon on the same machine\n`);
  console.log('| session cache | route | server | req/s | p50 ms | p99 ms | errors | project/baseline req/s |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const result of results) {
    const baseline = results.find((r) => r.mode === result.mode && r.route === result.route && r.server === 'baseline')!;
    const ratio = result.server === 'project' ? (result.rps / baseline.rps).toFixed(2) : '';
    console.log(`| ${result.mode} | ${result.route} | ${result.server} | ${result.rps.toFixed(0)} | ${result.p50} | ${result.p99} | ${result.errors} | ${ratio} |`);
  }
  for (const mode of cacheModes) {
    const p99 = (route: string) => results.find((r) => r.mode === mode && r.route === route && r.server === 'project')!.p99;
    const heavy = p99('list, first page, heavy athlete');
    const lightP99 = p99('list, first page, light athletes');
    console.log(`\ncache ${mode}: p99 heavy first page ${heavy} ms vs light ${lightP99} ms (${(heavy / Math.max(lightP99, 1)).toFixed(2)}×)`);
  }
}

await main();
