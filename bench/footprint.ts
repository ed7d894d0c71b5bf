/**
 * `npm run bench:footprint` — the server's footprint as production runs it (issue 24): the image's
 * CMD (`node … dist/src/main.js`, read from the Dockerfile; NODE_ENV=production), on the embedded
 * default (PGlite under a temporary DATA_DIR) and on PostgreSQL (a temporary database on
 * 127.0.0.1:5432, created and dropped here). Each is booted once on the empty database (PGlite's
 * initdb, or the migrations) and stopped once GET /health answers, then booted again on that
 * database (the usual restart) and measured from there: GET /health 200, idle, import
 * ../shared/corpus/fit through the API (one multipart upload: a job), idle again. Printed from
 * /proc/PID/status and /proc/PID/stat of the server process: VmRSS, VmHWM (the peak so far),
 * threads, CPU while idle (% of one core) and the boot time (spawn → /health 200).
 *
 * The image's MALLOC_ARENA_MAX and MALLOC_TRIM_THRESHOLD_ (its ENV) are set as well.
 *
 * Each idle period is measured twice, one window after the other: the first IDLE_SECONDS right after
 * the boot or the import (their aftermath included: collections of what they left, V8's memory
 * reducer, late compilation), then the next FOOTPRINT_STEADY_SECONDS (the steady state: what an
 * idle server costs for as long as it stays idle).
 *
 * Knobs: FOOTPRINT_IDLE_SECONDS (default 60; each idle period's first window),
 * FOOTPRINT_STEADY_SECONDS (default 60; the second window, 0 leaves it out), FOOTPRINT_CORPUS (default
 * ../shared/corpus/fit), FOOTPRINT_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres,
 * the maintenance database the temporary one is created from; `skip` leaves PostgreSQL out),
 * FOOTPRINT_EMBEDDED (`skip` leaves the embedded default out), FOOTPRINT_ENV (extra `KEY=value,KEY=value` settings for the server, e.g. STREAM_WORKERS=1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { freePort, imageCommand, sample, type ProcSample } from './server-process.js';

const IDLE_SECONDS = Number(process.env.FOOTPRINT_IDLE_SECONDS ?? 60);
const STEADY_SECONDS = Number(process.env.FOOTPRINT_STEADY_SECONDS ?? 60);
const CORPUS = resolve(process.env.FOOTPRINT_CORPUS ?? '../shared/corpus/fit');
const POSTGRES = process.env.FOOTPRINT_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EXTRA_ENV = Object.fromEntries(
  (process.env.FOOTPRINT_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split('=', 2) as [string, string]),
);
/** The image's CMD and its malloc settings: measured as production runs it. */
const IMAGE = imageCommand();
const PRODUCTION_ARGS = [...IMAGE.nodeFlags, IMAGE.script];
const MALLOC_ENV = IMAGE.mallocEnv;
const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function waitForHealth(base: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before /health answered`);
    try {
      const response = await fetch(`${base}/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
}

/** The CPU used over `seconds` of idling, as % of one core, with the sample at the end. */
async function window(pid: number, seconds: number): Promise<{ cpuPercent: number; at: ProcSample }> {
  const before = sample(pid);
  const started = performance.now();
  await sleep(seconds * 1000);
  const at = sample(pid);
  return { cpuPercent: ((at.cpu - before.cpu) / ((performance.now() - started) / 1000)) * 100, at };
}

interface Idle {
  cpuPercent: number;
  at: ProcSample;
  /** The second window (STEADY_SECONDS), when measured. */
  steady?: { cpuPercent: number; at: ProcSample };
}

/** Idles for IDLE_SECONDS, then STEADY_SECONDS more, measuring each window. */
async function idle(pid: number): Promise<Idle> {
  const first = await window(pid, IDLE_SECONDS);
  return STEADY_SECONDS > 0 ? { ...first, steady: await window(pid, STEADY_SECONDS) } : first;
}

async function importCorpus(base: string): Promise<{ seconds: number; files: number; created: number }> {
  const email = `footprint-${process.pid}@example.test`;
  const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ name: 'Footprint', email, password: 'footprint-password-123' }),
  });
  const token = signUp.headers.get('set-auth-token');
  if (!token) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
  const authorization = { authorization: `Bearer ${token}` };
  const athletes = (await (await fetch(`${base}/api/v1/athletes`, { headers: authorization })).json()) as { items: { id: string }[] };
  const athleteId = athletes.items[0]!.id;

  const names = readdirSync(CORPUS).filter((name) => /\.fit$/i.test(name)).sort();
  const form = new FormData();
  for (const name of names) form.append('files', new Blob([readFileSync(join(CORPUS, name))]), name);
  const started = performance.now();
  const upload = await fetch(`${base}/api/v1/athletes/${athleteId}/imports`, { method: 'POST', headers: authorization, body: form });
  let answer = (await upload.json()) as { id?: string; status: string; summary: { created: number } };
  if (upload.status === 202) {
    while (answer.status === 'queued' || answer.status === 'running') {
      await sleep(100);
      answer = (await (await fetch(`${base}/api/v1/imports/${answer.id}`, { headers: authorization })).json()) as typeof answer;
    }
  } else if (upload.status !== 200) {
    throw new Error(`the import answered ${upload.status}: ${JSON.stringify(answer)}`);
  }
  if (answer.status !== 'completed') throw new Error(`the import job ended ${answer.status}: ${JSON.stringify(answer)}`);
  return { seconds: (performance.now() - started) / 1000, files: names.length, created: answer.summary.created };
}

interface Run {
  label: string;
  /** The first boot, on an empty database (PGlite's initdb, or the migrations): stopped once /health answers. */
  firstBoot: { seconds: number; at: ProcSample };
  bootSeconds: number;
  boot: ProcSample;
  idle: Idle;
  imported: { seconds: number; files: number; created: number };
  afterImport: ProcSample;
  idleAfter: Idle;
}

/** Starts the server, answers once /health is 200; `stop` ends it (SIGTERM, as an orchestrator would). */
async function boot(settings: Record<string, string>) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, PRODUCTION_ARGS, {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      AUTH_SECRET: 'footprint-bench-secret-that-is-long-enough',
      AUTH_RATE_LIMIT: 'false',
      LOG_LEVEL: 'warn',
      ...MALLOC_ENV,
      ...settings,
      ...EXTRA_ENV,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once('exit', done)));
  };
  try {
    await waitForHealth(base, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, pid: child.pid!, seconds: (performance.now() - started) / 1000, stop };
}

async function measure(label: string, settings: Record<string, string>): Promise<Run> {
  const first = await boot(settings);
  const firstBoot = { seconds: first.seconds, at: sample(first.pid) };
  await first.stop();
  const server = await boot(settings);
  try {
    const { pid, base } = server;
    const booted = sample(pid);
    const idleBefore = await idle(pid);
    const imported = await importCorpus(base);
    const afterImport = sample(pid);
    const idleAfter = await idle(pid);
    return { label, firstBoot, bootSeconds: server.seconds, boot: booted, idle: idleBefore, imported, afterImport, idleAfter };
  } finally {
    await server.stop();
  }
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

/** The second window's rows (none when STEADY_SECONDS is 0). */
function steadyRows(when: string, of: (run: Run) => Idle): [string, (run: Run) => string][] {
  if (STEADY_SECONDS <= 0) return [];
  const total = IDLE_SECONDS + STEADY_SECONDS;
  return [
    [`CPU while idle${when}, the next ${STEADY_SECONDS} s (steady)`, (r) => `${of(r).steady!.cpuPercent.toFixed(2)} %`],
    [`VmRSS${when} after ${total} s idle`, (r) => mib(of(r).steady!.at.rss)],
  ];
}

function print(runs: Run[]): void {
  const rows: [string, (run: Run) => string][] = [
    ['first boot, empty database (spawn → /health 200)', (r) => `${r.firstBoot.seconds.toFixed(2)} s`],
    ['VmHWM of the first boot', (r) => mib(r.firstBoot.at.hwm)],
    ['VmRSS of the first boot at /health 200', (r) => mib(r.firstBoot.at.rss)],
    ['boot (spawn → /health 200)', (r) => `${r.bootSeconds.toFixed(2)} s`],
    ['VmHWM after boot', (r) => mib(r.boot.hwm)],
    [`VmRSS after ${IDLE_SECONDS} s idle`, (r) => mib(r.idle.at.rss)],
    ['threads idle', (r) => String(r.idle.at.threads)],
    [`CPU while idle, first ${IDLE_SECONDS} s (% of a core)`, (r) => `${r.idle.cpuPercent.toFixed(2)} %`],
    ...steadyRows('', (r) => r.idle),
    ['import (files, seconds)', (r) => `${r.imported.created}/${r.imported.files}, ${r.imported.seconds.toFixed(1)} s`],
    ['VmHWM after import (peak)', (r) => mib(r.afterImport.hwm)],
    ['threads after import', (r) => String(r.afterImport.threads)],
    [`VmRSS after import + ${IDLE_SECONDS} s idle`, (r) => mib(r.idleAfter.at.rss)],
    ['threads idle after import', (r) => String(r.idleAfter.at.threads)],
    [`CPU while idle after import, first ${IDLE_SECONDS} s`, (r) => `${r.idleAfter.cpuPercent.toFixed(2)} %`],
    ...steadyRows(' after import', (r) => r.idleAfter),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`| ${''.padEnd(width)} | ${runs.map((r) => r.label.padStart(12)).join(' | ')} |`);
  console.log(`| ${'-'.repeat(width)} | ${runs.map(() => '-'.repeat(11) + ':').join(' | ')} |`);
  for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${runs.map((r) => value(r).padStart(12)).join(' | ')} |`);
  console.log('\nGoals: embedded peak ≤ 450 MB, idle ≤ 300 MB; PostgreSQL peak ≤ 350 MB, idle ≤ 200 MB; idle CPU ≤ 0.5 % of one core.');
}

async function main() {
  const malloc = Object.entries(MALLOC_ENV).map(([key, value]) => `${key}=${value} `).join('');
  console.log(`Node ${process.version}; server: ${malloc}node ${PRODUCTION_ARGS.join(' ')} (the image's CMD and ENV, NODE_ENV=production); idle periods of ${IDLE_SECONDS} s + ${STEADY_SECONDS} s; corpus ${CORPUS}\n`);
  const runs: Run[] = [];

  if (process.env.FOOTPRINT_EMBEDDED !== 'skip') {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));
    try {
      runs.push(await measure('embedded', { DATA_DIR: dataDir }));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  if (POSTGRES !== 'skip') {
    const admin = postgres(POSTGRES, { max: 1, onnotice: () => undefined });
    const name = `bench_footprint_${process.pid}`;
    const url = new URL(POSTGRES);
    url.pathname = `/${name}`;
    const storeDir = mkdtempSync(join(tmpdir(), 'bench-footprint-store-'));
    await admin.unsafe(`create database ${name}`);
    try {
      runs.push(await measure('PostgreSQL', { DATABASE_URL: url.href, DATA_DIR: storeDir }));
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      rmSync(storeDir, { recursive: true, force: true });
    }
  }
  print(runs);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
