import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { lockDataDir } from './data-dir-lock.mjs';
import { PgliteStatementCache } from './pglite-statements.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** The one Drizzle type every module sees, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** What a callback receives inside `db.transaction(...)`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: 'postgres' | 'pglite';
  /** Applies the committed migrations, then the hand-written SQL (handWrittenSql()) when it changed since it was last applied here. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it an embedded PGlite database is used. */
  url?: string;
  /** Folder of the embedded database; undefined keeps it in memory (tests). */
  pgliteDir?: string;
  /** Pool size for the postgres driver. */
  maxConnections?: number;
  /** PGlite's shared_buffers (PostgreSQL units, e.g. `16MB`); PGLITE_SHARED_BUFFERS, see pgliteStartParams. */
  pgliteSharedBuffers?: string;
  /** Called with the SQL of every statement run through Drizzle (bench:import counts them per file). */
  onQuery?: (query: string) => void;
}

/** The embedded database's buffer cache unless PGLITE_SHARED_BUFFERS says otherwise. */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '16MB';

/**
 * PGlite's own start parameters plus a smaller buffer cache. PGlite keeps PostgreSQL's default of
 * 128MB of shared_buffers inside the WebAssembly memory, where every page touched stays resident and
 * the memory never shrinks: about 140 MiB of the server's RSS on a small database. The data files
 * are read through the operating system, whose page cache holds them anyway, so a small buffer cache
 * costs little. (PGlite's `initialMemory` cannot go below the 128 MiB the module declares.)
 */
export function pgliteStartParams(sharedBuffers = DEFAULT_PGLITE_SHARED_BUFFERS): string[] {
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
}

/** Migrations are SQL files committed beside the schema; `npm run build` copies them next to the JS. */
export function migrationsFolder(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'migrations'), resolve(process.cwd(), 'src/database/migrations')];
  return candidates.find((dir) => existsSync(join(dir, 'meta', '_journal.json'))) ?? candidates[0]!;
}

/**
 * SQL that Drizzle's schema cannot express (triggers, functions), in idempotent files applied in
 * name order after every `migrate` and after `npm run db:push` and `npm run db:migrate` (scripts/db-schema.mjs), so a database
 * is the same whichever way its schema was made. See docs/data-model.md.
 */
export function handWrittenSql(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'sql'), resolve(process.cwd(), 'src/database/sql')];
  const dir = candidates.find((candidate) => existsSync(candidate));
  if (!dir) throw new Error(`Hand-written SQL folder not found (looked in ${candidates.join(', ')})`);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => readFileSync(join(dir, file), 'utf8'));
}

/**
 * Applies the hand-written SQL at boot only when it differs from what this database last got: the
 * files, and the migration journal (a migration that re-creates a table drops its triggers). Its
 * `CREATE OR REPLACE FUNCTION` / `CREATE TRIGGER` statements take ShareRowExclusive locks on the
 * busiest tables; run at every boot, a replica (or a test app) starting beside others that write
 * deadlocked with them (seen once issue 27's change-feed triggers covered five tables). The hash
 * is kept in Drizzle's own schema (`drizzle.hand_written_sql`), beside its migration ledger, and
 * the caller holds the migration lock. `npm run db:push`/`db:migrate` apply the files every time.
 */
async function applyHandWrittenSql(run: (text: string) => Promise<unknown>, recorded: () => Promise<string | undefined>, record: (hash: string) => Promise<unknown>): Promise<void> {
  const texts = handWrittenSql();
  const journal = readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8');
  const hash = createHash('sha256').update(journal).update('\0').update(texts.join('\0')).digest('hex');
  await run('create schema if not exists drizzle; create table if not exists drizzle.hand_written_sql (id int primary key, sha256 text not null, applied_at timestamptz not null default now())');
  if ((await recorded()) === hash) return;
  for (const text of texts) await run(text);
  await record(hash);
}

const HAND_WRITTEN_RECORD = 'insert into drizzle.hand_written_sql (id, sha256) values (1, $1) on conflict (id) do update set sha256 = excluded.sha256, applied_at = now()';

/**
 * Creates an embedded database folder that does not exist yet, with a PGlite instance that is closed
 * once it is ready, and answers whether it did. PGlite's initdb leaves ~300 MiB of WebAssembly and
 * buffer memory referenced by the instance that ran it (measured: RSS 493 MiB once ready, 226 MiB
 * after closing it and opening the folder again); the server then opens the folder like any restart.
 * A folder with PG_VERSION is left alone. Under the folder's lock, released before returning:
 * openDatabase takes it again, and refuses if another process took it meanwhile.
 */
export async function initialiseEmbeddedDataDir(pgliteDir: string, sharedBuffers?: string): Promise<boolean> {
  if (existsSync(join(pgliteDir, 'PG_VERSION'))) return false;
  const lock = lockDataDir(pgliteDir);
  try {
    if (existsSync(join(pgliteDir, 'PG_VERSION'))) return false;
    mkdirSync(pgliteDir, { recursive: true });
    const client = new PGlite({ dataDir: pgliteDir, startParams: pgliteStartParams(sharedBuffers) });
    await client.waitReady;
    await client.close();
    return true;
  } finally {
    lock.release();
  }
}
const queryLogger = ({ onQuery }: DatabaseOptions) => (onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined);

/**
 * Seconds before a connection retries after a failed connect. postgres.js waits up to 20 s by default
 * (3^n / 100), and a query queued behind that connection waits with it: with the database down, a request
 * answered its 503 after 60–100 s. Capped at one second, jittered so that replicas do not retry in step.
 */
export const reconnectDelaySeconds = (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);

/** Any constant works; it only has to be the same for every process that migrates this database. */
const MIGRATION_LOCK_KEY = 7_301_937_405;

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => undefined,
      backoff: reconnectDelaySeconds,
    });
    const db = drizzlePostgres({ client, schema, logger: queryLogger(options) }) as unknown as Database;
    return {
      db,
      kind: 'postgres',
      async migrate() {
        // Several replicas (or test workers) may start at once: serialise migrations per database.
        const lock = await client.reserve();
        try {
          await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
          await migratePostgres(drizzlePostgres({ client, schema }), { migrationsFolder: migrationsFolder() });
          await applyHandWrittenSql(
            (text) => lock.unsafe(text),
            async () => ((await lock`select sha256 from drizzle.hand_written_sql where id = 1`)[0] as { sha256?: string } | undefined)?.sha256,
            (hash) => lock.unsafe(HAND_WRITTEN_RECORD, [hash]),
          );
        } finally {
          await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
          lock.release();
        }
      },
      close: () => client.end({ timeout: 5 }),
    };
  }

  // One process per folder (data-dir-lock.mjs): a second one is refused here, before it reads a byte.
  const lock = options.pgliteDir ? lockDataDir(options.pgliteDir) : undefined;
  let client: PGlite;
  try {
    if (options.pgliteDir) mkdirSync(options.pgliteDir, { recursive: true });
    client = new PGlite({ dataDir: options.pgliteDir, startParams: pgliteStartParams(options.pgliteSharedBuffers) });
  } catch (error) {
    lock?.release();
    throw error;
  }
  // Statements parsed once per text (pglite-statements.ts); `$client` stays the PGlite instance (pg-boss's adapter takes it).
  const pglite = drizzlePglite({ client: new PgliteStatementCache(client) as unknown as PGlite, schema, logger: queryLogger(options) });
  pglite.$client = client;
  const db = pglite as unknown as Database;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(drizzlePglite({ client, schema }), { migrationsFolder: migrationsFolder() });
      await applyHandWrittenSql(
        (text) => client.exec(text),
        async () => (await client.query<{ sha256: string }>('select sha256 from drizzle.hand_written_sql where id = 1')).rows[0]?.sha256,
        (hash) => client.query(HAND_WRITTEN_RECORD, [hash]),
      );
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}
