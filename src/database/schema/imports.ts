import { sql } from 'drizzle-orm';
import { check, index, integer, json, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { athletes } from './athletes.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

export const IMPORT_JOB_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ImportJobStatus = (typeof IMPORT_JOB_STATUSES)[number];

/**
 * One asynchronous file import (a large upload). The uploaded files wait in object storage under
 * `staged_keys`; the job queue (pg-boss) only carries the job's id, so progress and per-file
 * results live here where the API reads them, and a job restarted after a crash resumes from
 * `files_done` (files already imported are skipped by their hash anyway).
 */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    status: text('status', { enum: IMPORT_JOB_STATUSES }).notNull().default('queued'),
    /**
     * The uploaded files as staged: [{ name, key, size, encoding? }] in upload order; `encoding: 'br'`
     * when the staged object is brotli-compressed (docs/data-model.md §6), absent when it is the bytes as uploaded.
     */
    stagedFiles: json('staged_files').$type<{ name: string; key: string; size: number; encoding?: 'br' }[]>().notNull(),
    filesTotal: integer('files_total').notNull(),
    filesDone: integer('files_done').notNull().default(0),
    activitiesCreated: integer('activities_created').notNull().default(0),
    samplesWritten: integer('samples_written').notNull().default(0),
    /** Per-file results so far (the API's ImportFileResult shape). */
    results: json('results').$type<unknown[]>().notNull().default(sql`'[]'::json`),
    error: text('error'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('import_jobs_athlete_id_idx').on(t.athleteId),
    check('import_jobs_status_known', sql`${t.status} in ${sql.raw(sqlList(IMPORT_JOB_STATUSES))}`),
  ],
);

export type ImportJobRow = typeof importJobs.$inferSelect;
export type NewImportJobRow = typeof importJobs.$inferInsert;
