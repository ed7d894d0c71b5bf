import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { SourcePriorities } from '@unified-activity/contract';
import { activities } from './activities.js';
import { athletes } from './athletes.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

/**
 * What an athlete said about duplicates by hand (docs/data-model.md, "Duplicates across sources"):
 * `separate` (a pair split apart: never grouped again by detection), `same` (a pair joined by hand,
 * grouped whatever detection says) and `primary` (this activity is its group's primary whatever the
 * priority says; otherId = activityId). Pairs are stored once, activityId < otherId. Overrides are
 * rows of their own, not flags on the activities, so a re-sync or re-import that rewrites an
 * activity cannot lose them; they go with either activity (cascade).
 */
export const DUPLICATE_OVERRIDE_KINDS = ['separate', 'same', 'primary'] as const;
export type DuplicateOverrideKind = (typeof DUPLICATE_OVERRIDE_KINDS)[number];

export const activityDuplicateOverrides = pgTable(
  'activity_duplicate_overrides',
  {
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    activityId: uuid('activity_id')
      .notNull()
      .references(() => activities.id, { onDelete: 'cascade' }),
    otherId: uuid('other_id')
      .notNull()
      .references(() => activities.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: DUPLICATE_OVERRIDE_KINDS }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // A unique index rather than a composite primary key: drizzle-kit push re-creates a named composite key on every run.
    uniqueIndex('activity_duplicate_overrides_key').on(t.activityId, t.otherId, t.kind),
    index('activity_duplicate_overrides_other_id_idx').on(t.otherId),
    // An athlete's pins (a priority change), and whether it has any override at all: regrouping a
    // batch skips the per-activity override probes of an athlete without any.
    index('activity_duplicate_overrides_athlete_id_idx').on(t.athleteId),
    check('activity_duplicate_overrides_kind_check', sql`${t.kind} in ${sql.raw(sqlList(DUPLICATE_OVERRIDE_KINDS))}`),
    check(
      'activity_duplicate_overrides_pair_order',
      sql`(${t.kind} = 'primary' and ${t.activityId} = ${t.otherId}) or (${t.kind} <> 'primary' and ${t.activityId} < ${t.otherId})`,
    ),
  ],
);

/** An athlete's source priority (GET/PUT /v1/athletes/{id}/source-priorities); no row: the documented default. */
export const athleteSourcePriorities = pgTable('athlete_source_priorities', {
  athleteId: uuid('athlete_id')
    .primaryKey()
    .references(() => athletes.id, { onDelete: 'cascade' }),
  /** Validated by the contract's SourcePrioritiesSchema before it is written. */
  priorities: jsonb('priorities').$type<SourcePriorities>().notNull(),
  /**
   * The re-election of the primaries after the last change of `priorities`: true while a job still
   * has to run it (an athlete with more than DUPLICATE_REELECTION_INLINE_MAX groups), false once done.
   */
  reelectionPending: boolean('reelection_pending').notNull().default(false),
  /** Groups whose primary that re-election changed; null while it is pending. */
  changedPrimaries: integer('changed_primaries'),
  /** When that re-election finished; null while it is pending. */
  reelectedAt: timestamptz('reelected_at'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export type ActivityDuplicateOverrideRow = typeof activityDuplicateOverrides.$inferSelect;

/**
 * Completed backfills of duplicate groups (DuplicateBackfill): one row per detection version, so a
 * database that held activities before groups existed is grouped once, at the first boot after.
 */
export const activityDuplicateBackfills = pgTable('activity_duplicate_backfills', {
  version: integer('version').primaryKey(),
  completedAt: timestamptz('completed_at').notNull().defaultNow(),
});
