import { afterAll, describe, expect, it } from '@jest/globals';
import { fromBunSql, type BunSqlLike } from 'pg-boss';
import { openDatabase } from '../../src/database/database.js';
import { pgBossDatabase } from '../../src/modules/imports/import-queue.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

/**
 * pg-boss runs on the application's own postgres.js pool, which Drizzle has told to pass timestamp
 * parameters through as they are. pg-boss binds Dates (at every start, for its crash-restart
 * bookkeeping): on that pool a Date must still arrive as the instant it stands for.
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
});
