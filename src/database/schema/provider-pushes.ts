import { sql } from 'drizzle-orm';
import { check, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { CONNECTION_PROVIDERS } from '@unified-activity/contract';
import { sqlList, timestamptz } from './columns.js';

/**
 * A provider push (webhook body) handled to the end: its SHA-256 over the exact bytes received.
 * A body seen again (the provider's retry, a replay) is answered and not handled twice. A push that
 * failed part way has no row, so sending it again completes it.
 */
export const providerPushReceipts = pgTable(
  'provider_push_receipts',
  {
    provider: text('provider', { enum: CONNECTION_PROVIDERS }).notNull(),
    /** Hex SHA-256 of the body as received. */
    bodySha256: text('body_sha256').notNull(),
    /** The push's kind, e.g. Garmin's summary type (`activities`, `deregistrations` …). */
    kind: text('kind').notNull(),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
  },
  (t) => [
    // A unique index, not a composite primary key: drizzle-kit's push re-creates those on PGlite (test/integration/migrations.spec.ts).
    uniqueIndex('provider_push_receipts_provider_body_sha256_key').on(t.provider, t.bodySha256),
    check('provider_push_receipts_provider_check', sql`${t.provider} in ${sql.raw(sqlList(CONNECTION_PROVIDERS))}`),
  ],
);

export type ProviderPushReceiptRow = typeof providerPushReceipts.$inferSelect;
