import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { ACTIVITY_SOURCES } from './activities.js';
import { athletes } from './athletes.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

export const SYNC_STATUSES = ['idle', 'running', 'error'] as const;

/** One row per (athlete, source): where the last sync left off (DATA-MODEL §7). */
export const syncStates = pgTable(
  'sync_states',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    source: text('source', { enum: ACTIVITY_SOURCES }).notNull(),
    /** Opaque to the server: a HealthKit anchor, a Strava `after` epoch, a Health Connect changes token. */
    cursor: text('cursor'),
    status: text('status', { enum: SYNC_STATUSES }).notNull().default('idle'),
    lastSyncedAt: timestamptz('last_synced_at'),
    lastAttemptAt: timestamptz('last_attempt_at'),
    lastError: text('last_error'),
    /** When the current run began (status running); with lastBatchAt, tells a stale run from a live one. */
    runStartedAt: timestamptz('run_started_at'),
    /** The last accepted batch of the current or last run. */
    lastBatchAt: timestamptz('last_batch_at'),
    createdCount: integer('created_count').notNull().default(0),
    updatedCount: integer('updated_count').notNull().default(0),
    deletedCount: integer('deleted_count').notNull().default(0),
    unchangedCount: integer('unchanged_count').notNull().default(0),
    batchCount: integer('batch_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('sync_states_athlete_id_source_key').on(t.athleteId, t.source),
    check('sync_states_source_check', sql`${t.source} in ${sql.raw(sqlList(ACTIVITY_SOURCES))}`),
    check('sync_states_status_check', sql`${t.status} in ${sql.raw(sqlList(SYNC_STATUSES))}`),
    check(
      'sync_states_counters_non_negative',
      sql`${t.createdCount} >= 0 and ${t.updatedCount} >= 0 and ${t.deletedCount} >= 0 and ${t.unchangedCount} >= 0 and ${t.batchCount} >= 0`,
    ),
  ],
);

export type SyncStateRow = typeof syncStates.$inferSelect;
