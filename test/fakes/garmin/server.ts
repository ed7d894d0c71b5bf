/**
 * A fake Garmin Connect Developer Program: OAuth 2.0 with PKCE (the authorize page at
 * connect.garmin.com/oauth2Confirm, the token endpoint at diauth.garmin.com/di-oauth2-service/oauth/token)
 * and the Health/Activity API at apis.garmin.com (user id, permissions, deregistration, backfill,
 * activity FIT download), all on one host, plus the pushes Garmin sends to the partner's endpoints
 * (`activities`, `activityDetails`, `activityFiles`, `deregistrations`, `userPermissionsChange`).
 * See test/fakes/README.md.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { countRequests, FakeRouter, Faults, type FakeContext, type FakeRequest, type FaultSpec, listen, postJson, sendJson, sendStatus, sleep } from '../http.js';
import { generateActivity } from '../strava/data.js';
import { activityDetailsItem, activityFileItem, activityFit, activityItem, type FakeGarminActivity, fromGenerated, generateGarminActivities } from './data.js';

export type GarminPushType = 'activities' | 'activityDetails' | 'activityFiles' | 'deregistrations' | 'userPermissionsChange';

export interface FakeGarminOptions {
  host?: string;
  port?: number;
  clientId?: string;
  clientSecret?: string;
  /** Garmin user ids that can log in; the first one is logged in by default. */
  users?: string[];
  /** Activities of the first user: a number to generate (seeded), or the activities themselves. */
  activities?: number | FakeGarminActivity[];
  seed?: number;
  streamStepS?: number;
  /** Access-token lifetime in seconds (Garmin: 86,400). */
  tokenTtlS?: number;
  /**
   * The partner's push endpoints: each push is POSTed to `${pushUrl}/${summaryType}` (the app's
   * /api/v1/webhooks/garmin/{summaryType}). Required for backfill and the push helpers.
   */
  pushUrl?: string;
  /** What a backfill of `activities` pushes, as enabled in the partner's endpoint configuration (default activities and activityDetails). */
  backfillPushes?: Array<'activities' | 'activityDetails' | 'activityFiles'>;
  /** Items per push body (default 100). */
  pushBatchSize?: number;
  /** The permissions a user grants (GET /wellness-api/rest/user/permissions). */
  permissions?: string[];
  now?: () => number;
}

interface Grant {
  userId: string;
}

export interface GarminPushRecord {
  summaryType: GarminPushType;
  items: number;
  status: number;
  body: string;
}

export interface FakeGarminState {
  requests: FakeRequest[];
  count(endpoint?: string): number;
  /** Activities per Garmin user id, newest first. */
  activities: Map<string, FakeGarminActivity[]>;
  codes: Map<string, Grant & { challenge: string; redirectUri: string; expiresAt: number }>;
  accessTokens: Map<string, Grant & { expiresAt: number }>;
  refreshTokens: Map<string, Grant & { usedAt?: number }>;
  permissions: Map<string, string[]>;
  /** Backfill windows requested, in seconds, per user. */
  backfills: Array<{ userId: string; summaryType: string; start: number; end: number }>;
  /** Every push delivered to the app, with its answer. */
  pushes: GarminPushRecord[];
  /** FIT downloads served (activity ids). */
  downloads: number[];
  deregistered: string[];
  loggedInUserId: string;
}

export interface FakeGarmin {
  url: string;
  /** The authorize page: `${url}/oauth2Confirm`. */
  authorizeUrl: string;
  /** The token endpoint: `${url}/di-oauth2-service/oauth/token`. */
  tokenUrl: string;
  /** GARMIN_API_URL: the host of `/wellness-api/rest/...` (same as url). */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  state: FakeGarminState;
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  expireAccessTokens(userId?: string): void;
  /** Push items of one summary type to the app now (as Garmin does when a device syncs). */
  push(summaryType: GarminPushType, items: unknown[]): Promise<GarminPushRecord>;
  /** Add a generated activity as the user's newest (not pushed: see pushActivity); returns it. */
  addActivity(userId?: string): FakeGarminActivity;
  /** Push the activity (summary, details and, when enabled, its file) as after a device sync. */
  pushActivity(activity: FakeGarminActivity): Promise<void>;
  /** The user disconnects in Garmin Connect: tokens die and a `deregistrations` push goes out. */
  deregister(userId?: string): Promise<GarminPushRecord>;
  /** The user changes what they share: a `userPermissionsChange` push goes out. */
  changePermissions(permissions: string[], userId?: string): Promise<GarminPushRecord>;
  /** Resolves when every push started by a backfill request has been delivered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BACKFILL_S = 90 * 86_400;
const token = () => randomBytes(32).toString('base64url');

/** OAuth 2.0 error body (RFC 6749 §5.2). */
const oauthError = (error: string, description: string) => ({ error, error_description: description });

export async function startFakeGarmin(options: FakeGarminOptions = {}): Promise<FakeGarmin> {
  const now = options.now ?? Date.now;
  const clientId = options.clientId ?? 'fake-garmin-consumer-key';
  const clientSecret = options.clientSecret ?? 'fake-garmin-consumer-secret';
  const tokenTtlS = options.tokenTtlS ?? 86_400;
  const users = options.users ?? ['4aacafe82427c251df9c9592d0c06768'];
  const batchSize = options.pushBatchSize ?? 100;
  const backfillPushes = options.backfillPushes ?? ['activities', 'activityDetails'];
  const initial =
    typeof options.activities === 'number'
      ? generateGarminActivities({ count: options.activities, userId: users[0], seed: options.seed, streamStepS: options.streamStepS })
      : (options.activities ?? []);
  const requests: FakeRequest[] = [];
  const state: FakeGarminState = {
    requests,
    count: (endpoint) => countRequests(requests, endpoint),
    activities: new Map(users.map((u, i) => [u, i === 0 ? [...initial] : []])),
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    permissions: new Map(users.map((u) => [u, options.permissions ?? ['ACTIVITY_EXPORT', 'HEALTH_EXPORT', 'WORKOUT_IMPORT']])),
    backfills: [],
    pushes: [],
    downloads: [],
    deregistered: [],
    loggedInUserId: users[0],
  };
  const faults = new Faults();
  const pending = new Set<Promise<unknown>>();
  /** One-time download tokens of the activityFiles callback URLs. */
  const fileTokens = new Map<string, { userId: string; activityId: number }>();
  let baseUrl = '';

  const issueTokens = (grant: Grant) => {
    const accessToken = token();
    const refreshToken = token();
    state.accessTokens.set(accessToken, { ...grant, expiresAt: Math.floor(now() / 1000) + tokenTtlS });
    state.refreshTokens.set(refreshToken, { ...grant });
    return {
      access_token: accessToken,
      expires_in: tokenTtlS,
      token_type: 'bearer',
      refresh_token: refreshToken,
      scope: 'PARTNER_WRITE PARTNER_READ CONNECT_READ CONNECT_WRITE',
      jti: randomUUID(),
      refresh_token_expires_in: 7_775_999,
    };
  };

  const authenticate = (ctx: FakeContext): Grant | undefined => {
    const bearer = /^Bearer (.+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1];
    const grant = bearer ? state.accessTokens.get(bearer) : undefined;
    if (!grant || grant.expiresAt * 1000 <= now()) {
      sendJson(ctx.res, 401, { errorMessage: 'Unauthorized: invalid or expired access token' });
      return undefined;
    }
    ctx.user = grant.userId;
    return grant;
  };

  const push = async (summaryType: GarminPushType, items: unknown[]): Promise<GarminPushRecord> => {
    if (!options.pushUrl) throw new Error('fake Garmin: no pushUrl configured');
    const answer = await postJson(`${options.pushUrl.replace(/\/$/, '')}/${summaryType}`, { [summaryType]: items }, { 'garmin-client-id': clientId, 'user-agent': 'Garmin Health API' });
    const record = { summaryType, items: items.length, status: answer.status, body: answer.body };
    state.pushes.push(record);
    return record;
  };

  const pushInBatches = async (summaryType: GarminPushType, items: unknown[]) => {
    for (let i = 0; i < items.length; i += batchSize) await push(summaryType, items.slice(i, i + batchSize));
  };

  const fileCallback = (a: FakeGarminActivity) => {
    const id = token();
    fileTokens.set(id, { userId: a.userId, activityId: a.activityId });
    return `${baseUrl}/wellness-api/rest/activityFile?id=${a.activityId}&token=${id}`;
  };

  const itemsOf = (type: 'activities' | 'activityDetails' | 'activityFiles', list: FakeGarminActivity[]) =>
    list.map((a) => (type === 'activities' ? activityItem(a) : type === 'activityDetails' ? activityDetailsItem(a) : activityFileItem(a, fileCallback(a))));

  const router = new FakeRouter();

  // --- OAuth 2.0 PKCE ----------------------------------------------------------------------

  router.on('GET', '/oauth2Confirm', (ctx) => {
    const { client_id, response_type, redirect_uri, state: oauthState, code_challenge, code_challenge_method } = ctx.query;
    if (client_id !== clientId) return sendJson(ctx.res, 400, oauthError('invalid_client', 'unknown client_id'));
    if (response_type !== 'code') return sendJson(ctx.res, 400, oauthError('unsupported_response_type', 'response_type must be code'));
    if (!redirect_uri || !/^https?:\/\//.test(redirect_uri)) return sendJson(ctx.res, 400, oauthError('invalid_request', 'redirect_uri is required'));
    if (!code_challenge || code_challenge_method !== 'S256') return sendJson(ctx.res, 400, oauthError('invalid_request', 'code_challenge with code_challenge_method=S256 is required'));
    const code = token();
    state.codes.set(code, { userId: state.loggedInUserId, challenge: code_challenge, redirectUri: redirect_uri, expiresAt: now() + 10 * 60_000 });
    const target = new URL(redirect_uri);
    target.searchParams.set('code', code);
    if (oauthState !== undefined) target.searchParams.set('state', oauthState);
    ctx.res.writeHead(302, { location: target.toString(), 'content-type': 'text/html; charset=utf-8' });
    ctx.res.end('<!doctype html><title>Garmin Connect (fake)</title><p>Access granted.</p>');
  });

  router.on('POST', '/di-oauth2-service/oauth/token', (ctx) => {
    const { grant_type, client_id, client_secret } = ctx.input;
    if (client_id !== clientId || client_secret !== clientSecret) return sendJson(ctx.res, 401, oauthError('invalid_client', 'Bad client credentials'));
    if (grant_type === 'authorization_code') {
      const grant = ctx.input.code ? state.codes.get(ctx.input.code) : undefined;
      if (ctx.input.code) state.codes.delete(ctx.input.code);
      if (!grant || grant.expiresAt <= now()) return sendJson(ctx.res, 400, oauthError('invalid_grant', 'Invalid authorization code'));
      const verifier = ctx.input.code_verifier ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return sendJson(ctx.res, 400, oauthError('invalid_grant', 'code_verifier does not match the code_challenge'));
      if (ctx.input.redirect_uri !== undefined && ctx.input.redirect_uri !== grant.redirectUri) return sendJson(ctx.res, 400, oauthError('invalid_grant', 'redirect_uri does not match'));
      ctx.user = grant.userId;
      return sendJson(ctx.res, 200, issueTokens({ userId: grant.userId }));
    }
    if (grant_type === 'refresh_token') {
      const grant = ctx.input.refresh_token ? state.refreshTokens.get(ctx.input.refresh_token) : undefined;
      if (!grant || grant.usedAt !== undefined) return sendJson(ctx.res, 400, oauthError('invalid_grant', 'Invalid refresh token'));
      grant.usedAt = now();
      ctx.user = grant.userId;
      return sendJson(ctx.res, 200, issueTokens({ userId: grant.userId }));
    }
    return sendJson(ctx.res, 400, oauthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token'));
  });

  // --- Health/Activity API -------------------------------------------------------------------

  router.on('GET', '/wellness-api/rest/user/id', (ctx) => {
    const grant = authenticate(ctx);
    if (grant) sendJson(ctx.res, 200, { userId: grant.userId });
  });

  router.on('GET', '/wellness-api/rest/user/permissions', (ctx) => {
    const grant = authenticate(ctx);
    if (grant) sendJson(ctx.res, 200, state.permissions.get(grant.userId) ?? []);
  });

  router.on('DELETE', '/wellness-api/rest/user/registration', (ctx) => {
    const grant = authenticate(ctx);
    if (!grant) return;
    revoke(grant.userId);
    sendStatus(ctx.res, 204);
  });

  const backfill = (summaryType: 'activities' | 'activityDetails') => (ctx: FakeContext) => {
    const grant = authenticate(ctx);
    if (!grant) return;
    const start = Number(ctx.query.summaryStartTimeInSeconds);
    const end = Number(ctx.query.summaryEndTimeInSeconds);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start) {
      return sendJson(ctx.res, 400, { errorMessage: 'summaryStartTimeInSeconds and summaryEndTimeInSeconds are required, start before end' });
    }
    if (end - start > MAX_BACKFILL_S) return sendJson(ctx.res, 400, { errorMessage: 'Backfill range exceeds the maximum of 90 days' });
    // Garmin refuses "requests for already requested time" with 409: any overlap with an earlier window.
    if (state.backfills.some((b) => b.userId === grant.userId && b.summaryType === summaryType && b.start < end && start < b.end)) {
      return sendJson(ctx.res, 409, { errorMessage: 'Duplicate backfill request' });
    }
    if (!(state.permissions.get(grant.userId) ?? []).includes('ACTIVITY_EXPORT')) {
      return sendJson(ctx.res, 412, { errorMessage: 'The user has not granted the permission ACTIVITY_EXPORT' });
    }
    state.backfills.push({ userId: grant.userId, summaryType, start, end });
    const inWindow = (state.activities.get(grant.userId) ?? []).filter((a) => {
      const t = a.summary.startTimeInSeconds as number;
      return t >= start && t < end;
    });
    const types = summaryType === 'activities' ? backfillPushes : (['activityDetails'] as const);
    // Garmin accepts at once and pushes the data later, asynchronously.
    const delivery = (async () => {
      await sleep(0);
      for (const type of types) await pushInBatches(type, itemsOf(type, inWindow));
    })().catch((error: unknown) => state.pushes.push({ summaryType, items: 0, status: 0, body: String(error) }));
    pending.add(delivery);
    void delivery.finally(() => pending.delete(delivery));
    sendStatus(ctx.res, 202);
  };
  router.on('GET', '/wellness-api/rest/backfill/activities', backfill('activities'));
  router.on('GET', '/wellness-api/rest/backfill/activityDetails', backfill('activityDetails'));

  router.on('GET', '/wellness-api/rest/activityFile', (ctx) => {
    const grant = authenticate(ctx);
    if (!grant) return;
    const file = ctx.query.token ? fileTokens.get(ctx.query.token) : undefined;
    if (!file || file.userId !== grant.userId || String(file.activityId) !== ctx.query.id) return sendJson(ctx.res, 404, { errorMessage: 'Activity file not found' });
    // A callback URL serves its file once; a second download is refused.
    fileTokens.delete(ctx.query.token);
    const activity = state.activities.get(grant.userId)?.find((a) => a.activityId === file.activityId);
    if (!activity) return sendJson(ctx.res, 404, { errorMessage: 'Activity file not found' });
    const bytes = activityFit(activity);
    state.downloads.push(activity.activityId);
    ctx.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, 'content-disposition': `attachment; filename="${activity.activityId}.fit"` });
    ctx.res.end(bytes);
  });

  const revoke = (userId: string) => {
    for (const [key, grant] of state.accessTokens) if (grant.userId === userId) state.accessTokens.delete(key);
    for (const [key, grant] of state.refreshTokens) if (grant.userId === userId) state.refreshTokens.delete(key);
    state.deregistered.push(userId);
  };

  // --- Control route for trying it by hand (npm run fake:providers): a device sync of a new activity --

  router.on('POST', '/_fake/activities', async (ctx) => {
    const activity = fake.addActivity();
    ctx.user = activity.userId;
    const before = state.pushes.length;
    await fake.pushActivity(activity).catch(() => undefined);
    sendJson(ctx.res, 201, { summaryId: activity.summaryId, pushes: state.pushes.slice(before).map((p) => ({ summaryType: p.summaryType, status: p.status })) });
  });

  const listening = await listen({
    router,
    log: requests,
    host: options.host,
    port: options.port,
    before: async (ctx) => {
      if (!ctx.endpoint.includes(' /wellness-api/')) return false;
      const injected = faults.take(ctx.endpoint);
      if (injected?.delayMs) await sleep(injected.delayMs);
      if (!injected?.status) return false;
      sendJson(ctx.res, injected.status, { errorMessage: injected.status === 429 ? 'Rate limit exceeded' : 'Injected fault' });
      return true;
    },
  });
  baseUrl = listening.url;

  const fake: FakeGarmin = {
    url: listening.url,
    authorizeUrl: `${listening.url}/oauth2Confirm`,
    tokenUrl: `${listening.url}/di-oauth2-service/oauth/token`,
    apiUrl: listening.url,
    clientId,
    clientSecret,
    state,
    injectFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    expireAccessTokens: (userId) => {
      for (const grant of state.accessTokens.values()) if (userId === undefined || grant.userId === userId) grant.expiresAt = Math.floor(now() / 1000) - 1;
    },
    push,
    addActivity: (userId = state.loggedInUserId) => {
      const list = state.activities.get(userId) ?? [];
      const newest = list[0] ? (list[0].summary.startTimeInSeconds as number) * 1000 : now() - 2 * 86_400_000;
      const id = Math.max(21_000_000_000, ...[...state.activities.values()].flat().map((a) => a.activityId)) + 7;
      const activity = fromGenerated(generateActivity((options.seed ?? 2626) * 7919 + id, id, 0, newest + 86_400_000, options.streamStepS ?? 5), userId);
      state.activities.set(userId, [activity, ...list]);
      return activity;
    },
    pushActivity: async (activity) => {
      const list = state.activities.get(activity.userId) ?? [];
      if (!list.includes(activity)) state.activities.set(activity.userId, [activity, ...list]);
      for (const type of backfillPushes) await push(type, itemsOf(type, [activity]));
    },
    deregister: async (userId = state.loggedInUserId) => {
      revoke(userId);
      return push('deregistrations', [{ userId }]);
    },
    changePermissions: async (permissions, userId = state.loggedInUserId) => {
      state.permissions.set(userId, permissions);
      return push('userPermissionsChange', [{ userId, summaryId: `${userId}-${Math.floor(now() / 1000)}`, permissions, changeTimeInSeconds: Math.floor(now() / 1000) }]);
    },
    idle: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    close: async () => {
      await fake.idle();
      await listening.close();
    },
  };
  return fake;
}
