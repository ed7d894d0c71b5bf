/**
 * The fake Strava answers as Strava's API v3 and OAuth documentation say: real HTTP requests against
 * the listening fake, no app involved.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StravaActivitySchema } from '@unified-activity/contract';
import { defaultStravaAthlete, type FakeStrava, generateStravaActivities, startFakeStrava } from './strava/index.js';

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

describe('fake Strava: activities', () => {
  it('pages the SummaryActivity list newest first, with before/after, per_page capped at 200', async () => {
    fake = await startFakeStrava({ activities: 450, streamStepS: 60 });
    const { access_token } = await connect(fake);
    const pages: Array<Array<Record<string, unknown>>> = [];
    for (let page = 1; page <= 4; page += 1) pages.push((await api(fake, `/athlete/activities?per_page=500&page=${page}`, access_token)).body as Array<Record<string, unknown>>);
    expect(pages.map((p) => p.length)).toEqual([200, 200, 50, 0]);
    const ids = pages.flat().map((a) => a.id as number);
    expect(new Set(ids).size).toBe(450);
    const starts = pages.flat().map((a) => Date.parse(a.start_date as string));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(pages[0][0]).toMatchObject({ resource_state: 2, athlete: { id: 134815, resource_state: 1 }, map: { resource_state: 2 } });
    expect(pages[0][0]).not.toHaveProperty('laps');
    expect(pages[0][0]).not.toHaveProperty('description');

    const cut = starts[10] / 1000;
    const before = (await api(fake, `/athlete/activities?before=${cut}&per_page=5`, access_token)).body as Array<{ id: number }>;
    expect(before.map((a) => a.id)).toEqual(ids.slice(11, 16));
    const after = (await api(fake, `/athlete/activities?after=${cut}`, access_token)).body as Array<{ id: number }>;
    expect(after.map((a) => a.id)).toEqual(ids.slice(0, 10).reverse());
    expect((await api(fake, '/athlete/activities?per_page=abc', access_token)).status).toBe(400);
  });

  it('answers a DetailedActivity and its streams keyed by type or as an array, agreeing with the summary', async () => {
    fake = await startFakeStrava({ activities: 30 });
    const { access_token } = await connect(fake);
    const ride = fake.state.activities.get(134815)!.find((a) => a.detail.sport_type === 'Ride' && a.streams.heartrate)!;
    const detail = (await api(fake, `/activities/${ride.id}`, access_token)).body as Record<string, unknown>;
    expect(detail).toMatchObject({ id: ride.id, resource_state: 3, sport_type: 'Ride', type: 'Ride', device_name: 'Garmin Edge 1040', map: { polyline: expect.any(String) } });
    expect((detail.laps as unknown[]).length).toBeGreaterThan(0);

    const keys = 'time,latlng,altitude,heartrate,cadence,watts,velocity_smooth,distance,temp';
    const keyed = (await api(fake, `/activities/${ride.id}/streams?keys=${keys}&key_by_type=true`, access_token)).body as Record<string, { data: unknown[]; series_type: string; original_size: number; resolution: string }>;
    expect(Object.keys(keyed)).toEqual(expect.arrayContaining(['time', 'distance', 'latlng', 'altitude', 'heartrate', 'watts', 'velocity_smooth', 'cadence']));
    expect(keyed).not.toHaveProperty('moving');
    expect(keyed.time).toMatchObject({ series_type: 'distance', resolution: 'high', original_size: keyed.time.data.length });
    expect(keyed.time.data.at(-1)).toBe(detail.elapsed_time);
    expect(keyed.distance.data.at(-1)).toBe(detail.distance);
    expect(keyed.latlng.data[0]).toEqual(detail.start_latlng);
    expect(Math.max(...(keyed.heartrate.data as number[]))).toBe(detail.max_heartrate);

    const array = (await api(fake, `/activities/${ride.id}/streams?keys=heartrate`, access_token)).body as Array<{ type: string; data: unknown[] }>;
    expect(array.map((s) => s.type)).toEqual(['distance', 'heartrate']);
    expect(array[1].data).toEqual(keyed.heartrate.data);
    // What the fake answers is what our Strava payload schema accepts, in both stream forms.
    expect(StravaActivitySchema.safeParse({ ...detail, streams: keyed }).error).toBeUndefined();
    expect(StravaActivitySchema.safeParse({ ...detail, streams: array }).error).toBeUndefined();

    expect((await api(fake, '/activities/1/streams?keys=time', access_token)).status).toBe(404);
  });

  it('generates the same activities for the same seed, different ones for another', () => {
    const a = generateStravaActivities({ count: 20, athleteId: 1, seed: 7 });
    const b = generateStravaActivities({ count: 20, athleteId: 1, seed: 7 });
    const c = generateStravaActivities({ count: 20, athleteId: 1, seed: 8 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.map((x) => x.detail.distance)).not.toEqual(c.map((x) => x.detail.distance));
    // Ids grow with time, newest first.
    expect(a.map((x) => x.id)).toEqual([...a.map((x) => x.id)].sort((x, y) => y - x));
  });
});

describe('fake Strava: rate limits and faults', () => {
  it('sends both limit header pairs on every API answer and 429 past the 15-minute read limit, until the window turns', async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    fake = await startFakeStrava({ activities: 3, limits: { overall: [10, 100], read: [4, 50] }, now: () => clock });
    const { access_token } = await connect(fake);
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await api(fake, '/athlete', access_token));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers[0].headers.get('x-ratelimit-limit')).toBe('10,100');
    expect(answers[0].headers.get('x-ratelimit-usage')).toBe('1,1');
    expect(answers[3].headers.get('x-readratelimit-limit')).toBe('4,50');
    expect(answers[3].headers.get('x-readratelimit-usage')).toBe('4,4');
    expect(answers[4].body).toEqual({ message: 'Rate Limit Exceeded', errors: [{ resource: 'Application', field: 'rate limit', code: 'exceeded' }] });
    expect(answers[5].headers.get('x-readratelimit-usage')).toBe('6,6');

    clock = Date.parse('2026-12-01T10:15:00Z');
    const next = await api(fake, '/athlete', access_token);
    expect(next.status).toBe(200);
    expect(next.headers.get('x-readratelimit-usage')).toBe('1,7');
    expect(fake.state.count('GET /api/v3/athlete')).toBe(7);
  });

  it('injects a 429 at the Nth request of an endpoint, a 500, and a slow answer', async () => {
    fake = await startFakeStrava({ activities: 5 });
    const { access_token } = await connect(fake);
    fake.injectFault({ endpoint: 'GET /api/v3/athlete/activities', status: 429, atRequest: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await api(fake, '/athlete/activities', access_token)).status);
    expect(statuses).toEqual([200, 200, 429, 200]);

    fake.injectFault({ status: 500, times: 2 });
    expect((await api(fake, '/athlete', access_token)).status).toBe(500);
    expect((await api(fake, '/athlete', access_token)).status).toBe(500);
    expect((await api(fake, '/athlete', access_token)).status).toBe(200);

    fake.injectFault({ endpoint: 'GET /api/v3/athlete', delayMs: 300 });
    const started = performance.now();
    expect((await api(fake, '/athlete', access_token)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('answers every API request after latencyMs', async () => {
    fake = await startFakeStrava({ latencyMs: 200 });
    const { access_token } = await connect(fake);
    const started = performance.now();
    expect((await api(fake, '/athlete', access_token)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });
});

/** A stand-in for the app's webhook endpoint: answers the subscription check, records events. */
async function webhookReceiver(verifyToken: string) {
  const events: unknown[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'GET') {
      if (url.searchParams.get('hub.verify_token') !== verifyToken) return res.writeHead(403).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ 'hub.challenge': url.searchParams.get('hub.challenge') }));
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      events.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { events, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/webhooks/strava`, close: () => new Promise((r) => server.close(r)) };
}

describe('fake Strava: push subscriptions and webhooks', () => {
  it('creates the one subscription after the callback echoes hub.challenge, then delivers events there', async () => {
    const receiver = await webhookReceiver('verify-me');
    try {
      fake = await startFakeStrava({ activities: 2 });
      const credentials = { client_id: fake.clientId, client_secret: fake.clientSecret };
      const wrong = await postForm(`${fake.apiUrl}/push_subscriptions`, { ...credentials, callback_url: receiver.url, verify_token: 'wrong' });
      expect(wrong.status).toBe(400);
      const created = await postForm(`${fake.apiUrl}/push_subscriptions`, { ...credentials, callback_url: receiver.url, verify_token: 'verify-me' });
      expect(created).toMatchObject({ status: 201, body: { id: expect.any(Number) } });
      const again = await postForm(`${fake.apiUrl}/push_subscriptions`, { ...credentials, callback_url: receiver.url, verify_token: 'verify-me' });
      expect(again.body.errors).toEqual([{ resource: 'PushSubscription', field: '', code: 'already exists' }]);
      const listed = await fetch(`${fake.apiUrl}/push_subscriptions?${new URLSearchParams(credentials)}`);
      expect(await listed.json()).toEqual([expect.objectContaining({ id: created.body.id, callback_url: receiver.url })]);

      const added = fake.addActivity();
      expect(fake.state.activities.get(134815)![0]).toBe(added);
      const answer = await fake.deliverWebhook({ object_type: 'activity', object_id: added.id, aspect_type: 'create', owner_id: 134815 });
      expect(answer.status).toBe(200);
      await fake.deliverWebhook({ object_type: 'athlete', object_id: 134815, aspect_type: 'update', owner_id: 134815, updates: { authorized: 'false' } });
      expect(receiver.events).toEqual([
        { object_type: 'activity', object_id: added.id, aspect_type: 'create', owner_id: 134815, subscription_id: created.body.id, event_time: expect.any(Number), updates: {} },
        expect.objectContaining({ object_type: 'athlete', updates: { authorized: 'false' } }),
      ]);
      expect(fake.state.deauthorized).toEqual([134815]);

      // The control route of npm run fake:providers: a new activity and its create event.
      const control = await fetch(`${fake.url}/_fake/activities`, { method: 'POST' });
      const made = (await control.json()) as { id: number; webhook: { status: number } };
      expect(made).toEqual({ id: fake.state.activities.get(134815)![0].id, webhook: { status: 200 } });
      expect(receiver.events.at(-1)).toMatchObject({ object_type: 'activity', object_id: made.id, aspect_type: 'create' });

      const deleted = await fetch(`${fake.apiUrl}/push_subscriptions/${created.body.id}?${new URLSearchParams(credentials)}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
    } finally {
      await receiver.close();
    }
  });
});
