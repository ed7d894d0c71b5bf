import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, type DatabaseOptions } from '../../src/database/database.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

/**
 * Issue 22, item 5: `npm run db:push` is the first command after `npm install` on a fresh clone —
 * no `dist/` anywhere, the contract workspace not built — on PostgreSQL and on the embedded default;
 * `npm start` then boots on that database (its migrate at boot finds the pushed schema's migrations
 * recorded); and whenever drizzle-kit fails, db:push exits non-zero before the hand-written SQL.
 * The clone is the repository's files (as `git clone` lays them) beside the installed node_modules;
 * `.ci/run` also proves it from a real `git clone` + `npm ci`.
 */
const repo = resolve('.');
const WORKSPACES = ['contract', 'parquet-streams'] as const;

function freshClone(): string {
  const root = mkdtempSync(join(tmpdir(), 'fresh-clone-'));
  for (const entry of ['package.json', 'tsconfig.json', 'drizzle.config.ts', 'scripts', 'src']) cpSync(join(repo, entry), join(root, entry), { recursive: true });
  // The workspaces (the contract, the Parquet codec) as cloned: sources, no dist/.
  for (const workspace of WORKSPACES) {
    mkdirSync(join(root, 'libs', workspace), { recursive: true });
    for (const entry of ['package.json', 'tsconfig.json', 'src']) cpSync(join(repo, 'libs', workspace, entry), join(root, 'libs', workspace, entry), { recursive: true });
  }
  // node_modules as npm lays it: the registry packages, and the workspaces linked to this clone's copies.
  mkdirSync(join(root, 'node_modules', '@unified-activity'), { recursive: true });
  for (const entry of readdirSync(join(repo, 'node_modules'))) {
    if (entry !== '@unified-activity') symlinkSync(join(repo, 'node_modules', entry), join(root, 'node_modules', entry));
  }
  for (const workspace of WORKSPACES) symlinkSync(join(root, 'libs', workspace), join(root, 'node_modules', '@unified-activity', workspace));
  return root;
}

function dbSchema(cwd: string, args: string[], env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, ['scripts/db-schema.mjs', ...args], {
    cwd,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: join(cwd, 'data'), ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

interface Target {
  name: string;
  env(clone: string): Record<string, string>;
  options(clone: string): DatabaseOptions;
  /** Creates the (empty) database, as a user does before db:push; the embedded one needs nothing. */
  create(): Promise<void>;
  tables(clone: string): Promise<string[]>;
  drop(): Promise<void>;
}

const TABLES = `select table_schema || '.' || table_name as name from information_schema.tables
  where table_schema in ('public', 'drizzle') order by 1`;

function postgresTarget(): Target {
  const name = `fresh_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const admin = () => postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => undefined });
  return {
    name: 'PostgreSQL',
    env: () => ({ DATABASE_URL: url.toString() }),
    options: () => ({ url: url.toString(), maxConnections: 2 }),
    async create() {
      const sql = admin();
      await sql.unsafe(`create database ${name}`);
      await sql.end();
    },
    async tables() {
      const sql = postgres(url.toString(), { max: 1 });
      const rows = await sql.unsafe(TABLES);
      await sql.end();
      return rows.map((row) => row.name as string);
    },
    async drop() {
      const sql = admin();
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

function pgliteTarget(): Target {
  return {
    name: 'PGlite (embedded default)',
    env: (clone) => ({ DATA_DIR: join(clone, 'data') }),
    options: (clone) => ({ pgliteDir: join(clone, 'data', 'pglite') }),
    create: async () => undefined,
    async tables(clone) {
      if (!existsSync(join(clone, 'data', 'pglite'))) return [];
      const database = openDatabase({ pgliteDir: join(clone, 'data', 'pglite') });
      try {
        const result = (await database.db.execute(sql.raw(TABLES))) as unknown as { rows: { name: string }[] };
        return result.rows.map((row) => row.name);
      } finally {
        await database.close();
      }
    },
    drop: async () => undefined,
  };
}

const targets = TEST_DATABASE_URL ? [pgliteTarget, postgresTarget] : [pgliteTarget];

describe.each(targets.map((make) => [make().name, make] as const))('db:push on a fresh clone, before any build (%s)', (_name, makeTarget) => {
  let clone: string;
  let target: Target;

  beforeAll(async () => {
    clone = freshClone();
    target = makeTarget();
    await target.create();
  });
  afterAll(async () => {
    await target.drop();
    rmSync(clone, { recursive: true, force: true });
  });

  it('exits non-zero, before the hand-written SQL, when drizzle-kit cannot load the schema', async () => {
    // Without the tsconfig path to the contract's sources, the schema needs the contract's dist/,
    // which a fresh clone does not have: the failure of issue 22 (drizzle-kit used to exit 0 here).
    const tsconfig = readFileSync(join(clone, 'tsconfig.json'), 'utf8');
    writeFileSync(join(clone, 'tsconfig.json'), tsconfig.replace(/"paths":[^\n]*\n/, ''));
    try {
      const result = dbSchema(clone, ['push'], target.env(clone));
      expect(result.output).toMatch(/Cannot find module '.*@unified-activity\/contract\/dist\/index\.js'/);
      expect(result.output).toMatch(/drizzle-kit push failed \(exit code 1\); the hand-written SQL was not applied/);
      expect(result.output).not.toMatch(/Applied \d+ hand-written SQL/);
      expect(result.status).toBe(1);
      expect((await target.tables(clone)).filter((table) => table.startsWith('public.'))).toEqual([]);
    } finally {
      writeFileSync(join(clone, 'tsconfig.json'), tsconfig);
    }
  }, 240_000);

  it('succeeds with no dist/ anywhere, and the server then boots on it (migrate at boot has nothing to do)', async () => {
    expect(existsSync(join(clone, 'libs', 'contract', 'dist'))).toBe(false);
    expect(existsSync(join(clone, 'libs', 'parquet-streams', 'dist'))).toBe(false);
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    const result = dbSchema(clone, ['push'], target.env(clone));
    expect(result.output).toMatch(/Applied \d+ hand-written SQL file/);
    expect(result.output).toMatch(/Recorded \d+ committed migration\(s\) as applied/);
    expect(result.status).toBe(0);
    const tables = await target.tables(clone);
    expect(tables).toEqual(expect.arrayContaining(['public.user', 'public.athletes', 'public.activities', 'drizzle.__drizzle_migrations']));

    // What `npm start` does first: apply pending migrations (they are all recorded), then the hand-written SQL.
    const database = openDatabase(target.options(clone));
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
    expect(await target.tables(clone)).toEqual(tables);

    // db:migrate afterwards finds nothing to apply either.
    const migrate = dbSchema(clone, ['migrate'], target.env(clone));
    expect(migrate.status).toBe(0);
  }, 240_000);
});
