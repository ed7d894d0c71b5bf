import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, doublePrecision, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { STREAM_TYPES } from '../../modules/streams/stream-types.js';
import { activities } from './activities.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

export const STREAM_FORMATS = ['parquet'] as const;

/**
 * Metadata of one time series of one activity; the samples live in a Parquet object (DATA-MODEL §10).
 * stream_type and format are CHECKed against the lists in code (src/modules/streams/stream-types.ts).
 */
export const activityStreams = pgTable(
  'activity_streams',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    activityId: uuid('activity_id')
      .notNull()
      .references(() => activities.id, { onDelete: 'cascade' }),
    streamType: text('stream_type').notNull(),
    /** `streams/athlete_id=…/activity_id=…/stream_type=…/v=<version>.parquet`, a new key per upload. */
    objectKey: text('object_key').notNull().unique(),
    format: text('format').notNull().default('parquet'),
    schemaVersion: integer('schema_version').notNull().default(1),
    sampleCount: integer('sample_count').notNull(),
    startTime: timestamptz('start_time').notNull(),
    endTime: timestamptz('end_time').notNull(),
    minValue: doublePrecision('min_value'),
    maxValue: doublePrecision('max_value'),
    avgValue: doublePrecision('avg_value'),
    byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
    checksumSha256: text('checksum_sha256').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('activity_streams_activity_id_stream_type_key').on(t.activityId, t.streamType),
    check('activity_streams_stream_type_check', sql`${t.streamType} in ${sql.raw(sqlList(STREAM_TYPES))}`),
    check('activity_streams_format_check', sql`${t.format} in ${sql.raw(sqlList(STREAM_FORMATS))}`),
    check('activity_streams_end_after_start', sql`${t.endTime} >= ${t.startTime}`),
    check('activity_streams_sample_count_non_negative', sql`${t.sampleCount} >= 0`),
    check('activity_streams_byte_size_non_negative', sql`${t.byteSize} >= 0`),
    check('activity_streams_checksum_format', sql`${t.checksumSha256} ~ '^[0-9a-f]{64}$'`),
  ],
);

export type ActivityStreamRow = typeof activityStreams.$inferSelect;
export type NewActivityStreamRow = typeof activityStreams.$inferInsert;

/**
 * The deletion outbox for stream objects (DATA-MODEL §10): a key lands here in the same transaction
 * that deletes its activity_streams row or swaps the row to a newer object — written by the trigger
 * `activity_streams_enqueue_object_deletion` (migration 0003), so cascades from activities, athletes
 * and users are covered too. StreamObjectDrain removes the objects and then the rows, retrying with
 * backoff until the object store answers.
 */
export const streamObjectDeletions = pgTable(
  'stream_object_deletions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    objectKey: text('object_key').notNull().unique(),
    /** 'deleted' (row deleted), 'superseded' (row swapped to a newer version) or 'failed_upload'. */
    reason: text('reason').notNull(),
    /** Not claimed before this instant: the retry backoff, and the lease of a drain that is working on it. */
    notBefore: timestamptz('not_before').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (t) => [
    index('stream_object_deletions_not_before_idx').on(t.notBefore),
    check('stream_object_deletions_reason', sql`${t.reason} in ('deleted', 'superseded', 'failed_upload')`),
  ],
);

export type StreamObjectDeletionRow = typeof streamObjectDeletions.$inferSelect;
