import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { providerConnections } from '../../src/database/schema/index.js';
import { signUp } from '../factories/api.js';
import { startFakeGarmin, type FakeGarmin } from '../fakes/garmin/index.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const PUBLIC_URL = 'http://api.example.test';

let garmin: FakeGarmin;
let t: TestApp;

beforeAll(async () => {
  garmin = await startFakeGarmin({ permissions: ['ACTIVITY_EXPORT', 'HEALTH_EXPORT'] });
  t = await createTestApp({
    PUBLIC_URL,
    GARMIN_CLIENT_ID: garmin.clientId,
    GARMIN_CLIENT_SECRET: garmin.clientSecret,
    GARMIN_OAUTH_URL: garmin.authorizeUrl,
    GARMIN_TOKEN_URL: garmin.tokenUrl,
    GARMIN_API_URL: garmin.apiUrl,
    // The backfill is test/e2e/connections-garmin-pushes.e2e.spec.ts's: none here.
    GARMIN_BACKFILL_DAYS: '0',
  });
});
afterAll(async () => {
  await t?.close();
  await garmin?.close();
});

describe('connecting Garmin (OAuth 2.0 with PKCE)', () => {
  it('sends an S256 challenge, exchanges the code with its verifier, records the user id and permissions; DELETE deregisters', async () => {
    const user = await signUp(t);
    const providers = await t.http().get('/api/v1/providers').expect(200);
    expect(providers.body.items.map((p: { provider: string }) => p.provider)).toEqual(['garmin']);

    const started = await t.http().post(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).send({}).expect(200);
    const authorize = new URL(started.body.authorizeUrl);
    expect(authorize.origin + authorize.pathname).toBe(garmin.authorizeUrl);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/api/v1/connections/garmin/callback`);

    const approved = await fetch(authorize, { redirect: 'manual' });
    expect(approved.status).toBe(302);
    const back = new URL(approved.headers.get('location')!);
    // The fake checks the verifier against the challenge: a wrong one would be a 502 here.
    await t.http().get(back.pathname + back.search).expect(200);

    const listed = await t.http().get(`/api/v1/athletes/${user.athleteId}/connections`).set(user.auth).expect(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ provider: 'garmin', status: 'active', providerAthleteId: garmin.state.loggedInUserId, scopes: ['ACTIVITY_EXPORT', 'HEALTH_EXPORT'] }),
    ]);
    const [row] = await t.database.db.select().from(providerConnections).where(eq(providerConnections.athleteId, user.athleteId));
    for (const secret of [...garmin.state.accessTokens.keys(), ...garmin.state.refreshTokens.keys()]) {
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(listed.body)).not.toContain(secret);
    }

    await t.http().delete(`/api/v1/athletes/${user.athleteId}/connections/garmin`).set(user.auth).expect(204);
    expect(garmin.state.deregistered).toContain(garmin.state.loggedInUserId);
    expect(await t.database.db.select().from(providerConnections).where(eq(providerConnections.athleteId, user.athleteId))).toEqual([]);
  });
});
