import type { ReprocessResult } from '@unified-activity/contract';
import { sql } from 'drizzle-orm';
import { check, index, integer, json, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { athletes } from './athletes.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

export const REPROCESS_JOB_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ReprocessJobStatus = (typeof REPROCESS_JOB_STATUSES)[number];

/** What a reprocess was asked to do (POST /athletes/{id}/reprocess). */
export interface ReprocessOptions {
  sources?: string[];
  /** ISO 8601: only originals received at or after it. */
  since?: string;
  dryRun: boolean;
}

/** What a job's result holds (the contract's shape, stored as the API answers it). */
export type { ReprocessResult };
/** One activity a reprocess changed (or, in a dry run, would change). */
export type ReprocessChange = ReprocessResult['changes'][number];

/**
 * One reprocess of an athlete (README "Your originals, reprocessing and export"): every activity
 * derived again from its archived original by a job (pg-boss on the imports' queue machinery).
 */
export const reprocessJobs = pgTable(
  'reprocess_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    status: text('status', { enum: REPROCESS_JOB_STATUSES }).notNull().default('queued'),
    options: json('options').$type<ReprocessOptions>().notNull(),
    /** Originals looked at so far, of `originalsTotal`. */
    originalsDone: integer('originals_done').notNull().default(0),
    originalsTotal: integer('originals_total'),
    result: json('result').$type<ReprocessResult>(),
    error: text('error'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('reprocess_jobs_athlete_id_idx').on(t.athleteId),
    check('reprocess_jobs_status_known', sql`${t.status} in ${sql.raw(sqlList(REPROCESS_JOB_STATUSES))}`),
  ],
);

export type ReprocessJobRow = typeof reprocessJobs.$inferSelect;
export type NewReprocessJobRow = typeof reprocessJobs.$inferInsert;
