import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { oauthStates, providerConnections } from '../../src/database/schema/index.js';
import { ConnectionsService } from '../../src/modules/connections/connections.service.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { defaultStravaAthlete, startFakeStrava, type FakeStrava } from '../fakes/strava/index.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const PUBLIC_URL = 'http://api.example.test';
const SECOND_STRAVA_ATHLETE = 777_001;

let strava: FakeStrava;
let t: TestApp;

beforeAll(async () => {
  strava = await startFakeStrava({ athletes: [defaultStravaAthlete(), defaultStravaAthlete(SECOND_STRAVA_ATHLETE)] });
  t = await createTestApp({
    PUBLIC_URL,
    STRAVA_CLIENT_ID: strava.clientId,
    STRAVA_CLIENT_SECRET: strava.clientSecret,
    STRAVA_OAUTH_URL: strava.oauthUrl,
    STRAVA_API_URL: strava.apiUrl,
    AUTH_TRUSTED_ORIGINS: 'http://app.example.test',
  });
});
afterAll(async () => {
  await t?.close();
  await strava?.close();
});
beforeEach(() => {
  strava.state.dropScopes = [];
  strava.state.loggedInAthleteId = defaultStravaAthlete().id;
});

/** Starts connecting and lets the fake's consent page approve: the callback URL it redirects to, as a path with its query. */
async function consent(user: SignedUpUser, athleteId = user.athleteId, body: Record<string, string> = {}): Promise<string> {
  const started = await t.http().post(`/api/v1/athletes/${athleteId}/connections/strava`).set(user.auth).send(body).expect(200);
  const authorize = new URL(started.body.authorizeUrl);
  expect(authorize.origin + authorize.pathname).toBe(`${strava.oauthUrl}/authorize`);
  expect(authorize.searchParams.get('client_id')).toBe(strava.clientId);
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/api/v1/connections/strava/callback`);
  expect(authorize.searchParams.get('scope')).toBe('read,activity:read_all');
  const approved = await fetch(authorize, { redirect: 'manual' });
  expect(approved.status).toBe(302);
  const back = new URL(approved.headers.get('location')!);
  expect(back.origin).toBe(PUBLIC_URL);
  return back.pathname + back.search;
}

async function storedConnection(athleteId: string) {
  const [row] = await t.database.db.select().from(providerConnections).where(eq(providerConnections.athleteId, athleteId));
  return row;
}

/**
 * Frees this file's two Strava accounts for the next case (an account connects to one athlete).
 * Only those: the test database is shared, and other files' connections are theirs.
 */
async function disconnectAll(): Promise<void> {
  const mine = [String(defaultStravaAthlete().id), String(SECOND_STRAVA_ATHLETE)];
  await t.database.db.delete(providerConnections).where(and(eq(providerConnections.provider, 'strava'), inArray(providerConnections.providerAthleteId, mine)));
}

describe('GET /api/v1/providers', () => {
  it('lists the configured providers only (no Garmin client id here)', async () => {
    const response = await t.http().get('/api/v1/providers').expect(200);
    expect(response.body).toEqual({ items: [{ provider: 'strava', scopes: ['read', 'activity:read_all'] }] });
  });

  it('connecting an unconfigured provider answers 404', async () => {
    const user = await signUp(t);
    const response = await t.http().post(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).send({}).expect(404);
    expect(response.body).toEqual({ code: 'NOT_FOUND', message: expect.stringContaining('garmin') });
  });
});

describe('connect → callback', () => {
  beforeEach(disconnectAll);

  it('stores the connection with the granted scopes and the Strava athlete id; no token anywhere in the answers', async () => {
    const user = await signUp(t);
    const callback = await t.http().get(await consent(user)).expect(200);
    expect(callback.headers['content-type']).toMatch(/^text\/html/);
    expect(callback.text ?? callback.body.toString()).toContain('Connected');

    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body).toEqual({
      items: [
        {
          provider: 'strava',
          // The backfill starts at the callback (this fake account has no activities: it ends at once).
          status: expect.stringMatching(/^(backfilling|active)$/),
          providerAthleteId: String(defaultStravaAthlete().id),
          scopes: ['read', 'activity:read_all'],
          connectedAt: expect.any(String),
          lastEventAt: null,
          backfill: { status: expect.stringMatching(/^(running|done)$/), fetched: 0, pending: 0, nextAttemptAt: null, lastError: null },
        },
      ],
    });
    // The tokens the fake issued are stored sealed, and appear in no answer.
    const issued = [...strava.state.accessTokens.keys(), ...strava.state.refreshTokens.keys()];
    expect(issued.length).toBeGreaterThanOrEqual(2);
    const row = await storedConnection(user.athleteId);
    for (const secret of issued) {
      expect(JSON.stringify(listed.body)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain(secret);
    }
    expect(row!.tokensKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(row!.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('a scope the user unticked is missing from scopes', async () => {
    const user = await signUp(t);
    strava.state.dropScopes = ['activity:read_all'];
    await t.http().get(await consent(user)).expect(200);
    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body.items[0].scopes).toEqual(['read']);
  });

  it('redirects to a trusted returnTo, and refuses an untrusted one before anything is stored', async () => {
    const user = await signUp(t);
    const refused = await t
      .http()
      .post(`/api/v1/athletes/${user.athleteId}/connections/strava`)
      .set(user.auth)
      .send({ returnTo: 'https://evil.example/steal' })
      .expect(422);
    expect(refused.body.issues).toEqual([{ path: ['returnTo'], message: expect.any(String) }]);

    const back = await t.http().get(await consent(user, user.athleteId, { returnTo: 'http://app.example.test/settings?tab=connections' })).expect(302);
    expect(back.headers.location).toBe('http://app.example.test/settings?tab=connections');
  });

  it('a reused, unknown or expired state answers 400 and stores nothing', async () => {
    const user = await signUp(t);
    const callback = await consent(user);
    const stateOf = (path: string) => new URL(path, PUBLIC_URL).searchParams.get('state')!;
    await t.http().get(callback).expect(200);
    await disconnectAll();

    const reused = await t.http().get(callback).expect(400);
    expect(reused.body).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(/state/) });
    await t.http().get(callback.replace(stateOf(callback), 'not-a-state-we-made')).expect(400);
    await t.http().get('/api/v1/connections/strava/callback?code=abc').expect(400);

    const late = await consent(user);
    await t.database.db.update(oauthStates).set({ expiresAt: new Date(Date.now() - 1000) });
    await t.http().get(late).expect(400);
    expect(await storedConnection(user.athleteId)).toBeUndefined();
    // The expired state was taken too: it does not work a second time either.
    expect((await t.database.db.select({ n: sql<number>`count(*)::int` }).from(oauthStates))[0]!.n).toBe(0);
  });

  it('a second athlete connecting the same Strava account gets 409, another account connects', async () => {
    const first = await signUp(t);
    const second = await signUp(t);
    await t.http().get(await consent(first)).expect(200);
    const conflict = await t.http().get(await consent(second)).expect(409);
    expect(conflict.body).toEqual({ code: 'CONFLICT', message: expect.any(String) });
    expect(await storedConnection(second.athleteId)).toBeUndefined();

    strava.state.loggedInAthleteId = SECOND_STRAVA_ATHLETE;
    await t.http().get(await consent(second)).expect(200);
    expect((await storedConnection(second.athleteId))!.providerAthleteId).toBe(String(SECOND_STRAVA_ATHLETE));
  });
});

describe('ownership', () => {
  beforeEach(disconnectAll);

  it("another user's athlete answers 404 to connect, list and disconnect", async () => {
    const owner = await signUp(t);
    const other = await signUp(t);
    await t.http().get(await consent(owner)).expect(200);
    const base = `/api/v1/athletes/${owner.athleteId}/connections`;
    await t.http().post(`${base}/strava`).set(other.auth).send({}).expect(404);
    await t.http().get(base).set(other.auth).expect(404);
    await t.http().delete(`${base}/strava`).set(other.auth).expect(404);
    expect(await storedConnection(owner.athleteId)).toBeDefined();
  });
});

describe('DELETE /api/v1/athletes/{id}/connections/{provider}', () => {
  beforeEach(disconnectAll);

  it('deauthorizes at Strava and deletes the tokens', async () => {
    const user = await signUp(t);
    await t.http().get(await consent(user)).expect(200);
    const deauthorizeCalls = strava.state.count('POST /oauth/deauthorize');
    await t.http().delete(`/api/v1/athletes/${user.athleteId}/connections/strava`).set(user.auth).expect(204);
    expect(strava.state.count('POST /oauth/deauthorize')).toBe(deauthorizeCalls + 1);
    expect(strava.state.deauthorized).toContain(defaultStravaAthlete().id);
    expect(await storedConnection(user.athleteId)).toBeUndefined();
    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body).toEqual({ items: [] });
    await t.http().delete(`/api/v1/athletes/${user.athleteId}/connections/strava`).set(user.auth).expect(404);
  });
});

describe('tokens', () => {
  beforeEach(disconnectAll);

  it('concurrent calls answered 401 refresh once: the rotating refresh token is spent once, all calls succeed', async () => {
    const user = await signUp(t);
    await t.http().get(await consent(user)).expect(200);
    const row = (await storedConnection(user.athleteId))!;
    const connections = t.app.get(ConnectionsService);
    strava.expireAccessTokens();
    const refreshesBefore = strava.state.requests.filter((r) => r.endpoint === 'POST /oauth/token').length;

    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        connections.withAccessToken(row.id, (token) => fetch(`${strava.apiUrl}/athlete`, { headers: { authorization: `Bearer ${token}` } })),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const refreshes = strava.state.requests.filter((r) => r.endpoint === 'POST /oauth/token').slice(refreshesBefore);
    expect(refreshes.map((r) => r.status)).toEqual([200]);
    // Not revoked (its backfill, started at the callback, may still be listing).
    expect(['active', 'backfilling']).toContain((await storedConnection(user.athleteId))!.status);
  });

  it('a refused refresh marks the connection revoked and forgets its tokens', async () => {
    const user = await signUp(t);
    await t.http().get(await consent(user)).expect(200);
    const row = (await storedConnection(user.athleteId))!;
    // Strava forgets the grant (the athlete revoked access on strava.com).
    strava.state.refreshTokens.clear();
    strava.expireAccessTokens();
    const connections = t.app.get(ConnectionsService);
    await expect(
      connections.withAccessToken(row.id, (token) => fetch(`${strava.apiUrl}/athlete`, { headers: { authorization: `Bearer ${token}` } })),
    ).rejects.toThrow(/revoked/);
    const revoked = (await storedConnection(user.athleteId))!;
    expect(revoked).toMatchObject({ status: 'revoked', tokensCiphertext: null, tokensKeyId: null });
    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body.items[0].status).toBe('revoked');
  });
});
