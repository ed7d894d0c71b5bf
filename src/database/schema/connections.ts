import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { athletes } from './athletes.js';
import { user } from './auth.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

import { CONNECTION_PROVIDERS } from '@unified-activity/contract';

export { CONNECTION_PROVIDERS } from '@unified-activity/contract';
export const CONNECTION_STATUSES = ['active', 'backfilling', 'rate_limited', 'revoked', 'error'] as const;
export const BACKFILL_STATUSES = ['pending', 'running', 'done', 'rate_limited', 'error'] as const;

/**
 * One athlete's link to one provider account. The provider's tokens are one AES-256-GCM ciphertext
 * (`tokens_ciphertext`, the access and refresh token and their expiry) with the id of the key that
 * sealed it beside it; a disconnected or revoked connection has neither.
 */
export const providerConnections = pgTable(
  'provider_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    provider: text('provider', { enum: CONNECTION_PROVIDERS }).notNull(),
    /** The account's id at the provider (Strava athlete id, Garmin user id). */
    providerAthleteId: text('provider_athlete_id').notNull(),
    /** What the user granted, as the provider reported it. */
    scopes: text('scopes').array().notNull(),
    status: text('status', { enum: CONNECTION_STATUSES }).notNull().default('active'),
    tokensCiphertext: text('tokens_ciphertext'),
    tokensKeyId: text('tokens_key_id'),
    /** When the access token expires: read without decrypting, to refresh ahead of it. */
    tokenExpiresAt: timestamptz('token_expires_at'),
    /**
     * The token-refresh lease: whoever set `refresh_lease_id` (one conditional UPDATE) calls the
     * provider's token endpoint, outside any transaction, until `refresh_lease_until`; the others
     * wait for the tokens it stores (ConnectionsService.accessToken, docs/data-model.md).
     */
    refreshLeaseId: uuid('refresh_lease_id'),
    refreshLeaseUntil: timestamptz('refresh_lease_until'),
    connectedAt: timestamptz('connected_at').notNull().defaultNow(),
    lastEventAt: timestamptz('last_event_at'),
    backfillStatus: text('backfill_status', { enum: BACKFILL_STATUSES }).notNull().default('pending'),
    backfillFetched: integer('backfill_fetched').notNull().default(0),
    backfillPending: integer('backfill_pending').notNull().default(0),
    backfillNextAttemptAt: timestamptz('backfill_next_attempt_at'),
    backfillLastError: text('backfill_last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('provider_connections_athlete_id_provider_key').on(t.athleteId, t.provider),
    // One provider account connects to at most one athlete (409 for a second one).
    uniqueIndex('provider_connections_provider_account_key').on(t.provider, t.providerAthleteId),
    index('provider_connections_user_id_idx').on(t.userId),
    check('provider_connections_provider_check', sql`${t.provider} in ${sql.raw(sqlList(CONNECTION_PROVIDERS))}`),
    check('provider_connections_status_check', sql`${t.status} in ${sql.raw(sqlList(CONNECTION_STATUSES))}`),
    check('provider_connections_backfill_status_check', sql`${t.backfillStatus} in ${sql.raw(sqlList(BACKFILL_STATUSES))}`),
    check('provider_connections_tokens_key_check', sql`(${t.tokensCiphertext} is null) = (${t.tokensKeyId} is null)`),
  ],
);

/**
 * A connect flow in progress: the OAuth `state` (stored as its SHA-256, never itself), whom it binds
 * and until when. Taken (deleted) by the first callback that shows it, so it works once.
 */
export const oauthStates = pgTable(
  'oauth_states',
  {
    stateHash: text('state_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    provider: text('provider', { enum: CONNECTION_PROVIDERS }).notNull(),
    /** The PKCE code verifier (Garmin), sealed like the tokens: `<keyId>.<ciphertext>`. */
    codeVerifier: text('code_verifier'),
    /** Where the callback redirects when done (already checked against the trusted origins). */
    returnTo: text('return_to'),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('oauth_states_expires_at_idx').on(t.expiresAt),
    check('oauth_states_provider_check', sql`${t.provider} in ${sql.raw(sqlList(CONNECTION_PROVIDERS))}`),
  ],
);

export type ProviderConnectionRow = typeof providerConnections.$inferSelect;
export type NewProviderConnectionRow = typeof providerConnections.$inferInsert;
export type OauthStateRow = typeof oauthStates.$inferSelect;

/**
 * What the deployment knows of one provider application, shared by every replica: its request
 * budget (the provider's 15-minute and daily limits, the requests counted in the current windows,
 * a block after a 429) and its push subscription. Windows are aligned like Strava's (multiples of
 * the window length since the epoch: :00/:15/:30/:45 and midnight UTC).
 */
export const providerApps = pgTable(
  'provider_apps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider', { enum: CONNECTION_PROVIDERS }).notNull(),
    /** The provider application (its client id): limits are per application. */
    clientId: text('client_id').notNull(),
    /** The index of the current short window (floor(epoch ms / window length)) and the requests made in it. */
    windowIndex: bigint('window_index', { mode: 'number' }).notNull().default(0),
    windowUsed: integer('window_used').notNull().default(0),
    dayIndex: bigint('day_index', { mode: 'number' }).notNull().default(0),
    dayUsed: integer('day_used').notNull().default(0),
    /** The limits the provider last reported (the smaller of its overall and read limits). */
    windowLimit: integer('window_limit').notNull(),
    dayLimit: integer('day_limit').notNull(),
    /** After a 429: no request before this instant. */
    blockedUntil: timestamptz('blocked_until'),
    /** The push subscription registered by `npm run connections:subscribe` (events must carry it). */
    subscriptionId: text('subscription_id'),
    updatedAt: updatedAt(),
  },
  (t) => [
    // A unique index, not a composite primary key: drizzle-kit's PGlite introspection re-creates those on every push.
    uniqueIndex('provider_apps_provider_client_id_key').on(t.provider, t.clientId),
    check('provider_apps_provider_check', sql`${t.provider} in ${sql.raw(sqlList(CONNECTION_PROVIDERS))}`),
  ],
);

export const SYNC_ITEM_KINDS = ['list', 'fetch', 'delete'] as const;

/**
 * The work a connection has left: the next page of the activity list (`list`, one row while the
 * backfill lists), an activity to fetch in full (`fetch`: details and streams) or one the provider
 * deleted (`delete`). Higher `priority` first (webhook events 2, the list 1, backfill details 0),
 * then the higher `position` (start or event time: newest first). A worker holds a row by its lease.
 */
export const providerSyncItems = pgTable(
  'provider_sync_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => providerConnections.id, { onDelete: 'cascade' }),
    /**
     * The queue of the processes that may take the row (provider-queue.ts, providerQueueName): replicas
     * configured alike share it; two test apps on one database with different fakes do not.
     */
    queue: text('queue').notNull(),
    kind: text('kind', { enum: SYNC_ITEM_KINDS }).notNull(),
    /** The provider's activity id ('' for the list). */
    externalId: text('external_id').notNull(),
    priority: smallint('priority').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    leaseUntil: timestamptz('lease_until'),
    /** Bumped when the same work is asked for again while a worker holds the row: that worker then leaves it for another round. */
    generation: integer('generation').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('provider_sync_items_connection_id_kind_external_id_key').on(t.connectionId, t.kind, t.externalId),
    index('provider_sync_items_next_idx').on(t.connectionId, t.priority, t.position),
    index('provider_sync_items_queue_idx').on(t.queue),
    check('provider_sync_items_kind_check', sql`${t.kind} in ${sql.raw(sqlList(SYNC_ITEM_KINDS))}`),
  ],
);

export type ProviderAppRow = typeof providerApps.$inferSelect;
export type ProviderSyncItemRow = typeof providerSyncItems.$inferSelect;
