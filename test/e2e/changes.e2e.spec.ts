import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, sql } from 'drizzle-orm';
import { activityStreams } from '../../src/database/schema/index.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { until } from '../setup/until.js';

let t: TestApp;
let user: SignedUpUser;
let other: SignedUpUser;

beforeAll(async () => {
  t = await createTestApp();
  user = await signUp(t, 'Feed');
  other = await signUp(t, 'Other');
});
afterAll(async () => {
  await t?.close();
});

interface Item {
  cursor: string;
  entity: string;
  op: string;
  id: string;
  activityId: string | null;
  athleteId: string;
  revision: number | null;
  changedAt: string;
}

async function currentEnd(who: SignedUpUser, query: Record<string, string> = {}): Promise<string> {
  const response = await t.http().get('/api/v1/changes').query(query).set(who.auth).expect(200);
  expect(response.body).toMatchObject({ items: [], hasMore: false });
  return response.body.nextCursor as string;
}

/** Follows the feed from `since` until a page is empty; returns the items and the last cursor. */
async function follow(who: SignedUpUser, since: string, query: Record<string, string> = {}): Promise<{ items: Item[]; cursor: string }> {
  const items: Item[] = [];
  let cursor = since;
  for (;;) {
    const response = await t.http().get('/api/v1/changes').query({ ...query, since: cursor, limit: '2' }).set(who.auth).expect(200);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
    if (!response.body.hasMore) return { items, cursor };
  }
}

const SAMPLES = { timestamps: [Date.parse('2026-05-01T06:00:00Z'), Date.parse('2026-05-01T06:00:01Z')], values: [120, 121] };

describe('GET /api/v1/changes', () => {
  it('starts at the current end, then shows creates, updates, stream writes and tombstones in order', async () => {
    const start = await currentEnd(user);
    const activity = await createActivity(t, user, { name: 'first' });
    await t.http().patch(`/api/v1/activities/${activity.id}`).set(user.auth).send({ name: 'renamed' }).expect(200);
    const stream = await t.http().put(`/api/v1/activities/${activity.id}/streams/heart_rate`).set(user.auth).send(SAMPLES).expect(200);
    await t.http().delete(`/api/v1/activities/${activity.id}/streams/heart_rate`).set(user.auth).expect(204);
    await t.http().delete(`/api/v1/activities/${activity.id}`).set(user.auth).expect(204);

    const { items, cursor } = await follow(user, start);
    const activityChanges = items.filter((item) => item.activityId === activity.id);
    expect(activityChanges.map((item) => [item.entity, item.op])).toEqual([
      ['activity', 'upsert'],
      ['activity', 'upsert'],
      ['stream', 'upsert'],
      ['stream', 'delete'],
      ['activity', 'delete'],
    ]);
    expect(activityChanges[0]).toMatchObject({ id: activity.id, athleteId: user.athleteId, revision: 1 });
    const [streamRow] = await t.database.db.select().from(activityStreams).where(eq(activityStreams.activityId, activity.id));
    expect(streamRow).toBeUndefined();
    expect(activityChanges[2]!.id).toBe(activityChanges[3]!.id);
    expect(stream.body.streamType).toBe('heart_rate');
    // Tombstones carry ids only.
    expect(activityChanges[4]).toMatchObject({ id: activity.id, activityId: activity.id, athleteId: user.athleteId, revision: null });
    expect(Object.keys(activityChanges[4]!).sort()).toEqual(['activityId', 'athleteId', 'changedAt', 'cursor', 'entity', 'id', 'op', 'revision']);
    // Each item's cursor resumes right after it.
    const resumed = await follow(user, activityChanges[1]!.cursor);
    expect(resumed.items.filter((item) => item.activityId === activity.id).map((item) => item.op)).toEqual(['upsert', 'delete', 'delete']);
    // Nothing new: the same end again, and an empty page.
    const again = await t.http().get('/api/v1/changes').query({ since: cursor }).set(user.auth).expect(200);
    expect(again.body.items).toEqual([]);
    expect(again.body.hasMore).toBe(false);
  });

  it('writes tombstones for an athlete deleted with its activities and streams (the cascade)', async () => {
    const before = await currentEnd(user);
    const created = await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'Second' }).expect(201);
    const athleteId = created.body.id as string;
    // The feed shows a change once every transaction that began before it has ended (the watermark):
    // with another test file's transaction open, the athlete's own upsert may come after an end read
    // now. Start right after that upsert instead.
    const start = await until('the new athlete in the feed', async () => (await follow(user, before)).items.find((item) => item.entity === 'athlete' && item.id === athleteId)?.cursor);
    const activity = await createActivity(t, { ...user, athleteId }, { name: 'on second' });
    await t.http().put(`/api/v1/activities/${activity.id}/streams/heart_rate`).set(user.auth).send(SAMPLES).expect(200);
    const [stream] = await t.database.db.select().from(activityStreams).where(eq(activityStreams.activityId, activity.id));
    const filtered = await follow(user, start, { athleteId });
    expect(filtered.items.map((item) => [item.entity, item.op])).toEqual([
      ['activity', 'upsert'],
      ['stream', 'upsert'],
    ]);

    await t.http().delete(`/api/v1/athletes/${athleteId}`).set(user.auth).expect(204);
    const { items } = await follow(user, filtered.items.at(-1)!.cursor);
    const tombstones = items.filter((item) => item.athleteId === athleteId);
    // One transaction: the order among them is the triggers' (the athlete's row goes first).
    expect(tombstones.map((item) => [item.entity, item.op, item.id]).sort()).toEqual(
      [
        ['stream', 'delete', stream!.id],
        ['activity', 'delete', activity.id],
        ['athlete', 'delete', athleteId],
      ].sort(),
    );
    // The stream's tombstone comes before its activity's.
    expect(tombstones.findIndex((item) => item.entity === 'stream')).toBeLessThan(tombstones.findIndex((item) => item.entity === 'activity'));
    // A deleted athlete's own feed is gone with it, like the athlete.
    await t.http().get('/api/v1/changes').query({ athleteId }).set(user.auth).expect(404);
  });

  it('records each row of a multi-row statement once, and nothing for a row it left unchanged', async () => {
    // activities and activity_streams record their changes per statement (src/database/sql/changes.sql).
    const [a, b, c] = [await createActivity(t, user, { name: 'a' }), await createActivity(t, user, { name: 'b' }), await createActivity(t, user, { name: 'c' })];
    const start = await until('the three creates in the feed', async () => {
      const { items, cursor } = await follow(user, await currentEnd(user));
      return items.length === 0 ? cursor : undefined;
    });
    // One UPDATE over three rows, one of which it leaves as it was.
    await t.database.db.execute(
      sql`update activities set name = case when name = 'c' then name else name || '!' end where id in (${a.id}::uuid, ${b.id}::uuid, ${c.id}::uuid)`,
    );
    const { items } = await follow(user, start);
    expect(items.map((item) => [item.entity, item.op, item.id]).sort()).toEqual(
      [
        ['activity', 'upsert', a.id],
        ['activity', 'upsert', b.id],
      ].sort(),
    );
    // One DELETE over two rows: two tombstones, each stream's before its activity's.
    await t.http().put(`/api/v1/activities/${a.id}/streams/heart_rate`).set(user.auth).send(SAMPLES).expect(200);
    const afterStream = (await follow(user, start)).cursor;
    await t.database.db.execute(sql`delete from activities where id in (${a.id}::uuid, ${b.id}::uuid)`);
    // (The stream's write may still add an upsert of its activity: only the tombstones are compared.)
    const deleted = (await follow(user, afterStream)).items.filter((item) => item.op === 'delete');
    expect(deleted[0]).toMatchObject({ entity: 'stream', op: 'delete', activityId: a.id });
    expect(deleted.slice(1).map((item) => [item.entity, item.op, item.id]).sort()).toEqual(
      [
        ['activity', 'delete', a.id],
        ['activity', 'delete', b.id],
      ].sort(),
    );
  });

  it('is owner-scoped: another user sees none of it, and another user’s athlete answers 404', async () => {
    const start = await currentEnd(other);
    await createActivity(t, user, { name: 'mine' });
    const { items } = await follow(other, start);
    // Only `other`'s own changes can show (its sign-up's athlete may come after a start read while
    // another test file's transaction is open: the watermark); none of `user`'s.
    expect(items.filter((item) => item.athleteId !== other.athleteId)).toEqual([]);
    const response = await t.http().get('/api/v1/changes').query({ athleteId: user.athleteId }).set(other.auth).expect(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });

  it('shows sync state changes', async () => {
    const start = await currentEnd(user);
    await t.http().post(`/api/v1/athletes/${user.athleteId}/sync-states/strava/start`).set(user.auth).expect(200);
    const { items } = await follow(user, start);
    expect(items.map((item) => [item.entity, item.op, item.athleteId])).toContainEqual(['sync_state', 'upsert', user.athleteId]);
  });

  it('answers 400 to a cursor it did not write, and 401 without credentials', async () => {
    const response = await t.http().get('/api/v1/changes').query({ since: 'not-a-cursor' }).set(user.auth).expect(400);
    expect(response.body).toMatchObject({ code: 'BAD_REQUEST', issues: [{ path: ['since'] }] });
    await t.http().get('/api/v1/changes').expect(401);
  });
});

describe('retention', () => {
  let short: TestApp;
  beforeAll(async () => {
    // 0.00002 days ≈ 1.7 s.
    short = await createTestApp({ CHANGE_RETENTION_DAYS: '0.00002' });
  });
  afterAll(async () => {
    await short?.close();
  });

  it('answers 410 CURSOR_EXPIRED to a cursor older than the retention, and a fresh cursor works', async () => {
    const owner = await signUp(short, 'Retention');
    const first = await short.http().get('/api/v1/changes').set(owner.auth).expect(200);
    const old = first.body.nextCursor as string;
    await short.http().post('/api/v1/activities').set(owner.auth).send({ athleteId: owner.athleteId, activityType: 'running', startTime: '2026-05-01T06:00:00Z', endTime: '2026-05-01T07:00:00Z' }).expect(201);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const { ChangesService } = await import('../../src/modules/changes/changes.service.js');
    const pruned = await short.app.get(ChangesService).prune();
    expect(pruned).toBeGreaterThan(0);

    const expired = await short.http().get('/api/v1/changes').query({ since: old }).set(owner.auth).expect(410);
    expect(expired.body).toMatchObject({ code: 'CURSOR_EXPIRED', retentionDays: 0.00002 });

    const fresh = await short.http().get('/api/v1/changes').set(owner.auth).expect(200);
    await short.http().get('/api/v1/changes').query({ since: fresh.body.nextCursor }).set(owner.auth).expect(200);
  });
});
