/**
 * The fake Strava answers as Strava's API v3 and OAuth documentation say: real HTTP requests against
 * the listening fake, no app involved.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { defaultStravaAthlete, type FakeStrava, startFakeStrava } from './strava/index.js';

const REDIRECT = 'http://127.0.0.1:9/api/v1/connections/strava/callback';

let fake: FakeStrava | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Follows the auto-approving authorize page and returns the redirect's query. */
async function authorize(f: FakeStrava, scope = 'read,activity:read_all', state = 'state-123') {
  const url = new URL(`${f.oauthUrl}/authorize`);
  url.search = new URLSearchParams({ client_id: f.clientId, redirect_uri: REDIRECT, response_type: 'code', approval_prompt: 'auto', scope, state }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return Object.fromEntries(location.searchParams);
}

async function postForm(url: string, form: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function exchange(f: FakeStrava, code: string) {
  return postForm(`${f.oauthUrl}/token`, { client_id: f.clientId, client_secret: f.clientSecret, code, grant_type: 'authorization_code' });
}

async function connect(f: FakeStrava, scope?: string) {
  const { code } = await authorize(f, scope);
  const tokens = await exchange(f, code);
  expect(tokens.status).toBe(200);
  return tokens.body as { access_token: string; refresh_token: string; expires_at: number; expires_in: number };
}

async function api(f: FakeStrava, path: string, accessToken: string) {
  const res = await fetch(`${f.apiUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

describe('fake Strava: OAuth', () => {
  it('auto-approves: redirects with code, state and the granted scope; the code buys tokens and the athlete once', async () => {
    fake = await startFakeStrava();
    const redirect = await authorize(fake);
    expect(redirect).toEqual({ state: 'state-123', code: expect.stringMatching(/^[0-9a-f]{40}$/), scope: 'read,activity:read_all' });

    const tokens = await exchange(fake, redirect.code);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 21_600, athlete: { id: 134815, resource_state: 2, firstname: 'Marianne' } });
    expect(tokens.body.expires_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 21_599);
    expect(tokens.body.access_token).not.toBe(tokens.body.refresh_token);

    const reused = await exchange(fake, redirect.code);
    expect(reused.status).toBe(400);
    expect(reused.body).toEqual({ message: 'Bad Request', errors: [{ resource: 'AuthorizationCode', field: 'code', code: 'invalid' }] });
  });

  it('grants less than asked when the athlete unticks a scope, and private activities are then not listed', async () => {
    fake = await startFakeStrava({ activities: 40, dropScopes: ['activity:read_all'] });
    const redirect = await authorize(fake);
    expect(redirect.scope).toBe('read');
    const { access_token } = await connect(fake, 'read,activity:read,activity:read_all');
    const list = await api(fake, '/athlete/activities?per_page=200', access_token);
    const all = fake.state.activities.get(134815)!;
    const publicOnes = all.filter((a) => a.detail.visibility !== 'only_me');
    expect(publicOnes.length).toBeLessThan(all.length);
    expect((list.body as Array<{ id: number }>).map((a) => a.id)).toEqual(publicOnes.map((a) => a.id));
    const privateOne = all.find((a) => a.detail.visibility === 'only_me')!;
    expect((await api(fake, `/activities/${privateOne.id}`, access_token)).status).toBe(404);
    // Without any activity scope the list is refused.
    const readOnly = await connect(fake, 'read');
    expect((await api(fake, '/athlete/activities', readOnly.access_token)).status).toBe(401);
  });

  it('refuses a wrong client secret and an unknown client id', async () => {
    fake = await startFakeStrava();
    const { code } = await authorize(fake);
    const wrongSecret = await postForm(`${fake.oauthUrl}/token`, { client_id: fake.clientId, client_secret: 'nope', code, grant_type: 'authorization_code' });
    expect(wrongSecret.status).toBe(401);
    const res = await fetch(`${fake.oauthUrl}/authorize?client_id=999&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code`, { redirect: 'manual' });
    expect(res.status).toBe(400);
  });

  it('rotates refresh tokens: the old one is refused once used, the new pair works', async () => {
    fake = await startFakeStrava({ tokenTtlS: 60 });
    const first = await connect(fake);
    expect(first.expires_in).toBe(60);
    const refreshed = await postForm(`${fake.oauthUrl}/token`, { client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String), expires_at: expect.any(Number), expires_in: 60 });
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);

    const reused = await postForm(`${fake.oauthUrl}/token`, { client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body.errors).toEqual([{ resource: 'RefreshToken', field: 'refresh_token', code: 'invalid' }]);
    expect((await api(fake, '/athlete', refreshed.body.access_token as string)).status).toBe(200);
  });

  it('answers 401 on an unknown or expired token, and after deauthorize', async () => {
    fake = await startFakeStrava();
    const { access_token } = await connect(fake);
    expect((await api(fake, '/athlete', 'f'.repeat(40))).body).toEqual({ message: 'Authorization Error', errors: [{ resource: 'Athlete', field: 'access_token', code: 'invalid' }] });

    const athlete = await api(fake, '/athlete', access_token);
    expect(athlete.status).toBe(200);
    expect(athlete.body).toMatchObject({ id: 134815, resource_state: 3, measurement_preference: 'meters' });

    fake.expireAccessTokens();
    expect((await api(fake, '/athlete', access_token)).status).toBe(401);

    const other = await connect(fake);
    const deauth = await postForm(`${fake.oauthUrl}/deauthorize`, { access_token: other.access_token });
    expect(deauth).toMatchObject({ status: 200, body: { access_token: other.access_token } });
    expect(fake.state.deauthorized).toEqual([134815]);
    expect((await api(fake, '/athlete', other.access_token)).status).toBe(401);
    const refresh = await postForm(`${fake.oauthUrl}/token`, { client_id: fake.clientId, client_secret: fake.clientSecret, grant_type: 'refresh_token', refresh_token: other.refresh_token });
    expect(refresh.status).toBe(400);
  });

  it('logs in as another athlete when told to (a second Strava account)', async () => {
    fake = await startFakeStrava({ athletes: [defaultStravaAthlete(1), defaultStravaAthlete(2)] });
    fake.state.loggedInAthleteId = 2;
    const { access_token } = await connect(fake);
    expect((await api(fake, '/athlete', access_token)).body).toMatchObject({ id: 2 });
    expect(fake.state.requests.filter((r) => r.endpoint === 'GET /api/v3/athlete').map((r) => r.user)).toEqual(['2']);
  });
});
