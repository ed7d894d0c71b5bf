// `npm run db:push` / `npm run db:migrate` (and the same under `bun run`): drizzle-kit push (the
// TypeScript schema straight into the database) or migrate (the committed migrations), then the
// hand-written SQL of src/database/sql (triggers, functions) that drizzle-kit does not know about —
// so a database behaves the same whichever way its schema was made, as at boot (database.ts).
// Plain JavaScript with no build step, so npm, bun and node run it alike.
// Usage: node scripts/db-schema.mjs push|migrate [drizzle-kit options]
// Target: DATABASE_URL, else the embedded PGlite database under DATA_DIR (default ./data).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataDirLockedError, lockDataDir } from '../src/database/data-dir-lock.mjs';

const [command, ...options] = process.argv.slice(2);
if (command !== 'push' && command !== 'migrate') {
  console.error('usage: node scripts/db-schema.mjs push|migrate [drizzle-kit options]');
  process.exit(2);
}
const url = process.env.DATABASE_URL || undefined;
const pgliteDir = resolve(process.env.DATA_DIR ?? './data', 'pglite');
// The embedded database admits one process at a time (src/database/data-dir-lock.mjs): with the
// server running on the same DATA_DIR this stops here, naming it; released at exit.
if (!url) {
  try {
    lockDataDir(pgliteDir, `npm run db:${command} (scripts/db-schema.mjs)`);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  // drizzle-kit's PGlite driver creates only the last folder of the path (ENOENT on a fresh clone).
  mkdirSync(pgliteDir, { recursive: true });
}

const bin = resolve('node_modules', '.bin', process.platform === 'win32' ? 'drizzle-kit.cmd' : 'drizzle-kit');
// drizzle-kit push reports its failures and exits 0: the preload turns that into exit 1 (see the file).
const preload = `--require=${JSON.stringify(resolve(import.meta.dirname, 'drizzle-kit-exit-code.cjs'))}`;
const env = { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') };
const kit = spawnSync(bin, command === 'push' ? ['push', '--force', ...options] : ['migrate', ...options], { stdio: 'inherit', env });
if (kit.status !== 0) {
  console.error(`drizzle-kit ${command} failed (${kit.error?.message ?? (kit.signal ? `signal ${kit.signal}` : `exit code ${kit.status}`)}); the hand-written SQL was not applied.`);
  process.exit(kit.status || 1);
}

const dir = resolve('src/database/sql');
const files = readdirSync(dir).filter((file) => file.endsWith('.sql')).sort();
// One connection either way: `exec` runs a script, `query` one statement with parameters.
let connection;
if (url) {
  const { default: postgres } = await import('postgres');
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  connection = { exec: (text) => sql.unsafe(text), query: (text, params) => sql.unsafe(text, params), close: () => sql.end() };
} else {
  const { PGlite } = await import('@electric-sql/pglite');
  const client = new PGlite(pgliteDir);
  connection = { exec: (text) => client.exec(text), query: async (text, params) => (await client.query(text, params)).rows, close: () => client.close() };
}
let baselined = 0;
try {
  const texts = files.map((file) => readFileSync(join(dir, file), 'utf8'));
  for (const text of texts) await connection.exec(text);
  if (command === 'push') baselined = await recordMigrations(connection);
  await recordHandWritten(connection, texts);
} finally {
  await connection.close();
}
console.log(`Applied ${files.length} hand-written SQL file(s) from src/database/sql.`);
if (baselined > 0) console.log(`Recorded ${baselined} committed migration(s) as applied (the pushed schema is theirs), so \`npm start\` does not run them again.`);

/**
 * A pushed database holds the schema the committed migrations build (test/integration/migrations.spec.ts
 * compares the two), but the server applies pending migrations at start and would run them all
 * again on the tables push made ("relation already exists"). So push records them as applied, in
 * Drizzle's own ledger and exactly as its migrator does (file hash, journal time). A schema change
 * not yet generated into a migration is in the database but not in the ledger: generate it, and
 * reset a prototyping database before `npm start` applies it (README "Database").
 */
async function recordMigrations(db) {
  const { readMigrationFiles } = await import('drizzle-orm/migrator');
  const migrations = readMigrationFiles({ migrationsFolder: resolve('src/database/migrations') });
  await db.exec('create schema if not exists drizzle');
  await db.exec('create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)');
  const [last] = await db.query('select max(created_at) as created_at from drizzle.__drizzle_migrations', []);
  const after = last?.created_at == null ? -Infinity : Number(last.created_at);
  const missing = migrations.filter((migration) => migration.folderMillis > after);
  for (const migration of missing) {
    await db.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [migration.hash, migration.folderMillis]);
  }
  return missing.length;
}

/**
 * Records what was applied as the server does at boot (src/database/database.ts, applyHandWrittenSql:
 * the same hash of the migration journal and the files), so the first `npm start` after a push or a
 * migrate has nothing to apply (no CREATE TRIGGER beside other replicas' writes).
 */
async function recordHandWritten(db, texts) {
  const journal = readFileSync(resolve('src/database/migrations/meta/_journal.json'), 'utf8');
  const hash = createHash('sha256').update(journal).update('\0').update(texts.join('\0')).digest('hex');
  await db.exec('create schema if not exists drizzle; create table if not exists drizzle.hand_written_sql (id int primary key, sha256 text not null, applied_at timestamptz not null default now())');
  await db.query('insert into drizzle.hand_written_sql (id, sha256) values (1, $1) on conflict (id) do update set sha256 = excluded.sha256, applied_at = now()', [hash]);
}
