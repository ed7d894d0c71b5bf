import { createHash, randomBytes } from 'node:crypto';
import type { ConnectionProvider } from '@unified-activity/contract';
import type { Env } from '../../config/env.js';

/** What a token endpoint answered, in our terms. */
export interface ProviderTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires. */
  expiresAt: Date;
}

export interface ExchangedTokens extends ProviderTokens {
  providerAthleteId: string;
  /** Granted scopes, when the provider says them at the token step (else the callback's `scope`). */
  scopes?: string[];
}

/** The provider refused a refresh token (withdrawn or already used): the connection is revoked. */
export class RefreshRefused extends Error {}
/** The provider answered something other than what we asked for (never carries the body: it may hold tokens). */
export class ProviderFailure extends Error {
  constructor(readonly status: number, what: string) {
    super(`${what}: the provider answered ${status}`);
  }
}

/** One provider's OAuth endpoints; a new provider is one more implementation. */
export interface ProviderClient {
  readonly provider: ConnectionProvider;
  readonly scopes: string[];
  /** Garmin uses PKCE: a verifier is made per connect and its S256 challenge goes in the URL. */
  readonly usesPkce: boolean;
  authorizeUrl(options: { state: string; redirectUri: string; codeChallenge?: string }): string;
  exchange(options: { code: string; redirectUri: string; codeVerifier?: string }): Promise<ExchangedTokens>;
  refresh(refreshToken: string): Promise<ProviderTokens>;
  /** Withdraws the grant at the provider; a provider that no longer knows it is fine. */
  deauthorize(accessToken: string): Promise<void>;
}

const TIMEOUT_MS = 15_000;

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
}

const expiry = (answer: { expires_at?: number; expires_in?: number }): Date =>
  typeof answer.expires_at === 'number' ? new Date(answer.expires_at * 1000) : new Date(Date.now() + (answer.expires_in ?? 3600) * 1000);

/** Reads a token answer; a 400/401 to a refresh means the refresh token is dead. */
async function tokenAnswer(response: Response, what: string): Promise<Record<string, unknown>> {
  if (!response.ok) throw new ProviderFailure(response.status, what);
  const answer = (await response.json()) as Record<string, unknown>;
  if (typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string') throw new ProviderFailure(response.status, `${what} (no tokens)`);
  return answer;
}

const splitScopes = (value: unknown): string[] | undefined =>
  typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : undefined;

/** Strava: https://developers.strava.com/docs/authentication/ */
export class StravaClient implements ProviderClient {
  readonly provider = 'strava' as const;
  readonly scopes = ['read', 'activity:read_all'];
  readonly usesPkce = false;

  constructor(private readonly env: Env) {}

  authorizeUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    const url = new URL(`${this.env.STRAVA_OAUTH_URL}/authorize`);
    url.search = new URLSearchParams({
      client_id: this.env.STRAVA_CLIENT_ID!,
      redirect_uri: redirectUri,
      response_type: 'code',
      approval_prompt: 'auto',
      scope: this.scopes.join(','),
      state,
    }).toString();
    return url.toString();
  }

  async exchange({ code }: { code: string }): Promise<ExchangedTokens> {
    const answer = await tokenAnswer(
      await postForm(`${this.env.STRAVA_OAUTH_URL}/token`, {
        client_id: this.env.STRAVA_CLIENT_ID!,
        client_secret: this.env.STRAVA_CLIENT_SECRET!,
        code,
        grant_type: 'authorization_code',
      }),
      'Strava code exchange',
    );
    const athlete = answer.athlete as { id?: unknown } | undefined;
    if (athlete?.id === undefined) throw new ProviderFailure(200, 'Strava code exchange (no athlete)');
    return {
      accessToken: answer.access_token as string,
      refreshToken: answer.refresh_token as string,
      expiresAt: expiry(answer),
      providerAthleteId: String(athlete.id),
    };
  }

  async refresh(refreshToken: string): Promise<ProviderTokens> {
    const response = await postForm(`${this.env.STRAVA_OAUTH_URL}/token`, {
      client_id: this.env.STRAVA_CLIENT_ID!,
      client_secret: this.env.STRAVA_CLIENT_SECRET!,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    if (response.status === 400 || response.status === 401) throw new RefreshRefused('Strava refused the refresh token');
    const answer = await tokenAnswer(response, 'Strava token refresh');
    return { accessToken: answer.access_token as string, refreshToken: answer.refresh_token as string, expiresAt: expiry(answer) };
  }

  async deauthorize(accessToken: string): Promise<void> {
    const response = await postForm(`${this.env.STRAVA_OAUTH_URL}/deauthorize`, { access_token: accessToken });
    if (!response.ok && response.status !== 401) throw new ProviderFailure(response.status, 'Strava deauthorize');
  }
}

/** Garmin Connect Developer Program, OAuth 2.0 with PKCE and the Health/Activity API's user endpoints. */
export class GarminClient implements ProviderClient {
  readonly provider = 'garmin' as const;
  readonly scopes: string[] = [];
  readonly usesPkce = true;

  constructor(private readonly env: Env) {}

  authorizeUrl({ state, redirectUri, codeChallenge }: { state: string; redirectUri: string; codeChallenge?: string }): string {
    const url = new URL(this.env.GARMIN_OAUTH_URL);
    url.search = new URLSearchParams({
      client_id: this.env.GARMIN_CLIENT_ID!,
      response_type: 'code',
      redirect_uri: redirectUri,
      code_challenge: codeChallenge!,
      code_challenge_method: 'S256',
      state,
    }).toString();
    return url.toString();
  }

  async exchange({ code, redirectUri, codeVerifier }: { code: string; redirectUri: string; codeVerifier?: string }): Promise<ExchangedTokens> {
    const answer = await tokenAnswer(
      await postForm(this.env.GARMIN_TOKEN_URL, {
        grant_type: 'authorization_code',
        client_id: this.env.GARMIN_CLIENT_ID!,
        client_secret: this.env.GARMIN_CLIENT_SECRET!,
        code,
        code_verifier: codeVerifier!,
        redirect_uri: redirectUri,
      }),
      'Garmin code exchange',
    );
    const accessToken = answer.access_token as string;
    const auth = { authorization: `Bearer ${accessToken}` };
    const user = await fetch(`${this.env.GARMIN_API_URL}/wellness-api/rest/user/id`, { headers: auth, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!user.ok) throw new ProviderFailure(user.status, 'Garmin user id');
    const { userId } = (await user.json()) as { userId?: unknown };
    if (userId === undefined) throw new ProviderFailure(200, 'Garmin user id (none)');
    const permissions = await fetch(`${this.env.GARMIN_API_URL}/wellness-api/rest/user/permissions`, { headers: auth, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const granted = permissions.ok ? ((await permissions.json()) as unknown) : undefined;
    return {
      accessToken,
      refreshToken: answer.refresh_token as string,
      expiresAt: expiry(answer),
      providerAthleteId: String(userId),
      scopes: Array.isArray(granted) ? granted.map(String) : splitScopes(answer.scope),
    };
  }

  async refresh(refreshToken: string): Promise<ProviderTokens> {
    const response = await postForm(this.env.GARMIN_TOKEN_URL, {
      grant_type: 'refresh_token',
      client_id: this.env.GARMIN_CLIENT_ID!,
      client_secret: this.env.GARMIN_CLIENT_SECRET!,
      refresh_token: refreshToken,
    });
    if (response.status === 400 || response.status === 401) throw new RefreshRefused('Garmin refused the refresh token');
    const answer = await tokenAnswer(response, 'Garmin token refresh');
    return { accessToken: answer.access_token as string, refreshToken: answer.refresh_token as string, expiresAt: expiry(answer) };
  }

  async deauthorize(accessToken: string): Promise<void> {
    const response = await fetch(`${this.env.GARMIN_API_URL}/wellness-api/rest/user/registration`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok && response.status !== 401 && response.status !== 404) throw new ProviderFailure(response.status, 'Garmin deauthorize');
  }
}

/** The configured providers: one without a client id is not offered. */
export function configuredProviders(env: Env): Map<ConnectionProvider, ProviderClient> {
  const clients = new Map<ConnectionProvider, ProviderClient>();
  if (env.STRAVA_CLIENT_ID) clients.set('strava', new StravaClient(env));
  if (env.GARMIN_CLIENT_ID) clients.set('garmin', new GarminClient(env));
  return clients;
}

/** A PKCE pair (RFC 7636, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
