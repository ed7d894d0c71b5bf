/**
 * The project as production runs it (`node dist/src/main.js`, NODE_ENV=production, local-folder
 * object store), started by a benchmark on a free port: on PostgreSQL when given a database URL
 * (reset first), else on the embedded PGlite in a temporary DATA_DIR. Shared by bench:ingest and
 * bench:dedup.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

/** Creates the database if missing and empties it (schemas public and drizzle). */
export async function resetDatabase(url: string): Promise<postgres.Sql> {
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ProjectServer {
  base: string;
  /** The server process's id (its CPU in /proc). */
  pid: number;
  /** The env the server runs with (for code that opens the same object store). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the built server and waits for /health. `databaseUrl` undefined: PGlite in the temporary
 * DATA_DIR. `extraEnv` adds or overrides variables (e.g. a feature switch). `checkout`: the built
 * server of another checkout of the project (an earlier commit, side by side), else this one's.
 */
export async function startProject(options: { databaseUrl?: string; extraEnv?: Record<string, string>; checkout?: string } = {}): Promise<ProjectServer> {
  const port = Number(process.env.BENCH_PORT ?? 0) || (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-project-'));
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    AUTH_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
    AUTH_RATE_LIMIT: 'false',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.extraEnv,
  };
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  const server = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    ...(options.checkout ? { cwd: options.checkout } : {}),
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 240 && server.exitCode === null; i++) {
    if ((up = await fetch(`${base}/health`).then((r) => r.ok).catch(() => false))) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (!up) {
    await stop();
    throw new Error(`the server did not come up on ${base}`);
  }
  return { base, env, pid: server.pid!, stop };
}

/** Signs a user up and returns its bearer token and default athlete. */
export async function signUp(base: string, email: string) {
  const response = await fetch(`${base}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email, password: 'bench-password-123' }),
  });
  if (!response.ok) throw new Error(`sign-up: ${response.status} ${await response.text()}`);
  const token = response.headers.get('set-auth-token')!;
  const athletes = (await (await fetch(`${base}/api/v1/athletes`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { id: string }[] };
  return { token, athleteId: athletes.items[0]!.id };
}
