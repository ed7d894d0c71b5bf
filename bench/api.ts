/**
 * `npm run bench:api` — throughput of the activities API against a bare-Fastify baseline on the same
 * data and the same machine (issue 4). Needs PostgreSQL: BENCH_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/bench_api (created if missing, and emptied).
 *
 * Env: BENCH_DURATION (s per route, default 20), BENCH_CONNECTIONS (default 10),
 *      BENCH_ATHLETES (100), BENCH_PER_ATHLETE (1000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { openDatabase } from '../src/database/database.js';
import { seedCatalog } from '../src/database/seed.js';
import { seed, type SeededData } from './api-seed.js';

const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_api';
const duration = Number(process.env.BENCH_DURATION ?? 20);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const athletes = Number(process.env.BENCH_ATHLETES ?? 100);
const perAthlete = Number(process.env.BENCH_PER_ATHLETE ?? 1000);

async function resetDatabase() {
  const target = new URL(url);
  const name = target.pathname.slice(1);
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
  route: string;
  server: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(base: string, server: string, route: string, paths: { path: string; token: string }[]): Promise<Result> {
  let next = 0;
  const result = await autocannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        setupRequest: (request) => {
          const target = paths[next++ % paths.length]!;
          return { ...request, path: target.path, headers: { authorization: `Bearer ${target.token}` } };
        },
      },
    ],
  });
  return {
    route,
    server,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function sameJson(project: string, baseline: string, path: string, token: string) {
  const get = async (base: string) =>
    (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<unknown>;
  const [a, b] = await Promise.all([get(project), get(baseline)]);
  if (!isDeepStrictEqual(a, b)) {
    console.error(JSON.stringify(a).slice(0, 600));
    console.error(JSON.stringify(b).slice(0, 600));
    throw new Error(`project and baseline answer ${path} differently`);
  }
}

async function main() {
  console.log(`Seeding ${athletes * perAthlete} activities for ${athletes} athletes into ${url} ...`);
  const started = Date.now();
  await resetDatabase();
  const sql = postgres(url, { max: 4, onnotice: () => undefined });
  const data: SeededData = await seed(sql, athletes, perAthlete);
  await sql.end();
  console.log(`Seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const projectBase = 'http://127.0.0.1:3101';
  const baselineBase = 'http://127.0.0.1:3102';
  const servers = [
    start('project', 'dist/src/main.js', 3101, {
      NODE_ENV: 'production',
      AUTH_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
      LOG_LEVEL: 'warn',
      DATABASE_MIGRATE: 'false',
      HOST: '127.0.0.1',
    }),
    start('baseline', 'dist/bench/baseline-server.js', 3102, {}),
  ];
  try {
    const token = data.users[0]!.token;
    await Promise.all([waitFor(projectBase, token), waitFor(baselineBase, token)]);
    const listPaths = data.users.map((user) => ({ path: `/api/v1/activities?athleteId=${user.athleteIds[0]}&limit=50`, token: user.token }));
    const getPaths = data.activities.map((activity) => ({ path: `/api/v1/activities/${activity.id}`, token: activity.token }));
    await sameJson(projectBase, baselineBase, listPaths[0]!.path, listPaths[0]!.token);
    await sameJson(projectBase, baselineBase, getPaths[0]!.path, getPaths[0]!.token);
    console.log('Project and baseline return identical JSON for both routes.');

    // Warm both up, then alternate so that machine noise hits both alike.
    await load(projectBase, 'project', 'warm-up', listPaths);
    await load(baselineBase, 'baseline', 'warm-up', listPaths);
    const results: Result[] = [];
    for (const [route, paths] of [
      ['GET /api/v1/activities (50 per page)', listPaths],
      ['GET /api/v1/activities/{id}', getPaths],
    ] as const) {
      results.push(await load(baselineBase, 'baseline', route, paths));
      results.push(await load(projectBase, 'project', route, paths));
    }

    console.log(`\n${duration} s per route, ${connections} connections, autocannon on the same machine\n`);
    console.log('| route | server | req/s | p50 ms | p99 ms | errors | project/baseline req/s |');
    console.log('|---|---|---:|---:|---:|---:|---:|');
    for (const result of results) {
      const baseline = results.find((r) => r.route === result.route && r.server === 'baseline')!;
      const ratio = result.server === 'project' ? (result.rps / baseline.rps).toFixed(2) : '';
      console.log(`| ${result.route} | ${result.server} | ${result.rps.toFixed(0)} | ${result.p50} | ${result.p99} | ${result.errors} | ${ratio} |`);
    }
  } finally {
    for (const server of servers) server.kill('SIGTERM');
  }
}

await main();
