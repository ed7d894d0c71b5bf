/**
 * The fake Garmin answers as the Garmin Connect Developer Program documents: OAuth 2.0 PKCE, the
 * Health/Activity API, backfill in ≤ 90-day windows followed by pushes, FIT downloads. Real HTTP
 * requests; a small receiver stands in for the app's push endpoints.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Decoder, Stream } from '@garmin/fitsdk';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GarminActivityDetailsSchema, GarminActivitySchema } from '@unified-activity/contract';
import { parseFit } from '../../src/modules/imports/parsers/fit.js';
import { type FakeGarmin, generateGarminActivities, startFakeGarmin } from './garmin/index.js';

const REDIRECT = 'http://127.0.0.1:9/api/v1/connections/garmin/callback';

interface Received {
  path: string;
  clientId: string | undefined;
  userAgent: string | undefined;
  body: Record<string, Array<Record<string, unknown>>>;
}

/** A stand-in for the app's /api/v1/webhooks/garmin/{summaryType}: records every push. */
async function pushReceiver() {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url!, clientId: req.headers['garmin-client-id'] as string | undefined, userAgent: req.headers['user-agent'], body: JSON.parse(body) as Received['body'] });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/webhooks/garmin`, close: () => new Promise((r) => server.close(r)) };
}

let fake: FakeGarmin | undefined;
let receiver: Awaited<ReturnType<typeof pushReceiver>> | undefined;
afterEach(async () => {
  await fake?.close();
  await receiver?.close();
  fake = undefined;
  receiver = undefined;
});

async function postForm(url: string, form: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function authorize(f: FakeGarmin, challenge: string) {
  const url = new URL(f.authorizeUrl);
  url.search = new URLSearchParams({ client_id: f.clientId, response_type: 'code', redirect_uri: REDIRECT, state: 's-1', code_challenge: challenge, code_challenge_method: 'S256' }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return Object.fromEntries(new URL(res.headers.get('location')!).searchParams);
}

function pkce() {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function connect(f: FakeGarmin) {
  const { verifier, challenge } = pkce();
  const { code } = await authorize(f, challenge);
  const tokens = await postForm(f.tokenUrl, { grant_type: 'authorization_code', client_id: f.clientId, client_secret: f.clientSecret, code, code_verifier: verifier, redirect_uri: REDIRECT });
  expect(tokens.status).toBe(200);
  return tokens.body as { access_token: string; refresh_token: string };
}

const get = (f: FakeGarmin, path: string, accessToken: string) => fetch(`${f.apiUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });

describe('fake Garmin: OAuth 2.0 PKCE', () => {
  it('redirects with code and state; the token endpoint checks the code_verifier and uses a code once', async () => {
    fake = await startFakeGarmin();
    const { verifier, challenge } = pkce();
    const redirect = await authorize(fake, challenge);
    expect(redirect).toEqual({ code: expect.any(String), state: 's-1' });
    const base = { grant_type: 'authorization_code', client_id: fake.clientId, client_secret: fake.clientSecret, code: redirect.code };
    const wrong = await postForm(fake.tokenUrl, { ...base, code_verifier: pkce().verifier });
    expect(wrong).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge' } });
    // The failed attempt consumed the code, as an authorization server must.
    const retried = await postForm(fake.tokenUrl, { ...base, code_verifier: verifier });
    expect(retried.status).toBe(400);

    const tokens = await connect(fake);
    expect(tokens).toEqual({
      access_token: expect.any(String),
      expires_in: 86_400,
      token_type: 'bearer',
      refresh_token: expect.any(String),
      scope: expect.stringContaining('PARTNER_READ'),
      jti: expect.any(String),
      refresh_token_expires_in: 7_775_999,
    });
    const userId = await get(fake, '/wellness-api/rest/user/id', tokens.access_token);
    expect(await userId.json()).toEqual({ userId: '4aacafe82427c251df9c9592d0c06768' });
    expect(await (await get(fake, '/wellness-api/rest/user/permissions', tokens.access_token)).json()).toEqual(['ACTIVITY_EXPORT', 'HEALTH_EXPORT', 'WORKOUT_IMPORT']);

    const noChallenge = await fetch(`${fake.authorizeUrl}?client_id=${fake.clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}`, { redirect: 'manual' });
    expect(noChallenge.status).toBe(400);
  });

  it('rotates refresh tokens and answers 401 to an expired access token', async () => {
    fake = await startFakeGarmin({ tokenTtlS: 600 });
    const first = await connect(fake);
    const refresh = (refresh_token: string) => postForm(fake!.tokenUrl, { grant_type: 'refresh_token', client_id: fake!.clientId, client_secret: fake!.clientSecret, refresh_token });
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.expires_in).toBe(600);
    expect((await refresh(first.refresh_token)).body).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
    fake.expireAccessTokens();
    expect((await get(fake, '/wellness-api/rest/user/id', second.body.access_token as string)).status).toBe(401);
  });
});

describe('fake Garmin: backfill and pushes', () => {
  it('accepts a ≤ 90-day backfill with 202, then pushes the window’s activities and details to the app; 400 beyond 90 days, 409 when repeated', async () => {
    receiver = await pushReceiver();
    fake = await startFakeGarmin({ activities: 120, pushUrl: receiver.url, pushBatchSize: 25 });
    const { access_token } = await connect(fake);
    const all = fake.state.activities.get('4aacafe82427c251df9c9592d0c06768')!;
    const end = (all[0].summary.startTimeInSeconds as number) + 1;
    const start = end - 90 * 86_400;
    const window = `summaryStartTimeInSeconds=${start}&summaryEndTimeInSeconds=${end}`;

    expect((await get(fake, `/wellness-api/rest/backfill/activities?summaryStartTimeInSeconds=${start - 1}&summaryEndTimeInSeconds=${end}`, access_token)).status).toBe(400);
    expect((await get(fake, '/wellness-api/rest/backfill/activities?summaryStartTimeInSeconds=abc', access_token)).status).toBe(400);
    const accepted = await get(fake, `/wellness-api/rest/backfill/activities?${window}`, access_token);
    expect(accepted.status).toBe(202);
    await fake.idle();

    const expected = all.filter((a) => (a.summary.startTimeInSeconds as number) >= start).map((a) => a.summaryId);
    expect(expected.length).toBeGreaterThan(25);
    const activities = receiver.received.filter((r) => r.path === '/api/v1/webhooks/garmin/activities');
    const details = receiver.received.filter((r) => r.path === '/api/v1/webhooks/garmin/activityDetails');
    expect(activities.flatMap((r) => r.body.activities.map((a) => a.summaryId))).toEqual(expected);
    expect(details.flatMap((r) => r.body.activityDetails.map((a) => a.activityId))).toEqual(expected.map(Number));
    expect(Math.max(...activities.map((r) => r.body.activities.length))).toBe(25);
    expect(receiver.received.every((r) => r.clientId === fake!.clientId && r.userAgent === 'Garmin Health API')).toBe(true);

    const summary = activities[0].body.activities[0];
    expect(summary).toMatchObject({ userId: '4aacafe82427c251df9c9592d0c06768', activityType: expect.any(String), startTimeInSeconds: expect.any(Number), durationInSeconds: expect.any(Number) });
    const detail = details[0].body.activityDetails[0] as { summaryId: string; summary: Record<string, unknown>; samples: Array<Record<string, number>>; laps: unknown[] };
    expect(detail.summaryId).toBe(`${summary.summaryId as string}-detail`);
    expect(detail.summary).toMatchObject({ activityId: summary.activityId, durationInSeconds: summary.durationInSeconds });
    expect(detail.samples[0].startTimeInSeconds).toBe(summary.startTimeInSeconds);
    expect(detail.samples.at(-1)!.totalDistanceInMeters).toBe(summary.distanceInMeters);
    // What the fake pushes is what our sync payload schemas accept.
    for (const item of activities.flatMap((r) => r.body.activities)) expect(GarminActivitySchema.safeParse(item).error).toBeUndefined();
    for (const item of details.flatMap((r) => r.body.activityDetails)) expect(GarminActivityDetailsSchema.safeParse(item).error).toBeUndefined();

    expect((await get(fake, `/wellness-api/rest/backfill/activities?${window}`, access_token)).status).toBe(409);
    const overlapping = await get(fake, `/wellness-api/rest/backfill/activities?summaryStartTimeInSeconds=${end - 86_400}&summaryEndTimeInSeconds=${end + 86_400}`, access_token);
    expect(overlapping.status).toBe(409);
    expect(await overlapping.json()).toEqual({ errorMessage: 'Duplicate backfill request' });
    expect((await get(fake, `/wellness-api/rest/backfill/activities?summaryStartTimeInSeconds=${end}&summaryEndTimeInSeconds=${end + 86_400}`, access_token)).status).toBe(202);
    await fake.idle();
    expect(fake.state.backfills).toEqual([
      { userId: '4aacafe82427c251df9c9592d0c06768', summaryType: 'activities', start, end },
      { userId: '4aacafe82427c251df9c9592d0c06768', summaryType: 'activities', start: end, end: end + 86_400 },
    ]);
    // Without the ACTIVITY_EXPORT permission Garmin answers 412.
    await fake.changePermissions(['HEALTH_EXPORT']);
    expect((await get(fake, `/wellness-api/rest/backfill/activities?summaryStartTimeInSeconds=${start - 86_400 * 10}&summaryEndTimeInSeconds=${start}`, access_token)).status).toBe(412);
  });

  it('pushes an activityFiles callback whose FIT downloads once with the user’s token and decodes to the activity', async () => {
    receiver = await pushReceiver();
    fake = await startFakeGarmin({ pushUrl: receiver.url, backfillPushes: ['activityFiles'] });
    const { access_token } = await connect(fake);
    const [activity] = generateGarminActivities({ count: 1, userId: '4aacafe82427c251df9c9592d0c06768', seed: 5 });
    await fake.pushActivity(activity);
    const [file] = receiver.received[0].body.activityFiles;
    expect(file).toMatchObject({ userId: activity.userId, fileType: 'FIT', activityId: activity.activityId, callbackURL: expect.stringContaining('/wellness-api/rest/activityFile?id=') });

    expect((await fetch(file.callbackURL as string)).status).toBe(401);
    const download = await fetch(file.callbackURL as string, { headers: { authorization: `Bearer ${access_token}` } });
    expect(download.status).toBe(200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    const { messages, errors } = new Decoder(Stream.fromByteArray(Array.from(bytes))).read();
    expect(errors).toEqual([]);
    expect(messages.recordMesgs).toHaveLength(activity.samples.length);
    expect(messages.sessionMesgs?.[0].totalElapsedTime).toBe(activity.summary.durationInSeconds);
    // …and our FIT import reads it as the same activity.
    const parsed = parseFit(bytes);
    expect(parsed.activities).toHaveLength(1);
    expect(parsed.activities[0]).toMatchObject({ startTime: new Date((activity.summary.startTimeInSeconds as number) * 1000), durationS: activity.summary.durationInSeconds });
    expect(parsed.activities[0].distanceM).toBeCloseTo(activity.summary.distanceInMeters as number, 0);
    expect((await fetch(file.callbackURL as string, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(404);
    expect(fake.state.downloads).toEqual([activity.activityId]);
  });

  it('pushes deregistrations (and the tokens stop working) and userPermissionsChange', async () => {
    receiver = await pushReceiver();
    fake = await startFakeGarmin({ pushUrl: receiver.url });
    const { access_token } = await connect(fake);
    await fake.changePermissions(['ACTIVITY_EXPORT']);
    await fake.deregister();
    expect(receiver.received.map((r) => r.path)).toEqual(['/api/v1/webhooks/garmin/userPermissionsChange', '/api/v1/webhooks/garmin/deregistrations']);
    expect(receiver.received[0].body.userPermissionsChange).toEqual([
      { userId: '4aacafe82427c251df9c9592d0c06768', summaryId: expect.any(String), permissions: ['ACTIVITY_EXPORT'], changeTimeInSeconds: expect.any(Number) },
    ]);
    expect(receiver.received[1].body).toEqual({ deregistrations: [{ userId: '4aacafe82427c251df9c9592d0c06768' }] });

    // The control route of npm run fake:providers: a new activity, pushed as after a device sync.
    const control = await fetch(`${fake.url}/_fake/activities`, { method: 'POST' });
    const made = (await control.json()) as { summaryId: string; pushes: unknown[] };
    expect(made).toEqual({ summaryId: fake.state.activities.get('4aacafe82427c251df9c9592d0c06768')![0].summaryId, pushes: [{ summaryType: 'activities', status: 200 }, { summaryType: 'activityDetails', status: 200 }] });
    expect(receiver.received.at(-2)!.body.activities[0].summaryId).toBe(made.summaryId);
    expect((await get(fake, '/wellness-api/rest/user/id', access_token)).status).toBe(401);
  });

  it('deregisters through DELETE /user/registration and injects faults on the API', async () => {
    fake = await startFakeGarmin();
    const { access_token } = await connect(fake);
    fake.injectFault({ endpoint: 'GET /wellness-api/rest/user/id', status: 503 });
    expect((await get(fake, '/wellness-api/rest/user/id', access_token)).status).toBe(503);
    const deleted = await fetch(`${fake.apiUrl}/wellness-api/rest/user/registration`, { method: 'DELETE', headers: { authorization: `Bearer ${access_token}` } });
    expect(deleted.status).toBe(204);
    expect(fake.state.deregistered).toEqual(['4aacafe82427c251df9c9592d0c06768']);
    expect(fake.state.count('GET /wellness-api/rest/user/id')).toBe(1);
  });
});
