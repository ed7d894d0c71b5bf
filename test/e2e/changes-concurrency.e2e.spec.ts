/**
 * The change feed's no-skip guarantee (docs/data-model.md, "Change feed"): 20 writers commit 200
 * changes each in transactions that sleep at random inside (some rolled back, so commits land out
 * of transaction-id order), while one reader polls GET /api/v1/changes every few milliseconds. Every
 * committed change is seen exactly once, no rolled-back one is, and each activity's changes come in
 * commit order — also for activities that several writers update (the position rule of
 * src/database/sql/changes.sql). PostgreSQL with TEST_DATABASE_URL, PGlite without.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eq, sql } from 'drizzle-orm';
import { openDatabase, type Database, type DatabaseHandle } from '../../src/database/database.js';
import { activities } from '../../src/database/schema/index.js';
import { rng } from '../../libs/testing/seeded-random.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

const WRITERS = 20;
const CHANGES_PER_WRITER = 200;
const SHARED = 5;

let t: TestApp;
let user: SignedUpUser;
let writerPool: DatabaseHandle | undefined;
let db: Database;

beforeAll(async () => {
  t = await createTestApp();
  user = await signUp(t, 'Concurrency');
  // On PostgreSQL each writer gets its own connection; PGlite has one, and runs transactions one by one.
  writerPool = TEST_DATABASE_URL ? openDatabase({ url: TEST_DATABASE_URL, maxConnections: WRITERS + 2 }) : undefined;
  db = writerPool?.db ?? t.database.db;
});
afterAll(async () => {
  await writerPool?.close();
  await t?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
class Rollback extends Error {}

const row = (i: number) => ({
  athleteId: user.athleteId,
  activityType: 'running',
  startTime: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
  endTime: new Date(Date.UTC(2026, 0, 1) + i * 60_000 + 30_000),
});

it('serves every committed change once, no rolled-back one, each activity in commit order', async () => {
  const shared = await db.insert(activities).values(Array.from({ length: SHARED }, (_, i) => row(i))).returning({ id: activities.id });
  const start = await t.http().get('/api/v1/changes').set(user.auth).expect(200);

  const committed: string[] = [];
  const rolledBackIds = new Set<string>();
  let counter = 1000;

  async function writer(w: number): Promise<void> {
    const random = rng(w + 1);
    const own: string[] = [];
    let done = 0;
    while (done < CHANGES_PER_WRITER) {
      const rollback = random() < 0.1;
      const ops = Math.min(1 + Math.floor(random() * 4), CHANGES_PER_WRITER - done);
      const written: string[] = [];
      const inserted: string[] = [];
      try {
        await db.transaction(async (tx) => {
          let sharedTouched = false;
          for (let k = 0; k < ops; k++) {
            const pick = random();
            if (own.length === 0 || pick < 0.3) {
              const [created] = await tx.insert(activities).values(row(counter++)).returning({ id: activities.id, revision: activities.revision });
              inserted.push(created!.id);
              written.push(`${created!.id}:${created!.revision}`);
            } else {
              // At most one shared activity per transaction (no lock cycles between writers).
              const target = pick < 0.5 && !sharedTouched ? shared[Math.floor(random() * SHARED)]!.id : own[Math.floor(random() * own.length)]!;
              sharedTouched ||= shared.some((s) => s.id === target);
              const [updated] = await tx
                .update(activities)
                .set({ revision: sql`${activities.revision} + 1` })
                .where(eq(activities.id, target))
                .returning({ revision: activities.revision });
              written.push(`${target}:${updated!.revision}`);
            }
            await sleep(random() * 3);
          }
          if (rollback) throw new Rollback();
        });
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
        for (const id of inserted) rolledBackIds.add(id);
        continue;
      }
      own.push(...inserted);
      committed.push(...written);
      done += ops;
    }
  }

  const seen: { entity: string; id: string; revision: number | null; op: string }[] = [];
  let writing = true;
  let polls = 0;
  const reader = (async () => {
    let cursor = start.body.nextCursor as string;
    for (;;) {
      const finished = !writing;
      const page = await t.http().get('/api/v1/changes').query({ since: cursor, limit: '500' }).set(user.auth).expect(200);
      polls++;
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
      // After the writers are done, follow until the feed is drained.
      if (finished && !page.body.hasMore && page.body.items.length === 0) return;
      if (!page.body.hasMore) await sleep(3);
    }
  })();
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  writing = false;
  await reader;

  expect(committed).toHaveLength(WRITERS * CHANGES_PER_WRITER);
  expect(rolledBackIds.size).toBeGreaterThan(0);
  expect(polls).toBeGreaterThan(10);
  expect(seen.every((item) => item.entity === 'activity' && item.op === 'upsert')).toBe(true);
  const seenKeys = seen.map((item) => `${item.id}:${item.revision}`);
  // Every committed change exactly once, nothing else (a rolled-back one would be extra).
  expect([...seenKeys].sort()).toEqual([...committed].sort());
  expect(seen.filter((item) => rolledBackIds.has(item.id))).toEqual([]);
  // Per activity, the revisions arrive in increasing (commit) order.
  const last = new Map<string, number>();
  const outOfOrder: string[] = [];
  for (const item of seen) {
    const previous = last.get(item.id) ?? 0;
    if (item.revision! <= previous) outOfOrder.push(`${item.id}: ${previous} then ${item.revision}`);
    last.set(item.id, item.revision!);
  }
  expect(outOfOrder).toEqual([]);
}, 300_000);
