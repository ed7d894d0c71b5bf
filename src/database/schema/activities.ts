import { sql, type SQL } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { athletes } from './athletes.js';
import { activityTypes } from './catalog.js';
import { createdAt, timestamptz, updatedAt } from './columns.js';

/** Where an activity came from. Fixed in code (not a DB enum) so adding a source needs no migration. */
export const ACTIVITY_SOURCES = ['manual', 'healthkit', 'strava', 'garmin', 'health_connect', 'file'] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

export const EVENT_TYPES = [
  'pause',
  'resume',
  'lap',
  'segment',
  'marker',
  'motion_paused',
  'motion_resumed',
] as const;

/** The promoted measures of DATA-MODEL §5; all nullable and non-negative, unit in the name (§9). */
const measure = (name: string) => doublePrecision(name);

export const activities = pgTable(
  'activities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    athleteId: uuid('athlete_id')
      .notNull()
      .references(() => athletes.id, { onDelete: 'cascade' }),
    parentId: uuid('parent_id').references((): AnyPgColumn => activities.id, { onDelete: 'cascade' }),
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
    timeZone: text('time_zone').notNull().default('UTC'),
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
     * The provider payload exactly as received (§6). `json`, not `jsonb`: jsonb re-orders keys and
     * drops duplicates, so it could not give the payload back byte for byte.
     */
    sourceData: json('source_data'),
    /** Bumped each time a re-ingest replaces the promoted fields (§6); sourceData keeps the newest payload. */
    revision: integer('revision').notNull().default(1),
    sourceDataReceivedAt: timestamptz('source_data_received_at'),
    /** Object-store key of the raw payload the activity was built from (file imports: the original file, §6). */
    sourceArchiveKey: text('source_archive_key'),
    /** Position of the activity inside that archived payload (a multisport file's sessions, a batch's items). */
    sourceArchiveIndex: integer('source_archive_index'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('activities_athlete_source_external_id_key')
      .on(t.athleteId, t.source, t.externalId)
      .where(sql`${t.externalId} is not null`),
    index('activities_athlete_start_time_idx').on(t.athleteId, t.startTime.desc(), t.id.desc()),
    index('activities_parent_id_idx').on(t.parentId),
    check('activities_end_after_start', sql`${t.endTime} >= ${t.startTime}`),
    check('activities_not_own_parent', sql`${t.parentId} is null or ${t.parentId} <> ${t.id}`),
    check('activities_revision_positive', sql`${t.revision} >= 1`),
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
    createdAt: createdAt(),
  },
  (t) => [
    index('activity_events_activity_start_time_idx').on(t.activityId, t.startTime),
    check('activity_events_end_after_start', sql`${t.endTime} is null or ${t.endTime} >= ${t.startTime}`),
  ],
);

export type ActivityRow = typeof activities.$inferSelect;
export type NewActivityRow = typeof activities.$inferInsert;
export type ActivityStatisticRow = typeof activityStatistics.$inferSelect;
export type ActivityEventRow = typeof activityEvents.$inferSelect;
