import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { openDatabase } from '../../src/database/database.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

/**
 * `npm run db:push` (drizzle-kit reading the TypeScript schema) and the committed SQL migrations
 * must produce the same database: otherwise someone changed the schema without generating a
 * migration. Runs against the real server when TEST_DATABASE_URL is set, else on PGlite folders.
 */
const CATALOG_QUERY = `
  select 'column' as kind, table_name || '.' || column_name as name,
         concat_ws(' ', data_type, is_nullable, column_default) as definition
    from information_schema.columns where table_schema = 'public'
  union all
  select 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
    from pg_constraint where connamespace = 'public'::regnamespace
  union all
  select 'index', indexname, indexdef from pg_indexes where schemaname = 'public'
  order by 1, 2`;

interface Target {
  env: Record<string, string>;
  create(): Promise<void>;
  describe(): Promise<string[]>;
  migrate(): Promise<void>;
  drop(): Promise<void>;
}

function serverTarget(): Target {
  const name = `drift_${randomBytes(4).toString('hex')}`;
  const base = new URL(TEST_DATABASE_URL!);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const admin = () => postgres(base.toString(), { max: 1, onnotice: () => undefined });
  return {
    env: { DATABASE_URL: url.toString() },
    async create() {
      const sql = admin();
      await sql.unsafe(`create database ${name}`);
      await sql.end();
    },
    async describe() {
      const sql = postgres(url.toString(), { max: 1 });
      const rows = await sql.unsafe(CATALOG_QUERY);
      await sql.end();
      return rows.map((row) => `${row.kind} ${row.name}: ${row.definition}`);
    },
    async migrate() {
      const database = openDatabase({ url: url.toString(), maxConnections: 2 });
      await database.migrate();
      await database.close();
    },
    async drop() {
      const sql = admin();
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

function pgliteTarget(): Target {
  const dataDir = mkdtempSync(join(tmpdir(), 'drift-'));
  const dir = join(dataDir, 'pglite');
  return {
    env: { DATA_DIR: dataDir },
    create: async () => undefined,
    async describe() {
      const client = new PGlite(dir);
      const result = await client.query<{ kind: string; name: string; definition: string }>(CATALOG_QUERY);
      await client.close();
      return result.rows.map((row) => `${row.kind} ${row.name}: ${row.definition}`);
    },
    async migrate() {
      const database = openDatabase({ pgliteDir: dir });
      await database.migrate();
      await database.close();
    },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const makeTarget = () => (TEST_DATABASE_URL ? serverTarget() : pgliteTarget());

function push(target: Target) {
  const result = spawnSync('npx', ['drizzle-kit', 'push', '--force'], {
    env: { ...process.env, ...target.env, DATABASE_URL: target.env.DATABASE_URL ?? '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe('schema vs migrations', () => {
  let pushed: Target;
  let migrated: Target;

  beforeAll(async () => {
    pushed = makeTarget();
    migrated = makeTarget();
    await Promise.all([pushed.create(), migrated.create()]);
  });
  afterAll(async () => {
    await pushed.drop();
    await migrated.drop();
  });

  it('db:push succeeds on an empty database, and a second push changes nothing', () => {
    const first = push(pushed);
    expect(first.output).not.toMatch(/error/i);
    expect(first.status).toBe(0);
    const second = push(pushed);
    expect(second.status).toBe(0);
    expect(second.output).toMatch(/No changes detected/);
  });

  it('the committed migrations build exactly the schema db:push builds', async () => {
    await migrated.migrate();
    const [fromPush, fromMigrations] = await Promise.all([pushed.describe(), migrated.describe()]);
    expect(fromMigrations.length).toBeGreaterThan(100);
    expect(fromMigrations).toEqual(fromPush);
  });

  it('db:push against the migrated database finds nothing to change', () => {
    const result = push(migrated);
    expect(result.status).toBe(0);
    expect(result.output).toMatch(/No changes detected/);
  });
});
