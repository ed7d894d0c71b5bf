/**
 * Token refresh under the connection's refresh lease (ConnectionsService.accessToken), against the
 * fake Strava over real HTTP, on the embedded PGlite database and on PostgreSQL: concurrent callers
 * spend a refresh token once; no database transaction (nor connection) is held while the token
 * endpoint answers, so a slow refresh blocks no other request; a refresher whose lease ran out and
 * whose refresh token was spent by the one that took over uses the tokens that one stored; a
 * refused refresh revokes the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, sql } from 'drizzle-orm';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../../src/app.js';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { changes, providerConnections } from '../../src/database/schema/index.js';
import { seedCatalog } from '../../src/database/seed.js';
import { ConnectionsService } from '../../src/modules/connections/connections.service.js';
import { TokenCipher } from '../../src/modules/connections/token-cipher.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { defaultStravaAthlete, startFakeStrava, type FakeStrava } from '../fakes/strava/index.js';
import { testEnv, type TestApp } from '../setup/app.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

const kinds = TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);
const TOKEN_ENDPOINT = 'POST /oauth/token';

describe.each(kinds)('token refresh without a transaction held across the provider call (%s)', (kind) => {
  let strava: FakeStrava;
  let database: DatabaseHandle;
  let app: NestFastifyApplication;
  let t: TestApp;
  let dataDir: string;
  let stravaAthletes = 0;

  beforeAll(async () => {
    const base = 930_000_000 + Math.floor(Math.random() * 60_000_000);
    strava = await startFakeStrava({ athletes: Array.from({ length: 8 }, (_, i) => defaultStravaAthlete(base + i)) });
    dataDir = mkdtempSync(join(tmpdir(), 'token-refresh-'));
    // The pool of the server's own size on PostgreSQL (5, as every test app): 20 transactions held
    // across the provider call would take all of it.
    database = kind === 'pglite' ? openDatabase({}) : openDatabase({ url: TEST_DATABASE_URL, maxConnections: 5 });
    await database.migrate();
    await seedCatalog(database.db);
    const env = testEnv(dataDir, {
      PUBLIC_URL: 'http://api.example.test',
      STRAVA_CLIENT_ID: strava.clientId,
      STRAVA_CLIENT_SECRET: strava.clientSecret,
      STRAVA_OAUTH_URL: strava.oauthUrl,
      STRAVA_API_URL: strava.apiUrl,
    });
    app = await createApp(env, { database });
    t = { app, database, env, http: () => request(app.getHttpServer()), close: async () => undefined };
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
    await strava?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * A connection with tokens the fake issued (through its own OAuth endpoints), stored sealed as the
   * callback stores them but without starting a backfill: only the calls of the test reach the fake.
   */
  async function connected(): Promise<{ user: SignedUpUser; id: string; stravaAthleteId: number }> {
    const user = await signUp(t);
    const stravaAthleteId = [...strava.state.athletes.keys()][stravaAthletes++]!;
    strava.state.loggedInAthleteId = stravaAthleteId;
    const authorize = new URL(`${strava.oauthUrl}/authorize`);
    authorize.search = new URLSearchParams({ client_id: strava.clientId, redirect_uri: 'http://api.example.test/cb', response_type: 'code', scope: 'read,activity:read_all' }).toString();
    const code = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const answer = (await (
      await fetch(`${strava.oauthUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: strava.clientId, client_secret: strava.clientSecret, code, grant_type: 'authorization_code' }).toString(),
      })
    ).json()) as { access_token: string; refresh_token: string; expires_at: number };
    const sealed = app.get(TokenCipher).seal(JSON.stringify({ a: answer.access_token, r: answer.refresh_token }));
    const [row] = await database.db
      .insert(providerConnections)
      .values({
        athleteId: user.athleteId,
        userId: user.userId,
        provider: 'strava',
        providerAthleteId: String(stravaAthleteId),
        scopes: ['read', 'activity:read_all'],
        status: 'active',
        backfillStatus: 'done',
        tokensCiphertext: sealed.ciphertext,
        tokensKeyId: sealed.keyId,
        tokenExpiresAt: new Date(answer.expires_at * 1000),
      })
      .returning();
    return { user, id: row!.id, stravaAthleteId };
  }

  /** Expired at the fake and in the row: the next use refreshes first. */
  async function expire(connection: { id: string; stravaAthleteId: number }): Promise<void> {
    strava.expireAccessTokens(connection.stravaAthleteId);
    await database.db.update(providerConnections).set({ tokenExpiresAt: new Date(Date.now() - 60_000) }).where(eq(providerConnections.id, connection.id));
  }

  const connectionChanges = async (id: string) =>
    (await database.db.select({ n: sql<number>`count(*)::int` }).from(changes).where(eq(changes.entityId, id)))[0]!.n;
  const row = async (id: string) => (await database.db.select().from(providerConnections).where(eq(providerConnections.id, id)))[0];
  const tokenRequests = () => strava.state.requests.filter((r) => r.endpoint === TOKEN_ENDPOINT);
  const getAthlete = (connectionId: string) =>
    app.get(ConnectionsService).withAccessToken(connectionId, (token) => fetch(`${strava.apiUrl}/athlete`, { headers: { authorization: `Bearer ${token}` } }));

  async function untilLeaseTaken(id: string): Promise<void> {
    for (let i = 0; i < 400 && !(await row(id))!.refreshLeaseId; i++) await sleep(10);
    expect((await row(id))!.refreshLeaseId).toEqual(expect.any(String));
  }

  it('20 concurrent calls with an expired token: exactly one refresh at the provider, all succeed with the renewed token', async () => {
    const connection = await connected();
    await expire(connection);
    const before = tokenRequests().length;
    const feedBefore = await connectionChanges(connection.id);
    // A slow token endpoint, so the 20 calls all arrive while the refresh is in flight.
    strava.injectFault({ endpoint: TOKEN_ENDPOINT, delayMs: 300 });

    const answers = await Promise.all(Array.from({ length: 20 }, () => getAthlete(connection.id)));

    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(tokenRequests().slice(before).map((r) => r.status)).toEqual([200]);
    const spent = [...strava.state.refreshTokens.values()].filter((grant) => grant.athleteId === connection.stravaAthleteId && grant.usedAt !== undefined);
    expect(spent).toHaveLength(1);
    const stored = (await row(connection.id))!;
    expect(stored).toMatchObject({ status: 'active', refreshLeaseId: null, refreshLeaseUntil: null });
    expect(stored.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    // Renewed tokens and the lease are no change of the connection as it is shown: nothing in the feed.
    expect(await connectionChanges(connection.id)).toBe(feedBefore);
    await database.db.update(providerConnections).set({ lastEventAt: new Date() }).where(eq(providerConnections.id, connection.id));
    expect(await connectionChanges(connection.id)).toBe(feedBefore + 1);
  });

  it('a refresh that takes 2 s at the provider blocks no other request: they answer while it is in flight', async () => {
    const connection = await connected();
    const other = await signUp(t);
    await expire(connection);
    const before = tokenRequests().length;
    strava.injectFault({ endpoint: TOKEN_ENDPOINT, delayMs: 2_000 });
    let settled = false;
    // Enough callers to take every pooled connection if each held a transaction while waiting.
    const calls = Promise.all(Array.from({ length: 20 }, () => getAthlete(connection.id))).finally(() => {
      settled = true;
    });
    await untilLeaseTaken(connection.id);

    // Unrelated requests, including reads and writes of the very row being refreshed.
    const listed = await t.http().get(`/api/v1/athletes/${connection.user.athleteId}/connections`).set(connection.user.auth).expect(200);
    expect(settled).toBe(false);
    expect(listed.body.items).toEqual([expect.objectContaining({ provider: 'strava', status: 'active' })]);
    await t.http().get('/api/v1/athletes').set(other.auth).expect(200);
    await database.db.update(providerConnections).set({ lastEventAt: new Date() }).where(eq(providerConnections.id, connection.id));
    expect(settled).toBe(false);

    const answers = await calls;
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(tokenRequests().slice(before).map((r) => r.status)).toEqual([200]);
    expect((await row(connection.id))!.refreshLeaseId).toBeNull();
  });

  it('a lease that ran out is taken over; the first refresher, refused (its refresh token was spent), uses the tokens stored by the second', async () => {
    const connection = await connected();
    await expire(connection);
    const before = tokenRequests().length;
    // The first refresher's request waits 1.5 s at the provider before it is handled.
    strava.injectFault({ endpoint: TOKEN_ENDPOINT, delayMs: 1_500 });
    const first = getAthlete(connection.id);
    await untilLeaseTaken(connection.id);
    // Its lease runs out (a stalled process): the next caller takes over with the same refresh token,
    // is answered first and stores the successor.
    await database.db
      .update(providerConnections)
      .set({ refreshLeaseUntil: sql`now() - interval '1 second'` })
      .where(eq(providerConnections.id, connection.id));
    const second = await getAthlete(connection.id);
    expect(second.status).toBe(200);

    expect((await first).status).toBe(200);
    // One refresh answered, one refused (the same refresh token twice): not revoked.
    expect(tokenRequests().slice(before).map((r) => r.status).sort()).toEqual([200, 400]);
    expect((await row(connection.id))!).toMatchObject({ status: 'active', refreshLeaseId: null, tokensCiphertext: expect.any(String) });
    expect((await getAthlete(connection.id)).status).toBe(200);
  });

  it('a refused refresh marks the connection revoked and forgets its tokens; waiting callers are told so', async () => {
    const connection = await connected();
    for (const [key, grant] of strava.state.refreshTokens) if (grant.athleteId === connection.stravaAthleteId) strava.state.refreshTokens.delete(key);
    await expire(connection);
    strava.injectFault({ endpoint: TOKEN_ENDPOINT, delayMs: 200 });

    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => getAthlete(connection.id)));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array.from({ length: 5 }, () => 'rejected'));
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toMatchObject({ message: expect.stringMatching(/revoked/) });
    expect((await row(connection.id))!).toMatchObject({ status: 'revoked', tokensCiphertext: null, tokensKeyId: null, refreshLeaseId: null });
    const listed = await t.http().get(`/api/v1/athletes/${connection.user.athleteId}/connections`).set(connection.user.auth).expect(200);
    expect(listed.body.items[0].status).toBe('revoked');
  });

  it('a refresh that fails (provider 500) ends the lease: the next call refreshes', async () => {
    const connection = await connected();
    await expire(connection);
    strava.injectFault({ endpoint: TOKEN_ENDPOINT, status: 500 });
    await expect(getAthlete(connection.id)).rejects.toThrow(/500/);
    expect((await row(connection.id))!).toMatchObject({ status: 'active', refreshLeaseId: null });
    expect((await getAthlete(connection.id)).status).toBe(200);
  });
});
