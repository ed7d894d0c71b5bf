/**
 * The activities and athletes procedures answer without oRPC's runtime output validation (which
 * used to strip unknown keys): src/modules/api/trusted-output.ts. This suite proves that no private
 * column reaches any of their answers — every object has exactly the contract's public keys — on
 * REST and RPC, for every list shape (prepared, with IN-list filters, with a cursor, children,
 * totals), the detail view, create and update, with every private column of the rows filled in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { ActivityDetailSchema, ActivityListItemSchema, ActivitySummarySchema, AthleteSchema } from '@unified-activity/contract';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

/** Columns that are never public (src/database/contract-conformance.ts), under their camelCase and SQL names. */
const PRIVATE_KEYS = ['userId', 'user_id', 'sourceDataHash', 'source_data_hash', 'sourceDataReceivedAt', 'source_data_received_at', 'editedFields', 'edited_fields'];
/** Private to lists: only the detail view carries the payload and its archive pointer. */
const DETAIL_ONLY_KEYS = ['sourceData', 'sourceArchiveKey', 'sourceArchiveIndex', 'source_data', 'source_archive_key', 'source_archive_index'];

const SUMMARY_KEYS = Object.keys(ActivitySummarySchema.shape).sort();
/** A timeline item: the summary plus its duplicate group's size (issue 25). */
const LIST_ITEM_KEYS = Object.keys(ActivityListItemSchema.shape).sort();
const DETAIL_KEYS = Object.keys(ActivityDetailSchema.shape).sort();
const ATHLETE_KEYS = Object.keys(AthleteSchema.shape).sort();

/** Every key of every object anywhere in a JSON value, except inside the given subtrees (payloads are the provider's own). */
function allKeys(value: unknown, skip: ReadonlySet<unknown> = new Set()): string[] {
  if (typeof value !== 'object' || value === null || skip.has(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item) => allKeys(item, skip));
  return Object.entries(value).flatMap(([key, field]) => [key, ...allKeys(field, skip)]);
}

const keysOf = (value: object) => Object.keys(value).sort();

let t: TestApp;
let user: SignedUpUser;
let parentId: string;
let childId: string;

beforeAll(async () => {
  t = await createTestApp();
  user = await signUp(t, 'Private columns');
  const parent = await createActivity(t, user, {
    name: 'Brick',
    activityType: 'cycling',
    source: 'garmin',
    externalId: 'brick-1',
    sourceData: { sport: 'multisport', laps: [1, 2] },
    statistics: [{ key: 'avg_power_w', value: 210, unit: 'W' }],
    events: [{ eventType: 'lap', startTime: '2026-05-01T06:30:00.000Z' }],
    children: [
      { activityType: 'cycling', startTime: '2026-05-01T06:00:00.000Z', endTime: '2026-05-01T06:40:00.000Z', sourceData: { leg: 1 } },
      { activityType: 'running', startTime: '2026-05-01T06:41:00.000Z', endTime: '2026-05-01T07:00:00.000Z' },
    ],
  });
  parentId = parent.id;
  childId = (parent.children as { id: string }[])[0]!.id;
  await createActivity(t, user, { name: 'Second', startTime: '2026-04-01T06:00:00.000Z', endTime: '2026-04-01T07:00:00.000Z' });
  // Every private column filled in, as a sync ingest leaves it.
  await t.database.db.execute(sql`
    update activities set source_archive_key = 'raw/athlete_id=x/source=garmin/abc.json', source_archive_index = 3,
           source_data_hash = 'sha256-of-the-payload', source_data_received_at = now()
     where user_id = ${user.userId}`);
});
afterAll(() => t.close());

describe('no private column in any answer of the activities and athletes procedures', () => {
  const lists = () => [
    '/api/v1/activities',
    `/api/v1/activities?athleteId=${user.athleteId}`,
    `/api/v1/activities?athleteId=${user.athleteId}&limit=1`,
    `/api/v1/activities?athleteId=${user.athleteId}&activityType=cycling,running&source=garmin,manual`,
    `/api/v1/activities?parentId=${parentId}`,
    `/api/v1/activities?topLevelOnly=true&includeTotals=true`,
  ];

  it('lists: every item has exactly the summary fields, on every page and filter shape', async () => {
    for (const path of lists()) {
      let next: string | null = path;
      let pages = 0;
      while (next) {
        const response = await t.http().get(next).set(user.auth).expect(200);
        const body = response.body as { items: object[]; nextCursor: string | null; totals?: object };
        expect(body.items.length).toBeGreaterThan(0);
        for (const item of body.items) expect(keysOf(item)).toEqual(LIST_ITEM_KEYS);
        const keys = allKeys(body);
        for (const key of [...PRIVATE_KEYS, ...DETAIL_ONLY_KEYS]) expect(keys).not.toContain(key);
        next = body.nextCursor ? `${path}${path.includes('?') ? '&' : '?'}cursor=${body.nextCursor}` : null;
        if (++pages > 10) throw new Error(`${path} does not end`);
      }
    }
  });

  it('the detail view has exactly the detail fields; its children exactly the summary fields', async () => {
    for (const id of [parentId, childId]) {
      const response = await t.http().get(`/api/v1/activities/${id}`).set(user.auth).expect(200);
      const body = response.body as { sourceData: object; children: object[]; statistics: object[]; events: object[] };
      expect(keysOf(body)).toEqual(DETAIL_KEYS);
      for (const child of body.children) expect(keysOf(child)).toEqual(SUMMARY_KEYS);
      expect(body.statistics.map(keysOf)).toEqual(id === parentId ? [['key', 'unit', 'value']] : []);
      for (const event of body.events) expect(keysOf(event)).toEqual(['endTime', 'eventType', 'metadata', 'startTime']);
      const keys = allKeys(body, new Set([body.sourceData]));
      for (const key of PRIVATE_KEYS) expect(keys).not.toContain(key);
    }
    const detail = await t.http().get(`/api/v1/activities/${parentId}`).set(user.auth).expect(200);
    expect(detail.body).toMatchObject({ sourceArchiveKey: 'raw/athlete_id=x/source=garmin/abc.json', sourceArchiveIndex: 3 });
  });

  it('create and update answer the detail fields only', async () => {
    const created = await createActivity(t, user, { name: 'Third', sourceData: { id: 3 } });
    expect(keysOf(created)).toEqual(DETAIL_KEYS);
    const updated = await t.http().patch(`/api/v1/activities/${created.id}`).set(user.auth).send({ name: 'Third, renamed' }).expect(200);
    expect(keysOf(updated.body as object)).toEqual(DETAIL_KEYS);
    expect(allKeys(updated.body, new Set([(updated.body as { sourceData: unknown }).sourceData]))).not.toContain('userId');
  });

  it('athletes: list, get, create and update answer exactly the athlete fields', async () => {
    const list = await t.http().get('/api/v1/athletes').set(user.auth).expect(200);
    for (const item of list.body.items as object[]) expect(keysOf(item)).toEqual(ATHLETE_KEYS);
    const got = await t.http().get(`/api/v1/athletes/${user.athleteId}`).set(user.auth).expect(200);
    expect(keysOf(got.body as object)).toEqual(ATHLETE_KEYS);
    const created = await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'Kid' }).expect(201);
    expect(keysOf(created.body as object)).toEqual(ATHLETE_KEYS);
    const updated = await t.http().patch(`/api/v1/athletes/${created.body.id}`).set(user.auth).send({ displayName: 'Kid 2' }).expect(200);
    expect(keysOf(updated.body as object)).toEqual(ATHLETE_KEYS);
  });

  it('RPC answers carry the same public fields only', async () => {
    const list = await t.http().post('/api/rpc/activities/list').set(user.auth).send({ json: { athleteId: user.athleteId } }).expect(200);
    const items = (list.body as { json: { items: object[] } }).json.items;
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(keysOf(item)).toEqual(LIST_ITEM_KEYS);
    const detail = await t.http().post('/api/rpc/activities/get').set(user.auth).send({ json: { id: parentId } }).expect(200);
    expect(keysOf((detail.body as { json: object }).json)).toEqual(DETAIL_KEYS);
    const athlete = await t.http().post('/api/rpc/athletes/get').set(user.auth).send({ json: { id: user.athleteId } }).expect(200);
    expect(keysOf((athlete.body as { json: object }).json)).toEqual(ATHLETE_KEYS);
  });
});

describe('the JSON of a trusted output', () => {
  it('writes times as ISO strings and keeps a stored payload exactly, `__proto__` and `toJSON` keys included', async () => {
    const created = await createActivity(t, user, { name: 'Payload' });
    // Written outside the API (Fastify refuses a __proto__ key in request bodies): JSONB keeps it as any key.
    await t.database.db.execute(
      sql`update activities set source_data = ${'{"__proto__": {"polluted": true}, "toJSON": 5, "nested": [{"constructor": {"prototype": 1}}, null]}'}::jsonb where id = ${created.id}`,
    );
    const response = await t.http().get(`/api/v1/activities/${created.id}`).set(user.auth).expect(200);
    // (JSONB orders keys by length, then bytes.)
    expect(response.text).toContain('"sourceData":{"nested":[{"constructor":{"prototype":1}},null],"toJSON":5,"__proto__":{"polluted":true}}');
    expect(response.text).toContain(`"startTime":"2026-05-01T06:00:00.000Z"`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
