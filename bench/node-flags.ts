/**
 * `npm run bench:node-flags` — what a node flag of the image's CMD costs the server, on the embedded
 * database (issue 24, footprint). BENCH_FLAG (default `--liftoff-only`) is compared with the CMD
 * without it (a flag of the same name in the CMD, e.g. `--max-semi-space-size=8` against the CMD's
 * `=16`, is replaced).
 *
 * The default comparison: V8's WebAssembly tiers. PGlite is PostgreSQL compiled to WebAssembly; V8 runs each function first on its
 * baseline compiler (Liftoff) and recompiles the hot ones with its optimising compiler (TurboFan).
 * One of them, `raw_parser` (PostgreSQL's SQL grammar), needs about 600 MiB of compiler memory to
 * optimise: that is the embedded server's peak. `--liftoff-only` keeps every function on the
 * baseline tier. This bench measures both side by side, as the server runs (the image's CMD node
 * arguments, NODE_ENV=production), on copies of one initialised database:
 *
 *   boot (spawn → /health 200), HealthKit ingest (BENCH_WORKOUTS workouts, batches of 500), reads
 *   (BENCH_READS × a page of 50 activities + one activity's details), the FIT corpus import
 *   (../shared/corpus/fit, one multipart upload), and the reads again (warm).
 *
 * Each phase reports wall time and the server process's CPU seconds (utime + stime from
 * /proc/PID/stat: the compiler threads count), and the server's VmHWM at the end. Variants run
 * alternately, BENCH_ROUNDS rounds (default 3); medians and ratios (B / A) are
 * printed. The first boot (initdb) uses variant B.
 *
 * BENCH_ENV (`KEY=value,KEY=value`) compares environment settings instead: B is the CMD with them,
 * A the CMD without (with BENCH_FLAG=none, no flag differs), e.g.
 * `BENCH_FLAG=none BENCH_ENV=MALLOC_TRIM_THRESHOLD_=131072` (glibc's malloc settings).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, imageCommand, sample } from './server-process.js';
import { healthKitWorkout } from './sync-bodies.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKOUTS = Number(process.env.BENCH_WORKOUTS ?? 2000);
const READS = Number(process.env.BENCH_READS ?? 300);
const CORPUS = resolve(process.env.FOOTPRINT_CORPUS ?? '../shared/corpus/fit');
const FLAG = process.env.BENCH_FLAG ?? '--liftoff-only';
/** Settings of variant B only (BENCH_ENV). */
const ENV_B: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split('=', 2) as [string, string]),
);

/** The image's CMD node arguments without the script. */
const CMD_ARGS = imageCommand().nodeFlags;
const flagName = (arg: string) => arg.split('=')[0];
/** Without FLAG: the CMD less FLAG itself (a flag of the same name with another value stays). */
const WITHOUT = CMD_ARGS.filter((arg) => arg !== FLAG);
const VARIANTS: { label: string; args: string[]; env: Record<string, string> }[] = [
  { label: `CMD${WITHOUT.length < CMD_ARGS.length ? ` without ${FLAG}` : ''}`, args: WITHOUT, env: {} },
  FLAG === 'none'
    ? { label: `CMD with ${process.env.BENCH_ENV}`, args: WITHOUT, env: ENV_B }
    : { label: FLAG, args: [...WITHOUT.filter((arg) => flagName(arg) !== flagName(FLAG)), FLAG], env: ENV_B },
];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** CPU seconds and the peak in MiB, as this bench prints them. */
function proc(pid: number) {
  const { cpu, hwm } = sample(pid);
  return { cpu, hwm: hwm / 1024 / 1024 };
}

async function boot(args: string[], dataDir: string, settings: Record<string, string> = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [...args, 'dist/src/main.js'], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      DATA_DIR: dataDir,
      AUTH_SECRET: 'pglite-wasm-bench-secret-long-enough',
      AUTH_RATE_LIMIT: 'false',
      LOG_LEVEL: 'warn',
      ...settings,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once('exit', done)));
  };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before /health answered`);
    if (await fetch(`${base}/health`).then((r) => r.status === 200, () => false)) break;
    await sleep(25);
  }
  return { base, pid: child.pid!, seconds: (performance.now() - started) / 1000, stop };
}

async function call(base: string, path: string, token: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<unknown>;
}

type Phase = { wall: number; cpu: number };
interface Result {
  boot: Phase;
  ingest: Phase;
  reads: Phase;
  importFit: Phase;
  readsWarm: Phase;
  hwm: number;
}

async function timed(pid: number, work: () => Promise<void>): Promise<Phase> {
  const before = proc(pid).cpu;
  const started = performance.now();
  await work();
  return { wall: (performance.now() - started) / 1000, cpu: proc(pid).cpu - before };
}

async function runOnce(args: string[], settings: Record<string, string>, template: string): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-node-flags-'));
  cpSync(template, dataDir, { recursive: true });
  const server = await boot(args, dataDir, settings);
  try {
    const { base, pid } = server;
    const bootPhase = { wall: server.seconds, cpu: proc(pid).cpu };
    const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ name: 'Bench', email: 'bench-wasm@example.test', password: 'bench-password-123' }),
    });
    const token = signUp.headers.get('set-auth-token');
    if (!token) throw new Error(`sign-up answered ${signUp.status}`);
    const athleteId = ((await call(base, '/api/v1/athletes', token)) as { items: { id: string }[] }).items[0]!.id;

    const ingest = await timed(pid, async () => {
      for (let i = 0; i < WORKOUTS; i += 500) {
        const workouts = Array.from({ length: Math.min(500, WORKOUTS - i) }, (_, k) => healthKitWorkout(i + k));
        await call(base, `/api/v1/athletes/${athleteId}/sync/healthkit/batches`, token, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ activities: workouts, cursor: `anchor-${i}` }),
        });
      }
    });
    const readAll = async () => {
      let cursor: string | undefined;
      for (let i = 0; i < READS; i++) {
        const page = (await call(base, `/api/v1/activities?athleteId=${athleteId}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token)) as {
          items: { id: string }[];
          nextCursor?: string | null;
        };
        await call(base, `/api/v1/activities/${page.items[i % page.items.length]!.id}`, token);
        cursor = page.nextCursor ?? undefined;
      }
    };
    const reads = await timed(pid, readAll);
    const importFit = await timed(pid, async () => {
      const form = new FormData();
      for (const name of readdirSync(CORPUS).filter((file) => /\.fit$/i.test(file)).sort()) {
        form.append('files', new Blob([readFileSync(join(CORPUS, name))]), name);
      }
      let job = (await call(base, `/api/v1/athletes/${athleteId}/imports`, token, { method: 'POST', body: form })) as { id: string; status: string };
      while (job.status === 'queued' || job.status === 'running') {
        await sleep(50);
        job = (await call(base, `/api/v1/imports/${job.id}`, token)) as typeof job;
      }
      if (job.status !== 'completed') throw new Error(`the import ended ${job.status}`);
    });
    const readsWarm = await timed(pid, readAll);
    return { boot: bootPhase, ingest, reads, importFit, readsWarm, hwm: proc(pid).hwm };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main() {
  console.log(`Node ${process.version}; A: node ${VARIANTS[0]!.args.join(' ')} dist/src/main.js; B: node ${VARIANTS[1]!.args.join(' ')} …; ${ROUNDS} rounds; ${WORKOUTS} workouts, ${READS} reads, corpus ${CORPUS}\n`);
  // One initialised database (PGlite's initdb and the migrations), copied for every run.
  const template = mkdtempSync(join(tmpdir(), 'bench-node-flags-template-'));
  try {
    const first = await boot(VARIANTS[1]!.args, template, VARIANTS[1]!.env);
    await first.stop();
    const results = new Map<string, Result[]>(VARIANTS.map((variant) => [variant.label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...VARIANTS].reverse() : VARIANTS;
      for (const variant of order) {
        const result = await runOnce(variant.args, variant.env, template);
        results.get(variant.label)!.push(result);
        console.error(`round ${round + 1} ${variant.label}: ${JSON.stringify(result, (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
      }
    }
    const phases: [string, keyof Omit<Result, 'hwm'>][] = [
      ['boot (restart on the initialised database)', 'boot'],
      [`HealthKit ingest, ${WORKOUTS} workouts`, 'ingest'],
      [`reads, ${READS} × (page of 50 + details), first`, 'reads'],
      ['FIT corpus import (one upload, a job)', 'importFit'],
      [`reads again (warm)`, 'readsWarm'],
    ];
    const [a, b] = VARIANTS.map((variant) => results.get(variant.label)!);
    console.log(`| phase (medians of ${ROUNDS}) | ${VARIANTS[0]!.label}: wall / server CPU | ${VARIANTS[1]!.label}: wall / server CPU | ratio wall | ratio CPU |`);
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, key] of phases) {
      const wallA = median(a!.map((r) => r[key].wall));
      const cpuA = median(a!.map((r) => r[key].cpu));
      const wallB = median(b!.map((r) => r[key].wall));
      const cpuB = median(b!.map((r) => r[key].cpu));
      console.log(`| ${name} | ${wallA.toFixed(2)} s / ${cpuA.toFixed(2)} s | ${wallB.toFixed(2)} s / ${cpuB.toFixed(2)} s | ${(wallB / wallA).toFixed(2)} | ${(cpuB / cpuA).toFixed(2)} |`);
    }
    const hwmA = median(a!.map((r) => r.hwm));
    const hwmB = median(b!.map((r) => r.hwm));
    console.log(`| server VmHWM at the end | ${hwmA.toFixed(0)} MiB | ${hwmB.toFixed(0)} MiB | ${(hwmB / hwmA).toFixed(2)} | |`);
  } finally {
    rmSync(template, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
