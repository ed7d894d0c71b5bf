import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { user } from './auth.js';
import { createdAt, timestamptz, updatedAt } from './columns.js';

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled'] as const;
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

/**
 * An outbound webhook endpoint (README "Following changes"): where a user's changes are POSTed,
 * signed per the Standard Webhooks specification. The dispatcher (src/modules/webhooks) turns the
 * change feed after (cursorPos, cursorSeq) into deliveries.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description'),
    events: text('events').array().notNull(),
    /** Only these athletes' changes; null: all of the user's athletes. */
    athleteIds: uuid('athlete_ids').array(),
    /**
     * `whsec_` + base64 of 24 random bytes, shown once at creation or rotation, stored sealed with
     * TokenCipher (AES-256-GCM) under the key `secretKeyId` names. A null key id marks a secret still
     * in clear (written before sealing); WebhooksService seals those at boot.
     */
    secret: text('secret').notNull(),
    secretKeyId: text('secret_key_id'),
    /** The secret before the last rotation (sealed like `secret`): deliveries are signed with both until it expires. */
    previousSecret: text('previous_secret'),
    previousSecretKeyId: text('previous_secret_key_id'),
    previousSecretExpiresAt: timestamptz('previous_secret_expires_at'),
    status: text('status', { enum: WEBHOOK_ENDPOINT_STATUSES }).notNull().default('active'),
    disabledReason: text('disabled_reason'),
    disabledAt: timestamptz('disabled_at'),
    /** The change feed position up to which deliveries have been created. */
    cursorPos: bigint('cursor_pos', { mode: 'number' }).notNull(),
    cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('webhook_endpoints_user_id_idx').on(t.userId),
    check('webhook_endpoints_status_check', sql`${t.status} in ('active', 'disabled')`),
  ],
);

/** One event for one endpoint; sent at least once, in order per `orderKey` (the activity, or the record). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Creation order: deliveries of one orderKey go out in this order. */
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    orderKey: uuid('order_key').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Not sent before this instant: the backoff, and the lease of a sender working on it. */
    nextAttemptAt: timestamptz('next_attempt_at').notNull().defaultNow(),
    lastStatusCode: integer('last_status_code'),
    lastDurationMs: integer('last_duration_ms'),
    lastError: text('last_error'),
    deliveredAt: timestamptz('delivered_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.seq),
    index('webhook_deliveries_order_idx').on(t.endpointId, t.orderKey, t.seq).where(sql`${t.status} = 'pending'`),
    check('webhook_deliveries_status_check', sql`${t.status} in ('pending', 'succeeded', 'failed')`),
  ],
);

/** Each attempt of a delivery: what the receiver answered and how long it took. */
export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attemptedAt: timestamptz('attempted_at').notNull().defaultNow(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    error: text('error'),
  },
  (t) => [index('webhook_delivery_attempts_delivery_idx').on(t.deliveryId, t.id)],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type WebhookDeliveryAttemptRow = typeof webhookDeliveryAttempts.$inferSelect;
