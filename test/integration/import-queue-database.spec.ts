import { afterAll, describe, expect, it } from '@jest/globals';
import { fromBunSql, type BunSqlLike } from 'pg-boss';
import { openDatabase } from '../../src/database/database.js';
import { pgBossDatabase } from '../../src/modules/imports/import-queue.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

/**
 * pg-boss runs on the application's own postgres.js pool, which Drizzle has told to pass timestamp
 * and JSON parameters through as they are. pg-boss binds Dates (at every start, for its crash-restart
 * bookkeeping) and objects (a failed job's output): on that pool a Date must still arrive as the
 * instant it stands for, an object as its JSON.
 */
(TEST_DATABASE_URL ? describe : describe.skip)('pg-boss on the application pool (PostgreSQL)', () => {
  const database = openDatabase({ url: TEST_DATABASE_URL, maxConnections: 2 });
  const client = (database.db as unknown as { $client: BunSqlLike }).$client;
  afterAll(() => database.close());

  const instant = new Date(Date.UTC(2026, 11, 3, 7, 45, 12, 345));
  const query = 'select $1::timestamptz = $2::timestamptz as same, extract(epoch from $1::timestamptz) * 1000 as ms';

  it('fails with the bare Bun adapter: the Drizzle pool does not serialise a Date (the bug this wrapper fixes)', async () => {
    await expect(fromBunSql(client).executeSql(query, [instant, instant.toISOString()])).rejects.toThrow(/Date/);
  });

  it('binds a Date as the same instant through pgBossDatabase, and leaves other values alone', async () => {
    const { rows } = await pgBossDatabase(client).executeSql(query, [instant, instant.toISOString()]);
    expect(rows).toEqual([{ same: true, ms: expect.anything() }]);
    expect(Number(rows[0].ms)).toBe(instant.getTime());
    const { rows: others } = await pgBossDatabase(client).executeSql('select $1::int + 1 as n, $2::text as s, $3::jsonb as j', [41, 'x', '{"a":1}']);
    expect(others).toEqual([{ n: 42, s: 'x', j: { a: 1 } }]);
  });

  // pg-boss binds a failed job's output (the serialised error) as an object: `fail` could not record
  // any failure on this pool (test/e2e/imports-outage.e2e.spec.ts shows the job's retry end to end).
  const failure = { name: 'Error', message: 'Object storage is unavailable', stack: 'Error: …' };
  it('fails with the bare Bun adapter on an object bound to jsonb (the bug this wrapper fixes)', async () => {
    await expect(fromBunSql(client).executeSql('select $1::jsonb as output', [failure])).rejects.toThrow(/must be of type string/);
  });

  it('binds a plain object as its JSON text through pgBossDatabase, arrays and bytes as they are', async () => {
    const { rows } = await pgBossDatabase(client).executeSql('select $1::jsonb as output, $2::text[] as list, $3::bytea as bytes', [
      failure,
      ['a', 'b'],
      new Uint8Array([1, 2]),
    ]);
    expect(rows).toEqual([{ output: failure, list: ['a', 'b'], bytes: Buffer.from([1, 2]) }]);
  });
});
