import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ORIGINAL_STATUSES } from '@unified-activity/contract';
import { athletes } from './athletes.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

export { ORIGINAL_STATUSES } from '@unified-activity/contract';
export type OriginalStatus = (typeof ORIGINAL_STATUSES)[number];

/**
 * Every archived original of an athlete (docs/data-model.md, "Originals"): each imported file —
 * rejected ones too — and each accepted sync batch body, once per content (sha256 of the bytes as
 * received). The bytes are in object storage under `object_key` (brotli-compressed, `.br`); the
 * activities derived from an original point at the same key (activities.source_archive_key). A row
 * here is what keeps a rejected file's object: nothing else points at it.
 */
export const originals = pgTable(
  'originals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    /** Hex sha256 of the bytes as received (after gunzip/unzip for files): the object key's file name. */
    sha256: text('sha256').notNull(),
    /** `file` for an imported file, else the sync source whose batch body this is. */
    source: text('source').notNull(),
    objectKey: text('object_key').notNull(),
    /** The file's name as uploaded ("rides.zip/broken.fit"); null for a sync body and for originals archived before this table. */
    fileName: text('file_name'),
    /** fit, gpx, tcx, apple_health, json; null when the importer could not tell. */
    format: text('format'),
    /** Bytes as received (uncompressed); null for originals archived before this table (not measured then). */
    byteSize: bigint('byte_size', { mode: 'number' }),
    /** Bytes held in object storage (compressed): what the original costs the athlete's storage. */
    storedByteSize: bigint('stored_byte_size', { mode: 'number' }),
    status: text('status', { enum: ORIGINAL_STATUSES }).notNull(),
    /** Why the importer rejected the file (status rejected). */
    reason: text('reason'),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('originals_athlete_id_sha256_key').on(t.athleteId, t.sha256),
    index('originals_athlete_id_received_at_idx').on(t.athleteId, t.receivedAt, t.id),
    index('originals_object_key_idx').on(t.objectKey),
    check('originals_status_check', sql`${t.status} in ${sql.raw(sqlList(ORIGINAL_STATUSES))}`),
    check('originals_sha256_hex', sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check('originals_byte_sizes_non_negative', sql`(${t.byteSize} is null or ${t.byteSize} >= 0) and (${t.storedByteSize} is null or ${t.storedByteSize} >= 0)`),
  ],
);

export type OriginalRow = typeof originals.$inferSelect;
export type NewOriginalRow = typeof originals.$inferInsert;
