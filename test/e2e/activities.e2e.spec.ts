import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, inArray } from 'drizzle-orm';
import { activities, activityEvents, activityStatistics } from '../../src/database/schema/index.js';
import { createActivity, runBody, type ActivityBody } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const iso = (minutes: number) => new Date(Date.UTC(2026, 4, 1, 6, 0) + minutes * 60_000).toISOString();

async function countActivities(user: SignedUpUser) {
  const rows = await t.database.db.select({ id: activities.id }).from(activities).where(eq(activities.athleteId, user.athleteId));
  return rows.length;
}

describe('create → get round trip', () => {
  it('returns exactly what was sent: units, time zone, statistics, events and sourceData as the same JSON values', async () => {
    const user = await signUp(t);
    const sourceData = {
      zeta: 1,
      alpha: { nested: [3, 2, 1], 'key with spaces': null },
      id: 12345678901,
      name: 'Lunch Run',
      sport_type: 'TrailRun',
      unicode: 'Zürich – 東京',
      float: 0.1,
      big: 1e21,
      empty: {},
    };
    const body: ActivityBody = {
      athleteId: user.athleteId,
      activityType: 'trail_running',
      sourceActivityType: 'TrailRun',
      source: 'strava',
      externalId: '12345678901',
      name: 'Lunch Run',
      notes: 'Muddy',
      startTime: '2026-05-01T10:00:00.000Z',
      endTime: '2026-05-01T11:05:30.500Z',
      timeZone: 'Europe/Zurich',
      durationS: 3930.5,
      movingTimeS: 3700,
      distanceM: 10234.7,
      activeEnergyKcal: 712.3,
      avgHeartRateBpm: 151.2,
      maxHeartRateBpm: 182,
      elevationGainM: 412.5,
      elevationLossM: 409.1,
      avgSpeedMS: 2.604,
      maxSpeedMS: 4.91,
      isIndoor: false,
      deviceName: 'Forerunner 965',
      sourceData,
      statistics: [
        { key: 'avg_cadence_spm', value: 168, unit: 'steps/min' },
        { key: 'training_load', value: 87.5, unit: 'score' },
      ],
      events: [
        { eventType: 'lap', startTime: '2026-05-01T10:00:00.000Z', endTime: '2026-05-01T10:30:00.000Z', metadata: { distanceM: 5000 } },
        { eventType: 'pause', startTime: '2026-05-01T10:40:00.000Z' },
        { eventType: 'resume', startTime: '2026-05-01T10:42:00.000Z' },
      ],
    };
    const created = await t.http().post('/api/v1/activities').set(user.auth).send(body).expect(201);
    const fetched = await t.http().get(`/api/v1/activities/${created.body.id}`).set(user.auth).expect(200);

    expect(fetched.body).toEqual(created.body);
    const { athleteId, sourceData: _s, statistics, events: _events, ...fields } = body;
    expect(fetched.body).toMatchObject({ ...fields, athleteId, parentId: null, revision: 1, children: [], streams: [] });
    // JSONB keeps values, not key order (DATA-MODEL §6); the exact bytes of synced payloads are archived.
    expect(fetched.body.sourceData).toEqual(sourceData);
    expect(fetched.body.statistics).toEqual([...(statistics ?? [])].sort((a, b) => a.key.localeCompare(b.key)));
    expect(fetched.body.events).toEqual([
      { eventType: 'lap', startTime: '2026-05-01T10:00:00.000Z', endTime: '2026-05-01T10:30:00.000Z', metadata: { distanceM: 5000 } },
      { eventType: 'pause', startTime: '2026-05-01T10:40:00.000Z', endTime: null, metadata: null },
      { eventType: 'resume', startTime: '2026-05-01T10:42:00.000Z', endTime: null, metadata: null },
    ]);
  });

  it('defaults source to manual and the time zone to the athlete’s; offsets are normalised to UTC', async () => {
    const user = await signUp(t);
    await t.http().patch(`/api/v1/athletes/${user.athleteId}`).set(user.auth).send({ timeZone: 'America/New_York' }).expect(200);
    const created = await createActivity(t, user, { startTime: '2026-05-01T08:00:00+02:00', endTime: '2026-05-01T09:00:00+02:00' });
    expect(created).toMatchObject({ source: 'manual', timeZone: 'America/New_York', startTime: '2026-05-01T06:00:00.000Z', sourceData: null });
  });
});

describe('sessions (DATA-MODEL §4)', () => {
  const triathlon = (athleteId: string): ActivityBody => ({
    athleteId,
    activityType: 'triathlon',
    name: 'Olympic distance',
    startTime: iso(0),
    endTime: iso(150),
    distanceM: 51500,
    children: [
      { activityType: 'run', startTime: iso(100), endTime: iso(150), distanceM: 10000 },
      { activityType: 'open_water_swimming', startTime: iso(0), endTime: iso(30), distanceM: 1500 },
      { activityType: 'transition', startTime: iso(30), endTime: iso(33) },
      { activityType: 'road_cycling', startTime: iso(33), endTime: iso(97), distanceM: 40000 },
      { activityType: 'transition', startTime: iso(97), endTime: iso(100) },
    ].map((leg) => ({ ...leg, activityType: leg.activityType === 'run' ? 'running' : leg.activityType })),
  });

  it('creates a triathlon with five legs in one request; the parent lists them in time order', async () => {
    const user = await signUp(t);
    const created = await t.http().post('/api/v1/activities').set(user.auth).send(triathlon(user.athleteId)).expect(201);
    expect(created.body.children.map((c: { activityType: string }) => c.activityType)).toEqual([
      'open_water_swimming',
      'transition',
      'road_cycling',
      'transition',
      'running',
    ]);
    for (const child of created.body.children) {
      expect(child).toMatchObject({ parentId: created.body.id, athleteId: user.athleteId });
    }
    const leg = await t.http().get(`/api/v1/activities/${created.body.children[0].id}`).set(user.auth).expect(200);
    expect(leg.body).toMatchObject({ parentId: created.body.id, children: [] });
  });

  it('deleting the parent deletes its children, statistics and events', async () => {
    const user = await signUp(t);
    const body = triathlon(user.athleteId);
    body.children![0]!.statistics = [{ key: 'total_strokes', value: 900, unit: 'count' }];
    body.children![0]!.events = [{ eventType: 'lap', startTime: iso(0) }];
    const created = await t.http().post('/api/v1/activities').set(user.auth).send(body).expect(201);
    const ids = [created.body.id, ...created.body.children.map((c: { id: string }) => c.id)];

    await t.http().delete(`/api/v1/activities/${created.body.id}`).set(user.auth).expect(204);

    const db = t.database.db;
    expect(await db.select().from(activities).where(inArray(activities.id, ids))).toEqual([]);
    expect(await db.select().from(activityStatistics).where(inArray(activityStatistics.activityId, ids))).toEqual([]);
    expect(await db.select().from(activityEvents).where(inArray(activityEvents.activityId, ids))).toEqual([]);
    await t.http().get(`/api/v1/activities/${ids[1]}`).set(user.auth).expect(404);
  });

  it('validates moves: a child cannot have children, parents stay with their athlete, a parent with children cannot become a child', async () => {
    const user = await signUp(t);
    const session = await t.http().post('/api/v1/activities').set(user.auth).send(triathlon(user.athleteId)).expect(201);
    const child = session.body.children[0].id as string;
    const lone = await createActivity(t, user);

    const underChild = await t.http().patch(`/api/v1/activities/${lone.id}`).set(user.auth).send({ parentId: child });
    expect(underChild.status).toBe(422);
    expect(underChild.body.issues[0].path).toEqual(['parentId']);

    const parentUnderOther = await t.http().patch(`/api/v1/activities/${session.body.id}`).set(user.auth).send({ parentId: lone.id });
    expect(parentUnderOther.status).toBe(422);

    const self = await t.http().patch(`/api/v1/activities/${lone.id}`).set(user.auth).send({ parentId: lone.id });
    expect(self.status).toBe(422);

    const other = await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'Other athlete' }).expect(201);
    const foreignAthlete = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(other.body.id)).expect(201);
    const crossAthlete = await t.http().patch(`/api/v1/activities/${foreignAthlete.body.id}`).set(user.auth).send({ parentId: session.body.id });
    expect(crossAthlete.status).toBe(422);

    const moved = await t.http().patch(`/api/v1/activities/${lone.id}`).set(user.auth).send({ parentId: session.body.id }).expect(200);
    expect(moved.body.parentId).toBe(session.body.id);
    const parent = await t.http().get(`/api/v1/activities/${session.body.id}`).set(user.auth).expect(200);
    expect(parent.body.children.map((c: { id: string }) => c.id)).toContain(lone.id);

    const detached = await t.http().patch(`/api/v1/activities/${lone.id}`).set(user.auth).send({ parentId: null }).expect(200);
    expect(detached.body.parentId).toBeNull();
  });

  it('creating a child of a child is rejected, and so is attaching to another user’s activity', async () => {
    const user = await signUp(t);
    const stranger = await signUp(t);
    const session = await t.http().post('/api/v1/activities').set(user.auth).send(triathlon(user.athleteId)).expect(201);
    const nested = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(user.athleteId, { parentId: session.body.children[0].id }));
    expect(nested.status).toBe(422);
    const foreign = await t.http().post('/api/v1/activities').set(stranger.auth).send(runBody(stranger.athleteId, { parentId: session.body.id }));
    expect(foreign.status).toBe(422);
    expect(await countActivities(stranger)).toBe(0);
  });
});

describe('update and delete', () => {
  it('updates fields, replaces statistics and events, and never touches sourceData', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user, {
      sourceData: { original: true },
      statistics: [{ key: 'avg_power_w', value: 200, unit: 'W' }],
    });
    const updated = await t
      .http()
      .patch(`/api/v1/activities/${created.id}`)
      .set(user.auth)
      .send({
        name: 'Renamed',
        activityType: 'trail_running',
        distanceM: 12000,
        notes: null,
        statistics: [{ key: 'normalized_power_w', value: 230, unit: 'W' }],
        events: [{ eventType: 'marker', startTime: '2026-05-01T06:30:00Z', metadata: { label: 'summit' } }],
      })
      .expect(200);
    expect(updated.body).toMatchObject({
      name: 'Renamed',
      activityType: 'trail_running',
      distanceM: 12000,
      notes: null,
      sourceData: { original: true },
      statistics: [{ key: 'normalized_power_w', value: 230, unit: 'W' }],
      events: [{ eventType: 'marker', startTime: '2026-05-01T06:30:00.000Z', endTime: null, metadata: { label: 'summit' } }],
    });
    const rejected = await t.http().patch(`/api/v1/activities/${created.id}`).set(user.auth).send({ sourceData: { changed: true } });
    expect(rejected.status).toBe(400);
    expect(rejected.body.issues[0].path).toEqual(['sourceData']);
  });

  it('an update that puts the end before the existing start is rejected', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user);
    const response = await t.http().patch(`/api/v1/activities/${created.id}`).set(user.auth).send({ endTime: '2026-05-01T05:00:00Z' });
    expect(response.status).toBe(422);
    expect(response.body.issues[0].path).toEqual(['endTime']);
  });

  it('delete answers 204, then 404', async () => {
    const user = await signUp(t);
    const created = await createActivity(t, user);
    await t.http().delete(`/api/v1/activities/${created.id}`).set(user.auth).expect(204);
    await t.http().delete(`/api/v1/activities/${created.id}`).set(user.auth).expect(404);
  });
});

describe('idempotency', () => {
  it('a second create with the same (athlete, source, externalId) answers 409 with the existing id', async () => {
    const user = await signUp(t);
    const first = await createActivity(t, user, { source: 'garmin', externalId: 'g-1' });
    const second = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(user.athleteId, { source: 'garmin', externalId: 'g-1', name: 'again' }));
    expect(second.status).toBe(409);
    expect(second.body).toEqual({ code: 'CONFLICT', message: expect.any(String), existingId: first.id });
    expect(await countActivities(user)).toBe(1);
  });
});

describe('validation: 422 with field paths, nothing written', () => {
  const cases: [string, (athleteId: string) => object, (string | number)[]][] = [
    ['unknown slug (with suggestions)', (a) => runBody(a, { activityType: 'trail_runing' }), ['activityType']],
    ['end before start', (a) => runBody(a, { endTime: '2026-05-01T05:59:59Z' }), ['endTime']],
    ['negative distance', (a) => runBody(a, { distanceM: -5 }), ['distanceM']],
    ['heart rate below 20 bpm', (a) => runBody(a, { avgHeartRateBpm: 12 }), ['avgHeartRateBpm']],
    ['heart rate above 260 bpm', (a) => runBody(a, { maxHeartRateBpm: 300 }), ['maxHeartRateBpm']],
    ['statistic key not snake_case', (a) => runBody(a, { statistics: [{ key: 'AvgPower', value: 1, unit: 'W' }] }), ['statistics', 0, 'key']],
    ['duplicate statistic key', (a) => runBody(a, { statistics: [{ key: 'a_w', value: 1, unit: 'W' }, { key: 'a_w', value: 2, unit: 'W' }] }), ['statistics', 1, 'key']],
    ['unknown child slug', (a) => runBody(a, { activityType: 'triathlon', children: [{ activityType: 'swimmming', startTime: iso(0), endTime: iso(1) }] }), ['children', 0, 'activityType']],
    ['child ending before it starts', (a) => runBody(a, { activityType: 'triathlon', children: [{ activityType: 'swimming', startTime: iso(2), endTime: iso(1) }] }), ['children', 0, 'endTime']],
    ['event ending before it starts', (a) => runBody(a, { events: [{ eventType: 'lap', startTime: iso(10), endTime: iso(5) }] }), ['events', 0, 'endTime']],
    ['unknown event type', (a) => runBody(a, { events: [{ eventType: 'teleport' as 'lap', startTime: iso(10) }] }), ['events', 0, 'eventType']],
  ];

  it.each(cases)('%s', async (_name, build, path) => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/activities').set(user.auth).send(build(user.athleteId));
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'UNPROCESSABLE_CONTENT', issues: expect.arrayContaining([expect.objectContaining({ path })]) });
    expect(await countActivities(user)).toBe(0);
  });

  it('the unknown-slug error names the nearest valid slugs', async () => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(user.athleteId, { activityType: 'trail_runing' }));
    expect(response.body.suggestions).toContain('trail_running');
    expect(response.body.issues[0].message).toContain('trail_running');
  });

  it('wrong types and unknown fields are 400', async () => {
    const user = await signUp(t);
    const wrongType = await t.http().post('/api/v1/activities').set(user.auth).send({ ...runBody(user.athleteId), distanceM: 'far' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.issues[0].path).toEqual(['distanceM']);
    const unknown = await t.http().post('/api/v1/activities').set(user.auth).send({ ...runBody(user.athleteId), workoutType: 'x' });
    expect(unknown.status).toBe(400);
    const nestedChildren = await t
      .http()
      .post('/api/v1/activities')
      .set(user.auth)
      .send(runBody(user.athleteId, { children: [{ activityType: 'running', startTime: iso(0), endTime: iso(1), children: [] } as never] }));
    expect(nestedChildren.status).toBe(400);
    expect(await countActivities(user)).toBe(0);
  });

  it('an athlete that is not mine answers 404 and writes nothing', async () => {
    const owner = await signUp(t);
    const stranger = await signUp(t);
    const response = await t.http().post('/api/v1/activities').set(stranger.auth).send(runBody(owner.athleteId));
    expect(response.status).toBe(404);
    expect(await countActivities(owner)).toBe(0);
  });

  it('an athlete that is not mine answers 404 also when the body gives the time zone (no athlete read) or an externalId the athlete holds', async () => {
    const owner = await signUp(t);
    const stranger = await signUp(t);
    await createActivity(t, owner, { source: 'garmin', externalId: 'held-1', timeZone: 'Europe/Zurich' });
    const bodies = [
      runBody(owner.athleteId, { timeZone: 'Europe/Zurich' }),
      runBody(owner.athleteId, { timeZone: null }),
      runBody(owner.athleteId, { source: 'garmin', externalId: 'held-1', timeZone: 'Europe/Zurich' }),
      runBody(owner.athleteId, { source: 'garmin', externalId: 'held-1' }),
    ];
    for (const body of bodies) {
      const response = await t.http().post('/api/v1/activities').set(stranger.auth).send(body);
      expect({ status: response.status, message: response.body.message }).toEqual({ status: 404, message: 'Athlete not found' });
    }
    expect(await countActivities(owner)).toBe(1);
  });
});

describe('the timeline', () => {
  let user: SignedUpUser;
  let second: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    user = await signUp(t);
    second = (await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: 'Second' }).expect(201)).body.id;
    const make = async (key: string, body: Partial<ActivityBody>, athleteId = user.athleteId) => {
      const response = await t.http().post('/api/v1/activities').set(user.auth).send(runBody(athleteId, body)).expect(201);
      ids[key] = response.body.id;
      return response.body;
    };
    await make('run1', { startTime: '2026-01-01T07:00:00Z', endTime: '2026-01-01T08:00:00Z', distanceM: 10000, durationS: 3600, source: 'strava' });
    await make('trail', { activityType: 'trail_running', startTime: '2026-02-01T07:00:00Z', endTime: '2026-02-01T09:00:00Z', distanceM: 15000, durationS: 7200, source: 'garmin' });
    await make('ride', { activityType: 'road_cycling', startTime: '2026-03-01T07:00:00Z', endTime: '2026-03-01T10:00:00Z', distanceM: 80000, durationS: 10800, source: 'garmin' });
    await make('yoga', { activityType: 'yoga', startTime: '2026-04-01T07:00:00Z', endTime: '2026-04-01T08:00:00Z', source: 'healthkit' });
    const session = await make('gym', {
      activityType: 'strength_training',
      startTime: '2026-05-01T06:59:00Z',
      endTime: '2026-05-01T08:00:00Z',
      children: [
        { activityType: 'core_training', startTime: '2026-05-01T07:00:00Z', endTime: '2026-05-01T07:20:00Z' },
        { activityType: 'functional_training', startTime: '2026-05-01T07:20:00Z', endTime: '2026-05-01T08:00:00Z' },
      ],
    });
    ids.child1 = session.children[0].id;
    ids.child2 = session.children[1].id;
    await make('other', { startTime: '2026-06-01T07:00:00Z', endTime: '2026-06-01T08:00:00Z', distanceM: 5000 }, second);
  });

  const list = async (query: string) => {
    const response = await t.http().get(`/api/v1/activities?${query}`).set(user.auth);
    expect(response.status).toBe(200);
    return response.body as { items: { id: string }[]; nextCursor: string | null; totals?: object };
  };
  const idsOf = (body: { items: { id: string }[] }) => body.items.map((item) => item.id);

  it('lists all my athletes newest first', async () => {
    const all = await list('');
    expect(idsOf(all)).toEqual([ids.other, ids.child2, ids.child1, ids.gym, ids.yoga, ids.ride, ids.trail, ids.run1]);
    expect(all.nextCursor).toBeNull();
  });

  it.each([
    ['athleteId', (): string => `athleteId=${second}`, ['other']],
    ['one type', (): string => 'activityType=road_cycling', ['ride']],
    ['several types', (): string => 'activityType=running,trail_running', ['other', 'trail', 'run1']],
    ['category', (): string => 'category=running', ['other', 'trail', 'run1']],
    ['category and type together', (): string => 'category=running&activityType=trail_running,yoga', ['trail']],
    ['source', (): string => 'source=garmin', ['ride', 'trail']],
    ['several sources', (): string => 'source=garmin,healthkit', ['yoga', 'ride', 'trail']],
    ['start-time range (from inclusive, to exclusive)', (): string => 'startTimeFrom=2026-02-01T07:00:00Z&startTimeTo=2026-04-01T07:00:00Z', ['ride', 'trail']],
    ['top-level only', (): string => 'topLevelOnly=true', ['other', 'gym', 'yoga', 'ride', 'trail', 'run1']],
    ['children of a parent', (): string => `parentId=${ids.gym}`, ['child2', 'child1']],
  ] as const)('filters by %s', async (_name, query, expected) => {
    expect(idsOf(await list(query()))).toEqual(expected.map((key) => ids[key]));
  });

  it('computes totals of the filtered set, not just the page', async () => {
    const body = await list(`athleteId=${user.athleteId}&topLevelOnly=true&includeTotals=true&limit=1`);
    expect(body.items).toHaveLength(1);
    expect(body.totals).toEqual({ count: 5, distanceM: 105000, durationS: 21600 });
  });

  it('rejects a foreign athleteId with 404 and a forged cursor with 400', async () => {
    const stranger = await signUp(t);
    const foreign = await t.http().get(`/api/v1/activities?athleteId=${user.athleteId}`).set(stranger.auth);
    expect(foreign.status).toBe(404);
    const forged = await t.http().get('/api/v1/activities?cursor=bm9wZQ').set(user.auth);
    expect(forged.status).toBe(400);
    expect(forged.body.issues[0].path).toEqual(['cursor']);
    const tooBig = await t.http().get('/api/v1/activities?limit=201').set(user.auth);
    expect(tooBig.status).toBe(422);
  });
});

describe('cursor pagination', () => {
  it('visits each of 1,000 activities exactly once while others are being inserted', async () => {
    const user = await signUp(t);
    const base = Date.UTC(2025, 0, 1);
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      athleteId: user.athleteId,
      activityType: 'running',
      // Pairs share a start time so the id tie-breaker is exercised.
      startTime: new Date(base + Math.floor(i / 2) * 3_600_000),
      endTime: new Date(base + Math.floor(i / 2) * 3_600_000 + 1_800_000),
    }));
    const inserted = await t.database.db.insert(activities).values(rows).returning({ id: activities.id });
    const expected = new Set(inserted.map((row) => row.id));

    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const query: string = cursor ? `limit=37&cursor=${cursor}` : 'limit=37';
      // Every copy: the writers' activities inside the paged range are duplicates of the rows there
      // (issue 25), which the default timeline lists once per group.
      const response = await t.http().get(`/api/v1/activities?athleteId=${user.athleteId}&includeDuplicates=true&${query}`).set(user.auth).expect(200);
      seen.push(...response.body.items.map((item: { id: string }) => item.id));
      cursor = response.body.nextCursor;
      // Concurrent writers: one newer than everything, one inside the range already paged, one older than everything.
      await Promise.all([
        createActivity(t, user, { startTime: new Date(Date.UTC(2027, 0, 1) + page * 60_000).toISOString(), endTime: new Date(Date.UTC(2027, 0, 1) + page * 60_000 + 1000).toISOString() }),
        createActivity(t, user, { startTime: new Date(base + 400 * 3_600_000 + page * 1000).toISOString(), endTime: new Date(base + 400 * 3_600_000 + page * 1000 + 1000).toISOString() }),
      ]);
      page++;
    } while (cursor);

    const original = seen.filter((id) => expected.has(id));
    expect(original).toHaveLength(1000);
    expect(new Set(original).size).toBe(1000);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
