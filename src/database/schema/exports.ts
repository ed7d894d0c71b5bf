import { sql } from 'drizzle-orm';
import { bigint, check, index, json, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { athletes } from './athletes.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

export const EXPORT_JOB_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ExportJobStatus = (typeof EXPORT_JOB_STATUSES)[number];

/** What an export holds, counted while it is written (its manifest says the same). */
export interface ExportCounts {
  activities: number;
  streams: number;
  originals: number;
  gpx: number;
}

/**
 * One export of an athlete's data (README "Your originals, reprocessing and export"): a zip written
 * to object storage by a job (pg-boss), downloadable until `expires_at` (7 days after it was written).
 */
export const exportJobs = pgTable(
  'export_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    status: text('status', { enum: EXPORT_JOB_STATUSES }).notNull().default('queued'),
    /** The zip in object storage, once written. */
    objectKey: text('object_key'),
    byteSize: bigint('byte_size', { mode: 'number' }),
    sha256: text('sha256'),
    counts: json('counts').$type<ExportCounts>(),
    error: text('error'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    expiresAt: timestamptz('expires_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('export_jobs_athlete_id_idx').on(t.athleteId),
    index('export_jobs_expires_at_idx').on(t.expiresAt),
    check('export_jobs_status_known', sql`${t.status} in ${sql.raw(sqlList(EXPORT_JOB_STATUSES))}`),
  ],
);

export type ExportJobRow = typeof exportJobs.$inferSelect;
export type NewExportJobRow = typeof exportJobs.$inferInsert;
