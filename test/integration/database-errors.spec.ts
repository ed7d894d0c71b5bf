/**
 * The one database error mapper against the errors a real database raises (PostgreSQL in CI,
 * PGlite without TEST_DATABASE_URL): classes 22 and 23 are always a 4xx, an unreachable database
 * a 503, and the log line names the database's cause without the parameter values.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { classifyDatabaseError, describeDatabaseError } from '../../src/database/errors.js';
import { activities, activityStatistics, athletes } from '../../src/database/schema/index.js';
import { describeError } from '../../src/modules/api/errors.js';
import { insertActivity, insertAthlete } from '../factories/rows.js';
import { openTestDatabase } from '../setup/database.js';

let database: DatabaseHandle;
const db = () => database.db;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

async function failure(statement: Promise<unknown>): Promise<unknown> {
  try {
    await statement;
  } catch (error) {
    return error;
  }
  throw new Error('expected the statement to fail');
}

describe('classifyDatabaseError', () => {
  it('unique violation → 409', async () => {
    const athlete = await insertAthlete(db());
    await insertActivity(db(), athlete.id, { source: 'strava', externalId: 'dup' });
    const error = await failure(insertActivity(db(), athlete.id, { source: 'strava', externalId: 'dup' }));
    expect(classifyDatabaseError(error)).toMatchObject({ status: 409, code: '23505', kind: 'conflict' });
  });

  it('foreign key: a missing referenced row → 422', async () => {
    // A statistic of an activity that does not exist (an activity's own athlete is filled by trigger).
    const error = await failure(db().insert(activityStatistics).values({ activityId: randomUUID(), key: 'avg_power_w', value: 1, unit: 'W' }));
    expect(classifyDatabaseError(error)).toMatchObject({ status: 422, code: '23503', kind: 'missing-reference' });
  });

  it('check and not-null violations → 422', async () => {
    const athlete = await insertAthlete(db());
    const check = await failure(
      insertActivity(db(), athlete.id, { startTime: new Date('2026-05-01T07:00:00Z'), endTime: new Date('2026-05-01T06:00:00Z') }),
    );
    expect(classifyDatabaseError(check)).toMatchObject({ status: 422, code: '23514' });
    const notNull = await failure(db().execute(sql`update ${athletes} set display_name = null where ${athletes.id} = ${athlete.id}`));
    expect(classifyDatabaseError(notNull)).toMatchObject({ status: 422, code: '23502' });
  });

  it('data exceptions (class 22) → 400: NUL in text, a timestamp PostgreSQL cannot hold, malformed input', async () => {
    const athlete = await insertAthlete(db());
    const nul = await failure(db().update(athletes).set({ displayName: 'a\u0000b' }).where(eq(athletes.id, athlete.id)));
    expect(classifyDatabaseError(nul)).toMatchObject({ status: 400, kind: 'invalid-value' });
    expect(classifyDatabaseError(nul)!.code).toMatch(/^22/);
    const overflow = await failure(db().execute(sql`select ${'300000-01-01 00:00:00+00'}::timestamptz`));
    expect(classifyDatabaseError(overflow)!.code).toMatch(/^22/);
    expect(classifyDatabaseError(overflow)!.status).toBe(400);
    const syntax = await failure(db().execute(sql`select ${'not-a-uuid'}::uuid`));
    expect(classifyDatabaseError(syntax)).toMatchObject({ status: 400, code: '22P02' });
  });

  it('a bug (undefined table) stays unclassified: a 500', async () => {
    const error = await failure(db().execute(sql`select * from no_such_table where id = ${'secret-value'}`));
    expect(classifyDatabaseError(error)).toBeUndefined();
  });

  it('an unreachable database → 503', async () => {
    const unreachable = openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', maxConnections: 1 });
    try {
      const error = await failure(unreachable.db.select().from(activities).limit(1));
      expect(classifyDatabaseError(error)).toMatchObject({ status: 503, kind: 'unavailable' });
    } finally {
      await unreachable.close();
    }
  });
});

describe('log lines of failed queries', () => {
  it('name the cause and SQLSTATE, show the statement once, and never the parameter values', async () => {
    const error = await failure(db().execute(sql`select * from no_such_table where id = ${'secret-value'}`));
    const line = describeError(error);
    expect(line).toMatch(/no_such_table.*does not exist/);
    expect(line).toContain('SQLSTATE 42P01');
    expect(line).not.toContain('secret-value');
    expect(line.match(/select \* from no_such_table/g)).toHaveLength(1);
    expect(describeDatabaseError(new Error('plain'))).toBeUndefined();
  });
});
