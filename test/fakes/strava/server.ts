/**
 * A fake Strava: a real HTTP server with the OAuth endpoints (https://www.strava.com/oauth) and the
 * API v3 endpoints the connections module calls (https://www.strava.com/api/v3), answering in Strava's
 * documented shapes: OAuth with an auto-approving authorize page, rotating refresh tokens, the
 * activity list, details and streams, rate-limit headers with small configurable limits, 401 on an
 * expired or unknown token, injectable 429/500/slow answers, push subscriptions and webhook delivery.
 * See test/fakes/README.md.
 */
import { randomBytes } from 'node:crypto';
import { countRequests, FakeRouter, Faults, type FakeContext, type FakeRequest, type FaultSpec, listen, postJson, sendJson, sendStatus, sleep } from '../http.js';
import { defaultStravaAthlete, detailedAthlete, type FakeStravaActivity, type FakeStravaAthlete, generateActivity, generateStravaActivities, streamSet, summaryActivity, summaryAthlete } from './data.js';

export interface StravaLimits {
  /** Overall limit per 15 minutes and per day (Strava's default for a new app: 200 and 2,000). */
  overall?: [number, number];
  /** Read limit (non-upload requests) per 15 minutes and per day (default 100 and 1,000). */
  read?: [number, number];
  /** Length of the "15-minute" window in ms (default 900,000; shrink it to simulate time faster). */
  windowMs?: number;
  /** Length of the "day" in ms (default 86,400,000). */
  dayMs?: number;
}

export interface FakeStravaOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  clientId?: string;
  clientSecret?: string;
  /** Athletes that can log in; the first one is logged in by default. */
  athletes?: FakeStravaAthlete[];
  /** Activities of the first athlete: a number to generate (seeded), or the activities themselves. */
  activities?: number | FakeStravaActivity[];
  seed?: number;
  streamStepS?: number;
  /** Wait this long before every API answer (a distant provider; default 0). */
  latencyMs?: number;
  /** Access-token lifetime in seconds (Strava: 6 h = 21,600). */
  tokenTtlS?: number;
  limits?: StravaLimits;
  /** Scopes the auto-approving athlete unticks, e.g. ['activity:read_all']. */
  dropScopes?: string[];
  /** Where webhook events go (otherwise the callback_url of the push subscription created through the API). */
  webhookCallbackUrl?: string;
  /** Clock used for token expiry and rate-limit windows (ms since the epoch). */
  now?: () => number;
}

interface TokenGrant {
  athleteId: number;
  scope: string[];
}

export interface StravaWebhookEvent {
  object_type: 'activity' | 'athlete';
  object_id: number;
  aspect_type: 'create' | 'update' | 'delete';
  owner_id: number;
  subscription_id: number;
  event_time: number;
  updates: Record<string, string>;
}

export interface FakeStravaState {
  requests: FakeRequest[];
  /** Requests per endpoint pattern, e.g. count('GET /api/v3/athlete/activities'). */
  count(endpoint?: string): number;
  athletes: Map<number, FakeStravaAthlete>;
  /** Activities per athlete id, newest first. */
  activities: Map<number, FakeStravaActivity[]>;
  codes: Map<string, TokenGrant & { redirectUri: string; expiresAt: number }>;
  accessTokens: Map<string, TokenGrant & { expiresAt: number }>;
  refreshTokens: Map<string, TokenGrant & { usedAt?: number }>;
  /** Athletes whose access was revoked (POST /oauth/deauthorize). */
  deauthorized: number[];
  subscription?: { id: number; callback_url: string; created_at: string };
  /** Rate-limit usage in the current windows. */
  usage: { window: number; day: number; overall: [number, number]; read: [number, number] };
  webhooks: Array<{ event: StravaWebhookEvent; status: number; body: string; ms: number }>;
  /** The athlete the authorize page logs in as (change it to connect a second account). */
  loggedInAthleteId: number;
  dropScopes: string[];
}

export interface FakeStrava {
  url: string;
  /** STRAVA_OAUTH_URL: `${url}/oauth`. */
  oauthUrl: string;
  /** STRAVA_API_URL: `${url}/api/v3`. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  state: FakeStravaState;
  /** Every following answer of the matching API requests fails or is slow; see FaultSpec. */
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Expire every access token now (the next API call answers 401 until the app refreshes). */
  expireAccessTokens(athleteId?: number): void;
  /** Add an activity as the newest of the athlete (generated when no detail is given); returns it. */
  addActivity(athleteId?: number, detail?: Record<string, unknown>): FakeStravaActivity;
  updateActivity(id: number, changes: Record<string, unknown>): FakeStravaActivity;
  removeActivity(id: number): void;
  activity(id: number): FakeStravaActivity | undefined;
  /** POST an event to the webhook callback URL, as Strava does (fills subscription_id, event_time, updates). */
  deliverWebhook(event: Partial<StravaWebhookEvent> & Pick<StravaWebhookEvent, 'object_type' | 'object_id' | 'aspect_type' | 'owner_id'>): Promise<{ status: number; body: string; ms: number }>;
  /** The subscription check: GET callback?hub.mode=subscribe&hub.challenge&hub.verify_token; true when echoed. */
  verifyCallback(callbackUrl: string, verifyToken: string): Promise<boolean>;
  close(): Promise<void>;
}

const STRAVA_SCOPES = ['read', 'read_all', 'profile:read_all', 'profile:write', 'activity:read', 'activity:read_all', 'activity:write'];
const token = () => randomBytes(20).toString('hex');

/** Strava's error body: `{ message, errors: [{ resource, field, code }] }`. */
const fault = (message: string, resource: string, field: string, code: string) => ({ message, errors: [{ resource, field, code }] });

export async function startFakeStrava(options: FakeStravaOptions = {}): Promise<FakeStrava> {
  const now = options.now ?? Date.now;
  const clientId = options.clientId ?? '12345';
  const clientSecret = options.clientSecret ?? 'fake-strava-client-secret';
  const tokenTtlS = options.tokenTtlS ?? 21_600;
  const limits = { overall: options.limits?.overall ?? [200, 2000], read: options.limits?.read ?? [100, 1000], windowMs: options.limits?.windowMs ?? 900_000, dayMs: options.limits?.dayMs ?? 86_400_000 };
  const athletes = options.athletes ?? [defaultStravaAthlete()];
  const first = athletes[0];
  const initial =
    typeof options.activities === 'number'
      ? generateStravaActivities({ count: options.activities, athleteId: first.id, seed: options.seed, streamStepS: options.streamStepS })
      : (options.activities ?? []);
  const requests: FakeRequest[] = [];
  const state: FakeStravaState = {
    requests,
    count: (endpoint) => countRequests(requests, endpoint),
    athletes: new Map(athletes.map((a) => [a.id, a])),
    activities: new Map(athletes.map((a) => [a.id, a.id === first.id ? [...initial] : []])),
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    deauthorized: [],
    usage: { window: -1, day: -1, overall: [0, 0], read: [0, 0] },
    webhooks: [],
    loggedInAthleteId: first.id,
    dropScopes: options.dropScopes ?? [],
  };
  const faults = new Faults();
  let webhookCallbackUrl = options.webhookCallbackUrl;
  let nextSubscriptionId = 120_475;

  const findActivity = (id: number) => {
    for (const list of state.activities.values()) {
      const found = list.find((a) => a.id === id);
      if (found) return found;
    }
    return undefined;
  };

  const issueTokens = (grant: TokenGrant) => {
    const accessToken = token();
    const refreshToken = token();
    const expiresAt = Math.floor(now() / 1000) + tokenTtlS;
    state.accessTokens.set(accessToken, { ...grant, expiresAt });
    state.refreshTokens.set(refreshToken, { ...grant });
    return { token_type: 'Bearer', expires_at: expiresAt, expires_in: tokenTtlS, refresh_token: refreshToken, access_token: accessToken };
  };

  /** Counts the request against the limits and sets the headers; true (and a 429 sent) when over. */
  const rateLimit = (ctx: FakeContext): boolean => {
    const t = now();
    const window = Math.floor(t / limits.windowMs);
    const day = Math.floor(t / limits.dayMs);
    if (day !== state.usage.day) state.usage = { window, day, overall: [0, 0], read: [0, 0] };
    if (window !== state.usage.window) {
      state.usage.window = window;
      state.usage.overall[0] = 0;
      state.usage.read[0] = 0;
    }
    const isRead = ctx.req.method === 'GET';
    const over =
      state.usage.overall[0] >= limits.overall[0] ||
      state.usage.overall[1] >= limits.overall[1] ||
      (isRead && (state.usage.read[0] >= limits.read[0] || state.usage.read[1] >= limits.read[1]));
    // A refused request still counts, as Strava's does: a client that keeps trying only digs deeper.
    state.usage.overall[0] += 1;
    state.usage.overall[1] += 1;
    if (isRead) {
      state.usage.read[0] += 1;
      state.usage.read[1] += 1;
    }
    setRateHeaders(ctx);
    if (over) sendJson(ctx.res, 429, fault('Rate Limit Exceeded', 'Application', 'rate limit', 'exceeded'));
    return over;
  };

  const setRateHeaders = (ctx: FakeContext) => {
    ctx.res.setHeader('X-RateLimit-Limit', `${limits.overall[0]},${limits.overall[1]}`);
    ctx.res.setHeader('X-RateLimit-Usage', `${state.usage.overall[0]},${state.usage.overall[1]}`);
    ctx.res.setHeader('X-ReadRateLimit-Limit', `${limits.read[0]},${limits.read[1]}`);
    ctx.res.setHeader('X-ReadRateLimit-Usage', `${state.usage.read[0]},${state.usage.read[1]}`);
  };

  /** The grant of the bearer token, or a 401 sent (unknown, expired or revoked token). */
  const authenticate = (ctx: FakeContext): TokenGrant | undefined => {
    const header = ctx.req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/i.exec(header)?.[1] ?? ctx.query.access_token;
    const grant = bearer ? state.accessTokens.get(bearer) : undefined;
    if (!grant || grant.expiresAt * 1000 <= now()) {
      sendJson(ctx.res, 401, fault('Authorization Error', 'Athlete', 'access_token', 'invalid'));
      return undefined;
    }
    ctx.user = String(grant.athleteId);
    return grant;
  };

  const canRead = (grant: TokenGrant, activity: FakeStravaActivity) =>
    activity.athleteId === grant.athleteId && (activity.detail.visibility !== 'only_me' || grant.scope.includes('activity:read_all'));

  const requireActivityScope = (ctx: FakeContext, grant: TokenGrant) => {
    if (grant.scope.includes('activity:read') || grant.scope.includes('activity:read_all')) return true;
    sendJson(ctx.res, 401, fault('Authorization Error', 'AccessToken', 'activity:read_permission', 'missing'));
    return false;
  };

  const router = new FakeRouter();

  // --- OAuth (STRAVA_OAUTH_URL) -------------------------------------------------------------

  router.on('GET', '/oauth/authorize', (ctx) => {
    const { client_id, redirect_uri, response_type, scope, state: oauthState } = ctx.query;
    if (client_id !== clientId) return sendJson(ctx.res, 400, fault('Bad Request', 'Application', 'client_id', 'invalid'));
    if (!redirect_uri || !/^https?:\/\//.test(redirect_uri)) return sendJson(ctx.res, 400, fault('Bad Request', 'Application', 'redirect_uri', 'invalid'));
    if (response_type !== 'code') return sendJson(ctx.res, 400, fault('Bad Request', 'Application', 'response_type', 'invalid'));
    const requested = (scope ?? 'read').split(',').filter(Boolean);
    if (requested.some((s) => !STRAVA_SCOPES.includes(s))) return sendJson(ctx.res, 400, fault('Bad Request', 'Authorize', 'scope', 'invalid'));
    // The athlete "approves" at once, minus the scopes the test made them untick.
    const granted = requested.filter((s) => !state.dropScopes.includes(s));
    const code = token();
    state.codes.set(code, { athleteId: state.loggedInAthleteId, scope: granted, redirectUri: redirect_uri, expiresAt: now() + 10 * 60_000 });
    const target = new URL(redirect_uri);
    if (oauthState !== undefined) target.searchParams.set('state', oauthState);
    target.searchParams.set('code', code);
    target.searchParams.set('scope', granted.join(','));
    ctx.res.writeHead(302, { location: target.toString(), 'content-type': 'text/html; charset=utf-8' });
    ctx.res.end(`<!doctype html><title>Authorize (fake Strava)</title><p>Approved. <a href="${target.toString().replace(/"/g, '&quot;')}">Continue</a></p>`);
  });

  router.on('POST', '/oauth/token', (ctx) => {
    const { client_id, client_secret, grant_type } = ctx.input;
    if (client_id !== clientId) return sendJson(ctx.res, 400, fault('Bad Request', 'Application', 'client_id', 'invalid'));
    if (client_secret !== clientSecret) return sendJson(ctx.res, 401, fault('Authorization Error', 'Application', 'client_secret', 'invalid'));
    if (grant_type === 'authorization_code') {
      const grant = ctx.input.code ? state.codes.get(ctx.input.code) : undefined;
      if (ctx.input.code) state.codes.delete(ctx.input.code);
      if (!grant || grant.expiresAt <= now()) return sendJson(ctx.res, 400, fault('Bad Request', 'AuthorizationCode', 'code', 'invalid'));
      ctx.user = String(grant.athleteId);
      const athlete = state.athletes.get(grant.athleteId)!;
      return sendJson(ctx.res, 200, { ...issueTokens({ athleteId: grant.athleteId, scope: grant.scope }), athlete: summaryAthlete(athlete) });
    }
    if (grant_type === 'refresh_token') {
      const grant = ctx.input.refresh_token ? state.refreshTokens.get(ctx.input.refresh_token) : undefined;
      // A refresh token works once: the answer carries its successor and the old one is refused from then on.
      if (!grant || grant.usedAt !== undefined) return sendJson(ctx.res, 400, fault('Bad Request', 'RefreshToken', 'refresh_token', 'invalid'));
      grant.usedAt = now();
      ctx.user = String(grant.athleteId);
      return sendJson(ctx.res, 200, issueTokens({ athleteId: grant.athleteId, scope: grant.scope }));
    }
    return sendJson(ctx.res, 400, fault('Bad Request', 'Application', 'grant_type', 'invalid'));
  });

  router.on('POST', '/oauth/deauthorize', (ctx) => {
    const header = /^Bearer (.+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1];
    const accessToken = ctx.input.access_token ?? header;
    const grant = accessToken ? state.accessTokens.get(accessToken) : undefined;
    if (!grant) return sendJson(ctx.res, 401, fault('Authorization Error', 'Athlete', 'access_token', 'invalid'));
    ctx.user = String(grant.athleteId);
    revoke(grant.athleteId);
    sendJson(ctx.res, 200, { access_token: accessToken });
  });

  const revoke = (athleteId: number) => {
    for (const [key, grant] of state.accessTokens) if (grant.athleteId === athleteId) state.accessTokens.delete(key);
    for (const [key, grant] of state.refreshTokens) if (grant.athleteId === athleteId) state.refreshTokens.delete(key);
    state.deauthorized.push(athleteId);
  };

  // --- API v3 (STRAVA_API_URL) ---------------------------------------------------------------

  router.on('GET', '/api/v3/athlete', (ctx) => {
    const grant = authenticate(ctx);
    if (!grant) return;
    sendJson(ctx.res, 200, detailedAthlete(state.athletes.get(grant.athleteId)!));
  });

  router.on('GET', '/api/v3/athlete/activities', (ctx) => {
    const grant = authenticate(ctx);
    if (!grant || !requireActivityScope(ctx, grant)) return;
    const perPage = Number(ctx.query.per_page ?? 30);
    const page = Number(ctx.query.page ?? 1);
    const before = ctx.query.before === undefined ? undefined : Number(ctx.query.before);
    const after = ctx.query.after === undefined ? undefined : Number(ctx.query.after);
    if (![perPage, page].every(Number.isInteger) || perPage < 1 || page < 1 || Number.isNaN(before) || Number.isNaN(after)) {
      return sendJson(ctx.res, 400, fault('Bad Request', 'Activities', 'page', 'invalid'));
    }
    const startS = (a: FakeStravaActivity) => Date.parse(a.detail.start_date as string) / 1000;
    let list = (state.activities.get(grant.athleteId) ?? []).filter((a) => canRead(grant, a));
    if (before !== undefined) list = list.filter((a) => startS(a) < before);
    if (after !== undefined) list = list.filter((a) => startS(a) > after);
    // Newest first; with only `after`, Strava answers oldest first.
    list = [...list].sort((a, b) => startS(b) - startS(a));
    if (after !== undefined && before === undefined) list.reverse();
    const size = Math.min(perPage, 200);
    sendJson(ctx.res, 200, list.slice((page - 1) * size, page * size).map(summaryActivity));
  });

  const readableActivity = (ctx: FakeContext) => {
    const grant = authenticate(ctx);
    if (!grant || !requireActivityScope(ctx, grant)) return undefined;
    const activity = findActivity(Number(ctx.params.id));
    if (!activity || !canRead(grant, activity)) {
      sendJson(ctx.res, 404, fault('Record Not Found', 'Activity', 'id', 'invalid'));
      return undefined;
    }
    return activity;
  };

  router.on('GET', '/api/v3/activities/:id', (ctx) => {
    const activity = readableActivity(ctx);
    if (activity) sendJson(ctx.res, 200, activity.detail);
  });

  router.on('GET', '/api/v3/activities/:id/streams', (ctx) => {
    const activity = readableActivity(ctx);
    if (!activity) return;
    const keys = (ctx.query.keys ?? '').split(',').filter(Boolean);
    sendJson(ctx.res, 200, streamSet(activity, keys, ctx.query.key_by_type === 'true', ctx.query.resolution));
  });

  // --- Push subscriptions (one per application, as on Strava) --------------------------------

  const appCredentials = (ctx: FakeContext) => {
    if (ctx.input.client_id === clientId && ctx.input.client_secret === clientSecret) return true;
    sendJson(ctx.res, 401, fault('Authorization Error', 'Application', 'client_secret', 'invalid'));
    return false;
  };

  router.on('POST', '/api/v3/push_subscriptions', async (ctx) => {
    if (!appCredentials(ctx)) return;
    if (state.subscription) return sendJson(ctx.res, 400, fault('Bad Request', 'PushSubscription', '', 'already exists'));
    const { callback_url, verify_token } = ctx.input;
    if (!callback_url || !(await fake.verifyCallback(callback_url, verify_token ?? ''))) {
      return sendJson(ctx.res, 400, fault('Bad Request', 'PushSubscription', 'callback url', 'GET to callback URL does not return 200'));
    }
    state.subscription = { id: nextSubscriptionId++, callback_url, created_at: new Date(now()).toISOString() };
    webhookCallbackUrl = callback_url;
    sendJson(ctx.res, 201, { id: state.subscription.id });
  });

  router.on('GET', '/api/v3/push_subscriptions', (ctx) => {
    if (!appCredentials(ctx)) return;
    const s = state.subscription;
    sendJson(ctx.res, 200, s ? [{ id: s.id, resource_state: 2, application_id: Number(clientId), callback_url: s.callback_url, created_at: s.created_at, updated_at: s.created_at }] : []);
  });

  router.on('DELETE', '/api/v3/push_subscriptions/:id', (ctx) => {
    if (!appCredentials(ctx)) return;
    if (state.subscription?.id !== Number(ctx.params.id)) return sendJson(ctx.res, 404, fault('Record Not Found', 'PushSubscription', 'id', 'invalid'));
    state.subscription = undefined;
    sendStatus(ctx.res, 204);
  });

  // --- Control route for trying it by hand (npm run fake:providers): a new activity and its webhook --

  router.on('POST', '/_fake/activities', async (ctx) => {
    const activity = fake.addActivity(state.loggedInAthleteId);
    ctx.user = String(activity.athleteId);
    const webhook = webhookCallbackUrl
      ? await fake.deliverWebhook({ object_type: 'activity', object_id: activity.id, aspect_type: 'create', owner_id: activity.athleteId }).catch((error: unknown) => ({ status: 0, body: String(error) }))
      : null;
    sendJson(ctx.res, 201, { id: activity.id, webhook: webhook && { status: webhook.status } });
  });

  const listening = await listen({
    router,
    log: requests,
    host: options.host,
    port: options.port,
    before: async (ctx) => {
      if (!ctx.endpoint.includes(' /api/v3/')) {
        // OAuth routes take only the faults that name them (a slow or failing token endpoint).
        const named = faults.take(ctx.endpoint, true);
        if (named?.delayMs) await sleep(named.delayMs);
        if (named?.status) {
          sendJson(ctx.res, named.status, { message: 'Internal Server Error', errors: [] });
          return true;
        }
        return false;
      }
      if (options.latencyMs) await sleep(options.latencyMs);
      const injected = faults.take(ctx.endpoint);
      if (injected?.delayMs) await sleep(injected.delayMs);
      if (injected?.status) {
        setRateHeaders(ctx);
        if (injected.status === 429) sendJson(ctx.res, 429, fault('Rate Limit Exceeded', 'Application', 'rate limit', 'exceeded'));
        else if (injected.status === 401) sendJson(ctx.res, 401, fault('Authorization Error', 'Athlete', 'access_token', 'invalid'));
        else sendJson(ctx.res, injected.status, { message: 'Internal Server Error', errors: [] });
        return true;
      }
      return rateLimit(ctx);
    },
  });

  const fake: FakeStrava = {
    url: listening.url,
    oauthUrl: `${listening.url}/oauth`,
    apiUrl: `${listening.url}/api/v3`,
    clientId,
    clientSecret,
    state,
    injectFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    expireAccessTokens: (athleteId) => {
      for (const grant of state.accessTokens.values()) if (athleteId === undefined || grant.athleteId === athleteId) grant.expiresAt = Math.floor(now() / 1000) - 1;
    },
    addActivity: (athleteId = first.id, detail) => {
      const list = state.activities.get(athleteId) ?? [];
      const newest = list[0] ? Date.parse(list[0].detail.start_date as string) : now() - 2 * 86_400_000;
      const id = Math.max(12_000_000_000, ...[...state.activities.values()].flat().map((a) => a.id)) + 7;
      const activity = generateActivity((options.seed ?? 26) * 7919 + id, id, athleteId, newest + 86_400_000, options.streamStepS ?? 5);
      if (detail) Object.assign(activity.detail, detail, { id });
      state.activities.set(athleteId, [activity, ...list]);
      return activity;
    },
    updateActivity: (id, changes) => {
      const activity = findActivity(id);
      if (!activity) throw new Error(`fake Strava has no activity ${id}`);
      Object.assign(activity.detail, changes);
      return activity;
    },
    removeActivity: (id) => {
      for (const [athleteId, list] of state.activities) state.activities.set(athleteId, list.filter((a) => a.id !== id));
    },
    activity: findActivity,
    deliverWebhook: async (partial) => {
      if (!webhookCallbackUrl) throw new Error('fake Strava: no webhook callback URL (pass webhookCallbackUrl or create a push subscription)');
      const event: StravaWebhookEvent = { subscription_id: state.subscription?.id ?? nextSubscriptionId, event_time: Math.floor(now() / 1000), updates: {}, ...partial };
      if (event.object_type === 'athlete' && event.updates.authorized === 'false') revoke(event.owner_id);
      const answer = await postJson(webhookCallbackUrl, event);
      state.webhooks.push({ event, ...answer });
      return answer;
    },
    verifyCallback: async (callbackUrl, verifyToken) => {
      const challenge = token().slice(0, 16);
      const target = new URL(callbackUrl);
      target.searchParams.set('hub.mode', 'subscribe');
      target.searchParams.set('hub.challenge', challenge);
      target.searchParams.set('hub.verify_token', verifyToken);
      try {
        const res = await fetch(target, { signal: AbortSignal.timeout(2000) });
        if (res.status !== 200) return false;
        const body = (await res.json()) as Record<string, unknown>;
        return body['hub.challenge'] === challenge;
      } catch {
        return false;
      }
    },
    close: () => listening.close(),
  };
  return fake;
}
