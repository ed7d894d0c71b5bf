import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { PgliteStatementCache } from '../../src/database/pglite-statements.js';

/**
 * PGlite's queries through named prepared statements (src/database/pglite-statements.ts): the same
 * answers and errors as PGlite's own `query`, in and out of transactions, with a bounded number of
 * statements kept in the backend.
 */
describe('PgliteStatementCache', () => {
  let client: PGlite;
  let cache: PgliteStatementCache;

  beforeAll(async () => {
    client = new PGlite();
    cache = new PgliteStatementCache(client, 5);
    await client.exec(`create table items (id int primary key, name text not null, at timestamptz, tags text[], doc jsonb, score float8)`);
  });

  afterAll(() => client.close());

  const prepared = async () => (await client.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements')).rows[0]!.n;

  it('answers what PGlite.query answers, for every value type, in object and array row mode, run after run', async () => {
    const insert = 'insert into items (id, name, at, tags, doc, score) values ($1, $2, $3, $4, $5, $6) returning *';
    const at = new Date('2026-12-07T08:00:00.123Z');
    const viaCache = await cache.query(insert, [1, 'one', at, ['a', 'b'], { k: [1, null, 'x'] }, 1.5]);
    const viaPglite = await client.query(insert, [2, 'two', null, null, null, null]);
    expect(viaCache.rows).toEqual([{ id: 1, name: 'one', at, tags: ['a', 'b'], doc: { k: [1, null, 'x'] }, score: 1.5 }]);
    expect(viaCache.fields).toEqual(viaPglite.fields);
    expect(viaCache.affectedRows).toBe(1);
    const select = 'select id, name, at, tags, doc, score from items where id = any($1::int[]) order by id';
    for (let run = 0; run < 8; run++) {
      // Past the fifth run PostgreSQL may switch to the generic plan: the answer stays the same.
      expect((await cache.query(select, [[1, 2]], { rowMode: 'array' })).rows).toEqual((await client.query(select, [[1, 2]], { rowMode: 'array' })).rows);
    }
    expect((await cache.query(select, [[2]])).rows).toEqual([{ id: 2, name: 'two', at: null, tags: null, doc: null, score: null }]);
  });

  it('keeps at most its capacity of statements, closing the least recently used', async () => {
    for (let i = 0; i < 12; i++) await cache.query(`select $1::int + ${i} as n`, [i]);
    expect(cache.size).toBe(5);
    // The evicted ones are closed with the next Parse: at most one batch behind.
    expect(await prepared()).toBeLessThanOrEqual(6);
    expect((await cache.query('select $1::int + 11 as n', [1])).rows).toEqual([{ n: 12 }]);
  });

  it('answers PGlite’s errors with the query, and the connection works on', async () => {
    const insert = 'insert into items (id, name) values ($1, $2)';
    const error = (await cache.query(insert, [1, 'again']).catch((e: unknown) => e)) as Error & { code?: string; constraint?: string; query?: string };
    expect(error.code).toBe('23505');
    expect(error.constraint).toBe('items_pkey');
    expect(error.query).toBe(insert);
    const syntax = (await cache.query('select from where', []).catch((e: unknown) => e)) as Error & { code?: string };
    expect(syntax.code).toBe('42601');
    expect((await cache.query('select name from items where id = $1', [1])).rows).toEqual([{ name: 'one' }]);
  });

  it('runs in transactions: committed, rolled back, and a statement first parsed in a rolled-back one runs after it', async () => {
    await cache.transaction(async (tx) => {
      await tx.query('insert into items (id, name) values ($1, $2)', [10, 'kept']);
    });
    await expect(
      cache.transaction(async (tx) => {
        await tx.query('insert into items (id, name) values ($1, $2)', [11, 'dropped']);
        await tx.query('update items set name = $1 where id = $2 returning id', ['renamed', 10]);
        await tx.query('insert into items (id, name) values ($1, $2)', [10, 'duplicate']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await cache.query('select id, name from items where id >= $1 order by id', [10])).rows).toEqual([{ id: 10, name: 'kept' }]);
    expect((await cache.query('update items set name = $1 where id = $2 returning id', ['renamed', 10])).rows).toEqual([{ id: 10 }]);
  });

  it('parses a statement again when a schema change altered its result', async () => {
    const all = 'select * from items where id = $1';
    expect(Object.keys((await cache.query<Record<string, unknown>>(all, [1])).rows[0]!)).not.toContain('extra');
    await client.exec('alter table items add column extra int');
    expect((await cache.query<Record<string, unknown>>(all, [1])).rows[0]).toMatchObject({ id: 1, extra: null });
    // Inside a transaction the refusal fails it (as on PostgreSQL with postgres.js); the text is parsed again after.
    await client.exec('alter table items add column more int');
    await expect(cache.transaction((tx) => tx.query(all, [1]))).rejects.toMatchObject({ routine: 'RevalidateCachedQuery' });
    expect((await cache.query<Record<string, unknown>>(all, [1])).rows[0]).toMatchObject({ id: 1, extra: null, more: null });
  });
});

describe('the embedded database through Drizzle, with statements kept', () => {
  let database: DatabaseHandle;

  beforeAll(async () => {
    database = openDatabase({});
    await database.db.execute(sql`create table notes (id int primary key, body text)`);
  });

  afterAll(() => database.close());

  it('commits, rolls back, and keeps `$client` the PGlite instance', async () => {
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into notes values (${1}, ${'a'})`);
    });
    await expect(
      database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into notes values (${2}, ${'b'})`);
        tx.rollback();
      }),
    ).rejects.toThrow();
    const rows = await database.db.execute(sql`select id, body from notes order by id`);
    expect((rows as unknown as { rows: unknown[] }).rows).toEqual([{ id: 1, body: 'a' }]);
    expect((database.db as unknown as { $client: unknown }).$client).toBeInstanceOf(PGlite);
  });
});
