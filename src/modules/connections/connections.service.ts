import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { Connection, ConnectionList, ConnectionProvider, ProviderList } from '@unified-activity/contract';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import { classifyDatabaseError } from '../../database/errors.js';
import type { ProviderConnectionRow } from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import { ruleViolation } from '../api/errors.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { publicUrl } from '../auth/auth.js';
import { ConnectionRevoked } from './access-tokens.js';
import { ProviderSyncService } from './backfill/provider-sync.service.js';
import { ConnectionsRepository } from './connections.repository.js';
import { connectedPage } from './connected-page.js';
import { configuredProviders, pkcePair, ProviderFailure, RefreshRefused, type ProviderClient, type ProviderTokens } from './providers.js';
import { GarminBackfill } from './garmin/garmin-backfill.js';
import { TokenCipher } from './token-cipher.js';

/** How long a connect flow's state is valid. */
export const STATE_TTL_MS = 10 * 60 * 1000;
/** An access token this close to its expiry is refreshed before use (Strava tokens live 6 h). */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/**
 * How long a token refresh may hold the connection's refresh lease: twice the token endpoint's
 * timeout (providers.ts), so a holder's call has ended, one way or the other, before another
 * caller takes over.
 */
export const REFRESH_LEASE_MS = 30_000;
/** Callers waiting for another's refresh read the row again after 25 ms, doubling up to 500 ms. */
const REFRESH_POLL_MIN_MS = 25;
const REFRESH_POLL_MAX_MS = 500;

const ACCOUNT_KEY = 'provider_connections_provider_account_key';

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

/** The public fields of a row, named one by one: never the tokens. */
const toConnection = (row: ProviderConnectionRow): Connection => ({
  provider: row.provider,
  status: row.status,
  providerAthleteId: row.providerAthleteId,
  scopes: row.scopes,
  connectedAt: row.connectedAt,
  lastEventAt: row.lastEventAt,
  backfill: {
    status: row.backfillStatus,
    fetched: row.backfillFetched,
    pending: row.backfillPending,
    nextAttemptAt: row.backfillNextAttemptAt,
    lastError: row.backfillLastError,
  },
});

export const INVALID_STATE = 'Unknown, already used or expired state: start connecting again';

/**
 * ConnectionProvider connections: the OAuth connect flow, the tokens (sealed at rest, refreshed under the
 * connection's refresh lease) and disconnecting. It never writes activities itself.
 */
@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger('Connections');
  private readonly clients: Map<ConnectionProvider, ProviderClient>;

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly connections: ConnectionsRepository,
    private readonly athletes: AthletesService,
    private readonly activities: ActivitiesService,
    private readonly cipher: TokenCipher,
    private readonly garminBackfill: GarminBackfill,
    private readonly sync: ProviderSyncService,
  ) {
    this.clients = configuredProviders(env);
  }

  providers(): ProviderList {
    return { items: [...this.clients.values()].map((client) => ({ provider: client.provider, scopes: client.scopes })) };
  }

  async list(userId: string, athleteId: string): Promise<ConnectionList> {
    await this.athletes.assertOwned(userId, athleteId);
    return { items: (await this.connections.list(userId, athleteId)).map(toConnection) };
  }

  /** The consent page URL, with a fresh single-use state bound to the user and athlete. */
  async connect(userId: string, athleteId: string, provider: ConnectionProvider, returnTo?: string): Promise<{ authorizeUrl: string }> {
    await this.athletes.assertOwned(userId, athleteId);
    const client = this.client(provider);
    if (returnTo !== undefined && !this.trustedReturn(returnTo)) {
      throw ruleViolation([{ path: ['returnTo'], message: 'must be a URL on PUBLIC_URL or one of AUTH_TRUSTED_ORIGINS' }]);
    }
    const state = randomBytes(32).toString('base64url');
    const pkce = client.usesPkce ? pkcePair() : undefined;
    const sealedVerifier = pkce ? this.cipher.seal(pkce.verifier) : undefined;
    await this.connections.insertState({
      stateHash: hashState(state),
      userId,
      athleteId,
      provider,
      codeVerifier: sealedVerifier ? `${sealedVerifier.keyId}.${sealedVerifier.ciphertext}` : null,
      returnTo: returnTo ?? null,
      expiresAt: new Date(Date.now() + STATE_TTL_MS),
    });
    return { authorizeUrl: client.authorizeUrl({ state, redirectUri: this.redirectUri(provider), codeChallenge: pkce?.challenge }) };
  }

  /**
   * The provider's redirect back: takes the state (once), exchanges the code, stores the connection
   * with the granted scopes and starts its backfill. Nothing is stored for a bad state.
   */
  async callback(input: { provider: ConnectionProvider; state?: string; code?: string; scope?: string; error?: string }) {
    const client = this.client(input.provider);
    const flow = input.state ? await this.connections.takeState(hashState(input.state)) : undefined;
    if (!flow || flow.provider !== input.provider || flow.expiresAt.getTime() < Date.now()) {
      throw new ORPCError('BAD_REQUEST', { message: INVALID_STATE });
    }
    if (input.error || !input.code) {
      throw new ORPCError('BAD_REQUEST', { message: `The provider did not grant access (${input.error ?? 'no code'}): nothing was connected` });
    }
    let verifier: string | undefined;
    if (flow.codeVerifier) {
      const [keyId, ciphertext] = flow.codeVerifier.split('.') as [string, string];
      verifier = this.cipher.open({ keyId, ciphertext });
    }
    let exchanged;
    try {
      exchanged = await client.exchange({ code: input.code, redirectUri: this.redirectUri(input.provider), codeVerifier: verifier });
    } catch (error) {
      this.logger.warn(`${input.provider} code exchange failed: ${(error as Error).message}`);
      throw new ORPCError('BAD_GATEWAY', { message: 'The provider did not accept the code: start connecting again' });
    }
    const scopes = exchanged.scopes ?? input.scope?.split(/[\s,]+/).filter(Boolean) ?? [];
    let row: ProviderConnectionRow;
    try {
      row = await this.connections.upsert({
        athleteId: flow.athleteId,
        userId: flow.userId,
        provider: input.provider,
        providerAthleteId: exchanged.providerAthleteId,
        scopes,
        status: 'active',
        ...this.sealTokens(exchanged),
      });
    } catch (error) {
      if (classifyDatabaseError(error)?.constraint === ACCOUNT_KEY) {
        throw new ORPCError('CONFLICT', { message: 'This provider account is connected to another athlete: disconnect it there first' });
      }
      throw error;
    }
    await this.startBackfill(row);
    if (flow.returnTo) return { status: 302 as const, headers: { location: flow.returnTo } };
    return { status: 200 as const, body: new File([connectedPage(input.provider)], 'connected.html', { type: 'text/html' }) };
  }

  /**
   * The history backfill, per provider: Strava pages its activity list newest first and fetches
   * details and streams (strava/strava-sync.ts) on the provider work queue (backfill/); Garmin's
   * history is requested in windows of at most 90 days (GarminBackfill) and arrives through the
   * push endpoints.
   */
  async startBackfill(connection: ProviderConnectionRow): Promise<void> {
    switch (connection.provider) {
      case 'strava':
        await this.sync.startBackfill(connection);
        break;
      case 'garmin':
        await this.garminBackfill.start(connection);
        break;
      default:
        await this.connections.update(connection.id, { status: 'active' });
    }
  }

  /** Deauthorizes at the provider and forgets the tokens; the activities stay unless `deleteData`. */
  async disconnect(userId: string, athleteId: string, provider: ConnectionProvider, deleteData = false): Promise<void> {
    await this.athletes.assertOwned(userId, athleteId);
    const row = await this.connections.find(userId, athleteId, provider);
    if (!row) throw new ORPCError('NOT_FOUND', { message: `No ${provider} connection for this athlete` });
    const client = this.clients.get(provider);
    if (client && row.tokensCiphertext) {
      try {
        await client.deauthorize(await this.accessToken(row.id));
      } catch (error) {
        // The user asked to disconnect: the tokens go regardless; the grant left at the provider is useless without them.
        this.logger.warn(`${provider} deauthorize failed, tokens deleted anyway: ${(error as Error).message}`);
      }
    }
    await this.connections.delete(row.id);
    if (deleteData) {
      for (const id of await this.connections.activityIds(userId, athleteId, provider)) {
        await this.activities.delete(userId, id).catch((error: unknown) => {
          // A child activity goes with its parent: already gone is fine.
          if ((error as { code?: string }).code !== 'NOT_FOUND') throw error;
        });
      }
    }
  }

  /**
   * A usable access token for the connection: refreshed first when it expires within
   * REFRESH_MARGIN_MS or when `rejected` (the token a provider just answered 401 to) is still the
   * stored one. No transaction is held while the provider answers: the caller that takes the
   * connection's refresh lease (one conditional UPDATE) calls the token endpoint and stores the
   * renewed tokens with a compare-and-set on the tokens it refreshed from; concurrent callers wait
   * for them (polling the row, at most until the lease runs out, then one of them takes over). So
   * a refresh token is spent once and every caller gets the renewed access token. A refused
   * refresh marks the connection revoked — unless another refresher stored newer tokens meanwhile
   * (it spent the refresh token after its lease ran out), whose tokens are then used.
   */
  async accessToken(connectionId: string, rejected?: string): Promise<string> {
    const leaseId = randomUUID();
    let firstSeen: string | undefined;
    let pauseMs = REFRESH_POLL_MIN_MS;
    for (;;) {
      const row = await this.connections.findById(connectionId);
      if (!row?.tokensCiphertext || !row.tokensKeyId) throw new ConnectionRevoked(connectionId);
      firstSeen ??= row.tokensCiphertext;
      const tokens = this.openTokens(row.tokensKeyId, row.tokensCiphertext);
      const expiresInMs = (row.tokenExpiresAt?.getTime() ?? 0) - Date.now();
      if (tokens.a !== rejected) {
        if (expiresInMs > REFRESH_MARGIN_MS) return tokens.a;
        // Renewed by another caller while this one waited: used even when the provider gives
        // tokens shorter-lived than the margin (no refresh loop).
        if (row.tokensCiphertext !== firstSeen && expiresInMs > 0) return tokens.a;
      }
      if (await this.connections.takeRefreshLease(row.id, row.tokensCiphertext, leaseId, REFRESH_LEASE_MS)) {
        const renewed = await this.refreshUnderLease(row, row.tokensCiphertext, tokens.r, leaseId);
        if (renewed !== undefined) return renewed;
        continue;
      }
      await sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, REFRESH_POLL_MAX_MS);
    }
  }

  /**
   * The lease holder's part: the token endpoint, then the tokens stored. Undefined when the row must
   * be read again (newer tokens were stored by another refresher meanwhile).
   */
  private async refreshUnderLease(row: ProviderConnectionRow, fromCiphertext: string, refreshToken: string, leaseId: string): Promise<string | undefined> {
    let renewed: ProviderTokens;
    try {
      renewed = await this.client(row.provider).refresh(refreshToken);
    } catch (error) {
      if (!(error instanceof RefreshRefused)) {
        await this.connections.releaseRefreshLease(row.id, leaseId);
        throw error;
      }
      if (await this.connections.revokeTokens(row.id, fromCiphertext)) throw new ConnectionRevoked(row.id);
      // Refused because another refresher spent that refresh token and stored its successor.
      await this.connections.releaseRefreshLease(row.id, leaseId);
      return undefined;
    }
    if (await this.connections.storeRefreshedTokens(row.id, fromCiphertext, leaseId, this.sealTokens(renewed))) return renewed.accessToken;
    // Newer tokens were stored meanwhile, or the connection was disconnected: read it again.
    this.logger.warn(`${row.provider} connection ${row.id}: tokens changed while refreshing, the renewed ones were not stored`);
    await this.connections.releaseRefreshLease(row.id, leaseId);
    return undefined;
  }

  private openTokens(keyId: string, ciphertext: string): { a: string; r: string } {
    return JSON.parse(this.cipher.open({ keyId, ciphertext })) as { a: string; r: string };
  }

  /**
   * Calls the provider with the connection's token; a 401 gets one refresh and one retry (the
   * provider may have expired the token early), never more.
   */
  async withAccessToken(connectionId: string, call: (accessToken: string) => Promise<Response>): Promise<Response> {
    const token = await this.accessToken(connectionId);
    const first = await call(token);
    if (first.status !== 401) return first;
    await first.body?.cancel();
    return call(await this.accessToken(connectionId, token));
  }

  private sealTokens(tokens: ProviderTokens) {
    const sealed = this.cipher.seal(JSON.stringify({ a: tokens.accessToken, r: tokens.refreshToken }));
    return { tokensCiphertext: sealed.ciphertext, tokensKeyId: sealed.keyId, tokenExpiresAt: tokens.expiresAt };
  }

  private client(provider: ConnectionProvider): ProviderClient {
    const client = this.clients.get(provider);
    if (!client) throw new ORPCError('NOT_FOUND', { message: `${provider} is not configured on this server` });
    return client;
  }

  /** Always on PUBLIC_URL: never from the request. */
  private redirectUri(provider: ConnectionProvider): string {
    return `${publicUrl(this.env).replace(/\/$/, '')}/api/v1/connections/${provider}/callback`;
  }

  private trustedReturn(returnTo: string): boolean {
    let origin: string;
    try {
      origin = new URL(returnTo).origin;
    } catch {
      return false;
    }
    const trusted = [publicUrl(this.env), ...(this.env.AUTH_TRUSTED_ORIGINS?.split(',') ?? [])]
      .map((value) => value.trim())
      .filter(Boolean)
      .map((value) => {
        try {
          return new URL(value).origin;
        } catch {
          return undefined;
        }
      });
    return trusted.includes(origin);
  }
}

export { ConnectionRevoked, ProviderFailure };
