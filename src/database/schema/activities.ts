import { sql, type SQL } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { ACTIVITY_SOURCES, EVENT_TYPES } from '@unified-activity/contract';
import { athletes } from './athletes.js';
import { activityTypes } from './catalog.js';
import { createdAt, sqlList, timestamptz, updatedAt } from './columns.js';

// The vocabularies are the contract's (one definition, shared with clients); re-exported for the server.
export { ACTIVITY_SOURCES, EVENT_TYPES, type ActivitySource } from '@unified-activity/contract';

/** The promoted measures of DATA-MODEL §5; all nullable and non-negative, unit in the name (§9). */
const measure = (name: string) => doublePrecision(name);

export const activities = pgTable(
  'activities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id').notNull(),
    /**
     * The owning user, copied from the athlete so that the timeline across all of a user's athletes
     * is one index range and every query can be scoped by owner without a join. Kept right by the
     * composite foreign key (athlete_id, user_id) → athletes (id, user_id); a trigger fills it in for
     * INSERTs that leave it out (src/database/sql/activities.sql) — hence Drizzle sends NULL when an
     * insert leaves it out; NOT NULL is checked after the trigger.
     */
    userId: text('user_id')
      .notNull()
      .$defaultFn(() => sql`null`),
    /** A session's parent (§4): same athlete by the composite foreign key, one level by a trigger. */
    parentId: uuid('parent_id'),
    activityType: text('activity_type')
      .notNull()
      .references(() => activityTypes.slug, { onUpdate: 'cascade' }),
    sourceActivityType: text('source_activity_type'),
    source: text('source', { enum: ACTIVITY_SOURCES }).notNull().default('manual'),
    externalId: text('external_id'),
    name: text('name'),
    notes: text('notes'),
    startTime: timestamptz('start_time').notNull(),
    endTime: timestamptz('end_time').notNull(),
    /** IANA zone of the local wall clock; null when the source does not tell it (docs/data-model.md §9, "Time zones"). */
    timeZone: text('time_zone'),
    durationS: measure('duration_s'),
    movingTimeS: measure('moving_time_s'),
    distanceM: measure('distance_m'),
    activeEnergyKcal: measure('active_energy_kcal'),
    avgHeartRateBpm: measure('avg_heart_rate_bpm'),
    maxHeartRateBpm: measure('max_heart_rate_bpm'),
    elevationGainM: measure('elevation_gain_m'),
    elevationLossM: measure('elevation_loss_m'),
    avgSpeedMS: measure('avg_speed_m_s'),
    maxSpeedMS: measure('max_speed_m_s'),
    isIndoor: boolean('is_indoor'),
    deviceName: text('device_name'),
    /**
     * The provider's item as parsed (§6): JSONB keeps values, not key order or number spelling. The
     * exact bytes are in object storage under source_archive_key (sync batches, imported files).
     */
    sourceData: jsonb('source_data'),
    /** Bumped each time a re-ingest replaces the promoted fields (§6); sourceData keeps the newest payload. */
    revision: integer('revision').notNull().default(1),
    sourceDataReceivedAt: timestamptz('source_data_received_at'),
    /** The archived body (raw/athlete_id=…/source=…/<sha256>.json) this activity's newest payload came from. */
    sourceArchiveKey: text('source_archive_key'),
    /** Index of the item inside that archived body (its `activities` array). */
    sourceArchiveIndex: integer('source_archive_index'),
    /**
     * sha256 (hex) of the canonical JSON of the provider item plus the mapper version: a replay is
     * detected by comparing hashes, before any row is touched.
     */
    sourceDataHash: text('source_data_hash'),
    /**
     * The primary of this activity's duplicate group (docs/data-model.md, "Duplicates across
     * sources"); null on a primary and on an activity in no group. Written only by the duplicate
     * grouping (src/modules/activities/duplicates/), under the athlete's advisory lock.
     */
    duplicateOf: uuid('duplicate_of'),
    /**
     * The fields the user changed by PATCH since the activity was last ingested (promoted field names
     * as in the API, `statistics`, `events`): a reprocess from the archived original never overwrites
     * them (docs/data-model.md, "Reprocessing"); a re-ingest of a new payload clears them.
     */
    editedFields: text('edited_fields').array().notNull().default([]),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('activities_athlete_source_external_id_key')
      .on(t.athleteId, t.source, t.externalId)
      .where(sql`${t.externalId} is not null`),
    foreignKey({ name: 'activities_athlete_fk', columns: [t.athleteId, t.userId], foreignColumns: [athletes.id, athletes.userId] })
      .onDelete('cascade')
      .onUpdate('cascade'),
    // Target of the session foreign key below: a parent is referenced together with its athlete.
    unique('activities_id_athlete_id_key').on(t.id, t.athleteId),
    foreignKey({ name: 'activities_parent_fk', columns: [t.parentId, t.athleteId], foreignColumns: [t.id, t.athleteId] }).onDelete('cascade'),
    // The primary (always of the same athlete: only the grouping writes it, within one athlete). A
    // single-column key, as SET NULL on a composite one would null athlete_id too. Deleting a primary
    // nulls its members' reference; the writer then regroups them (the next member is promoted).
    foreignKey({ name: 'activities_duplicate_of_fk', columns: [t.duplicateOf], foreignColumns: [t.id] }).onDelete('set null'),
    // A group's members, from its primary (detail view, duplicateCount, regrouping).
    index('activities_duplicate_of_idx').on(t.duplicateOf).where(sql`${t.duplicateOf} is not null`),
    // The timeline indexes. DESC NULLS FIRST is PostgreSQL's default for DESC, so the queries' plain
    // `order by start_time desc, id desc` and the keyset predicate are served in index order (no Sort).
    // The trailing duration and distance let unfiltered totals run as an index-only scan; the trailing
    // duplicate_of lets the default timeline (one item per duplicate group: duplicate_of is null) be
    // filtered on the index entry itself, so totals stay index-only.
    index('activities_athlete_start_time_idx').on(
      t.athleteId,
      t.startTime.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
      t.durationS,
      t.distanceM,
      t.duplicateOf,
    ),
    index('activities_user_start_time_idx').on(
      t.userId,
      t.startTime.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
      t.durationS,
      t.distanceM,
      t.duplicateOf,
    ),
    index('activities_parent_start_time_idx').on(t.parentId, t.startTime, t.id).where(sql`${t.parentId} is not null`),
    check('activities_source_check', sql`${t.source} in ${sql.raw(sqlList(ACTIVITY_SOURCES))}`),
    check('activities_end_after_start', sql`${t.endTime} >= ${t.startTime}`),
    check('activities_not_own_parent', sql`${t.parentId} is null or ${t.parentId} <> ${t.id}`),
    check('activities_revision_positive', sql`${t.revision} >= 1`),
    check('activities_source_archive_index_non_negative', sql`${t.sourceArchiveIndex} >= 0`),
    ...nonNegative('activities', [
      t.durationS,
      t.movingTimeS,
      t.distanceM,
      t.activeEnergyKcal,
      t.avgHeartRateBpm,
      t.maxHeartRateBpm,
      t.elevationGainM,
      t.elevationLossM,
      t.avgSpeedMS,
      t.maxSpeedMS,
    ]),
  ],
);

function nonNegative(table: string, columns: AnyPgColumn[]) {
  return columns.map((column) => check(`${table}_${column.name}_non_negative`, sql`${column} >= 0` as SQL));
}

/** Sport-specific measures as key/value rows (§5); keys are snake_case and unit-suffixed. */
export const activityStatistics = pgTable(
  'activity_statistics',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    activityId: uuid('activity_id')
      .notNull()
      .references(() => activities.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: doublePrecision('value').notNull(),
    unit: text('unit').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('activity_statistics_activity_id_key_key').on(t.activityId, t.key),
    check('activity_statistics_key_snake_case', sql`${t.key} ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'`),
  ],
);

export const activityEvents = pgTable(
  'activity_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    activityId: uuid('activity_id')
      .notNull()
      .references(() => activities.id, { onDelete: 'cascade' }),
    eventType: text('event_type', { enum: EVENT_TYPES }).notNull(),
    startTime: timestamptz('start_time').notNull(),
    endTime: timestamptz('end_time'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    /**
     * The event's position in the list it was written with (a file's events as parsed, a request's
     * `events`): events with equal start times are read back in this order (docs/data-model.md §7).
     */
    ordinal: integer('ordinal').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    index('activity_events_activity_start_time_idx').on(t.activityId, t.startTime, t.ordinal),
    check('activity_events_event_type_check', sql`${t.eventType} in ${sql.raw(sqlList(EVENT_TYPES))}`),
    check('activity_events_end_after_start', sql`${t.endTime} is null or ${t.endTime} >= ${t.startTime}`),
  ],
);

export type ActivityRow = typeof activities.$inferSelect;
export type NewActivityRow = typeof activities.$inferInsert;
export type ActivityStatisticRow = typeof activityStatistics.$inferSelect;
export type ActivityEventRow = typeof activityEvents.$inferSelect;
