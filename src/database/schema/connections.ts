import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
