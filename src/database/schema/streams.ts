import { sql } from 'drizzle-orm';
import { bigint, check, doublePrecision, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
