import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { athletes, session } from '../../src/database/schema/index.js';
import { signUp } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('sign-up and the default athlete', () => {
  it('creates one athlete named after the user, reachable with the bearer token', async () => {
    const user = await signUp(t, 'Grace Hopper');
    const response = await t.http().get('/api/v1/athletes').set(user.auth).expect(200);
    expect(response.body).toEqual({
      items: [
        expect.objectContaining({ id: user.athleteId, displayName: 'Grace Hopper', timeZone: 'UTC', sex: null }),
      ],
      nextCursor: null,
    });
  });

  it('the session cookie works as well as the bearer token, and sign-out revokes the token', async () => {
    const user = await signUp(t);
    const signIn = await t.http().post('/api/auth/sign-in/email').send({ email: user.email, password: user.password }).expect(200);
    const cookies = signIn.headers['set-cookie'] as unknown as string[];
    expect(cookies.some((cookie) => cookie.startsWith('better-auth.session_token='))).toBe(true);
    await t.http().get('/api/v1/athletes').set('Cookie', cookies.map((c) => c.split(';')[0]).join('; ')).expect(200);

    await t.http().post('/api/auth/sign-out').set(user.auth).expect(200);
    const after = await t.http().get('/api/v1/athletes').set(user.auth).expect(401);
    expect(after.body).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
  });

  it('a wrong password answers 401 in the one error shape', async () => {
    const user = await signUp(t);
    const response = await t.http().post('/api/auth/sign-in/email').send({ email: user.email, password: 'not-the-password' });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ code: 'INVALID_EMAIL_OR_PASSWORD', message: expect.any(String) });
  });
});

describe('session cache', () => {
  it('reuses a resolved session for AUTH_SESSION_CACHE_SECONDS; with 0, a session revoked elsewhere is refused at once', async () => {
    const cached = await signUp(t);
    await t.http().get('/api/v1/athletes').set(cached.auth).expect(200);
    await t.database.db.delete(session).where(eq(session.userId, cached.userId));
    // Revoked by another replica: this process still trusts its cached session for a few seconds.
    await t.http().get('/api/v1/athletes').set(cached.auth).expect(200);

    const uncached = await createTestApp({ AUTH_SESSION_CACHE_SECONDS: '0' });
    try {
      const user = await signUp(uncached);
      await uncached.http().get('/api/v1/athletes').set(user.auth).expect(200);
      await uncached.database.db.delete(session).where(eq(session.userId, user.userId));
      await uncached.http().get('/api/v1/athletes').set(user.auth).expect(401);
    } finally {
      await uncached.close();
    }
  });
});

describe('athletes CRUD', () => {
  it('creates (201), reads, updates and deletes (204) an athlete', async () => {
    const user = await signUp(t);
    const created = await t
      .http()
      .post('/api/v1/athletes')
      .set(user.auth)
      .send({ displayName: 'Junior', dateOfBirth: '2012-03-04', sex: 'female', timeZone: 'Europe/Berlin' })
      .expect(201);
    expect(created.body).toMatchObject({ displayName: 'Junior', dateOfBirth: '2012-03-04', sex: 'female', timeZone: 'Europe/Berlin' });
    expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);

    const id = created.body.id as string;
    await t.http().get(`/api/v1/athletes/${id}`).set(user.auth).expect(200);
    const updated = await t.http().patch(`/api/v1/athletes/${id}`).set(user.auth).send({ displayName: 'Junior B', sex: null }).expect(200);
    expect(updated.body).toMatchObject({ id, displayName: 'Junior B', sex: null, timeZone: 'Europe/Berlin' });

    const list = await t.http().get('/api/v1/athletes').set(user.auth).expect(200);
    expect(list.body.items.map((a: { id: string }) => a.id)).toEqual([user.athleteId, id]);

    await t.http().delete(`/api/v1/athletes/${id}`).set(user.auth).expect(204);
    await t.http().get(`/api/v1/athletes/${id}`).set(user.auth).expect(404);
  });

  it('answers 404 for a missing id exactly as for another user’s athlete', async () => {
    const owner = await signUp(t);
    const other = await signUp(t);
    const foreign = await t.http().get(`/api/v1/athletes/${owner.athleteId}`).set(other.auth);
    const missing = await t.http().get('/api/v1/athletes/00000000-0000-4000-8000-000000000000').set(other.auth);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
  });
});

describe('input validation', () => {
  const cases: [string, unknown, number, (string | number)[]][] = [
    ['unknown field', { displayName: 'A', nickname: 'x' }, 400, ['nickname']],
    ['wrong type', { displayName: 42 }, 400, ['displayName']],
    ['missing required field', {}, 400, ['displayName']],
    ['oversized string', { displayName: 'x'.repeat(201) }, 422, ['displayName']],
    ['NUL character', { displayName: 'A\u0000B' }, 400, ['displayName']],
    ['malformed date', { displayName: 'A', dateOfBirth: '03/04/2012' }, 400, ['dateOfBirth']],
    ['unknown time zone', { displayName: 'A', timeZone: 'Mars/Olympus' }, 422, ['timeZone']],
    ['value outside the fixed set', { displayName: 'A', sex: 'unknown' }, 422, ['sex']],
  ];

  it.each(cases)('%s: answers the status with the field path, and nothing is written', async (_name, body, status, path) => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/athletes').set(user.auth).send(body as object);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({
      code: status === 400 ? 'BAD_REQUEST' : 'UNPROCESSABLE_CONTENT',
      message: expect.any(String),
      issues: expect.arrayContaining([expect.objectContaining({ path })]),
    });
    const rows = await t.database.db.select().from(athletes).where(eq(athletes.userId, user.userId));
    expect(rows).toHaveLength(1);
  });

  it('a body that is not JSON → 400 in the one error shape', async () => {
    const user = await signUp(t);
    const response = await t.http().post('/api/v1/athletes').set(user.auth).set('Content-Type', 'application/json').send('{"displayName": ');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 'BAD_REQUEST', message: expect.any(String) });
  });

  it('a malformed id in the path → 400, not 500', async () => {
    const user = await signUp(t);
    const response = await t.http().get('/api/v1/athletes/not-a-uuid').set(user.auth);
    expect(response.status).toBe(400);
    expect(response.body.issues[0].path).toEqual(['id']);
  });

  it('no stack trace or SQL leaks into error bodies (a NUL byte, which reached the database and answered 500 before)', async () => {
    const user = await signUp(t);
    const response = await t.http().patch(`/api/v1/athletes/${user.athleteId}`).set(user.auth).send({ displayName: 'x\u0000y' });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).not.toMatch(/stack|select|athletes_|at .*\.ts/i);
  });
});

describe('activity-type catalog', () => {
  it('lists all 85 types without credentials, filters by category and tier', async () => {
    const all = await t.http().get('/api/v1/activity-types').expect(200);
    expect(all.body.items).toHaveLength(85);
    const tier1 = await t.http().get('/api/v1/activity-types?tier=1').expect(200);
    expect(tier1.body.items).toHaveLength(33);
    const climbing = await t.http().get('/api/v1/activity-types?category=climbing&tier=2').expect(200);
    expect(climbing.body.items.map((type: { slug: string }) => type.slug).sort()).toEqual(
      ['bouldering', 'ice_climbing', 'indoor_climbing', 'mountaineering', 'sport_climbing', 'trad_climbing'].sort(),
    );
  });

  it('gets one type with its provider mappings; an unknown slug → 404 with suggestions', async () => {
    const type = await t.http().get('/api/v1/activity-types/trail_running').expect(200);
    expect(type.body).toMatchObject({
      slug: 'trail_running',
      category: 'running',
      tier: 1,
      mappings: { strava: { sportType: 'TrailRun' }, fit: { sport: 'running', subSport: 'trail' } },
    });
    const missing = await t.http().get('/api/v1/activity-types/trail_runing').expect(404);
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', suggestions: expect.arrayContaining(['trail_running']) });
  });

  it('rejects an unknown category filter with 422', async () => {
    const response = await t.http().get('/api/v1/activity-types?category=extreme_ironing');
    expect(response.status).toBe(422);
    expect(response.body.issues[0].path).toEqual(['category']);
  });
});

describe('auth rate limiting', () => {
  it('answers 429 in the one error shape once the sign-in limit is exceeded', async () => {
    const limited = await createTestApp({ AUTH_RATE_LIMIT: 'true' });
    try {
      let last = 0;
      let body: unknown;
      for (let attempt = 0; attempt < 15 && last !== 429; attempt++) {
        const response = await limited.http().post('/api/auth/sign-in/email').send({ email: 'nobody@example.test', password: 'wrong-password' });
        last = response.status;
        body = response.body;
      }
      expect(last).toBe(429);
      expect(body).toEqual({ code: 'TOO_MANY_REQUESTS', message: expect.any(String) });
    } finally {
      await limited.close();
    }
  });
});

describe('GET /v1/athletes paging (cursor, limit)', () => {
  it('pages oldest first without gaps or repeats, and refuses a cursor it did not hand out', async () => {
    const user = await signUp(t, 'Pager');
    const created: string[] = [user.athleteId];
    for (const name of ['Second', 'Third', 'Fourth', 'Fifth']) {
      const response = await t.http().post('/api/v1/athletes').set(user.auth).send({ displayName: name }).expect(201);
      created.push((response.body as { id: string }).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const query: Record<string, string | number> = cursor ? { limit: 2, cursor } : { limit: 2 };
      const page = await t.http().get('/api/v1/athletes').query(query).set(user.auth).expect(200);
      const body = page.body as { items: { id: string }[]; nextCursor: string | null };
      pages.push(body.items.length);
      seen.push(...body.items.map((item) => item.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual(created);

    // Without limit: one page of all five; a forged cursor or another user's athlete is a 400.
    const all = await t.http().get('/api/v1/athletes').set(user.auth).expect(200);
    expect(all.body).toMatchObject({ nextCursor: null });
    expect((all.body as { items: unknown[] }).items).toHaveLength(5);
    const stranger = await signUp(t, 'Other');
    const foreign = Buffer.from(stranger.athleteId, 'utf8').toString('base64url');
    for (const bad of ['not-a-cursor', foreign]) {
      const response = await t.http().get('/api/v1/athletes').query({ cursor: bad }).set(user.auth).expect(400);
      expect(response.body).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/cursor/) });
    }
    await t.http().get('/api/v1/athletes').query({ limit: 0 }).set(user.auth).expect((response) => expect([400, 422]).toContain(response.status));
  });
});
