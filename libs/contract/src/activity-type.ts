/**
 * The schema of one canonical activity type (DATA-MODEL §3 and §8, CATALOG.md): pure zod, so the
 * contract package describes catalog responses with it; the catalog data itself and its loader stay
 * on the server (libs/seed-data/activity-types.ts), which validates the JSON with these schemas.
 */
import * as z from 'zod';

/**
 * Provider vocabularies. `garmin` is the Garmin Health/Activity API's own activity-type keys
 * (`RUNNING`, `LAP_SWIMMING`, …), which differ from FIT's sport/sub_sport (`fit`); it is not in
 * CATALOG.md, so CATALOG_PROVIDERS names the four that table covers.
 */
export const PROVIDERS = ['healthkit', 'strava', 'fit', 'health_connect', 'garmin'] as const;
export const CATALOG_PROVIDERS = ['healthkit', 'strava', 'fit', 'health_connect'] as const satisfies readonly Provider[];
export type Provider = (typeof PROVIDERS)[number];

/**
 * The 17 categories of CATALOG.md, in its order. Repeated here as literals
 * (the JSON must list exactly these) so that `ActivityCategory` is a union
 * the compiler can check, and contracts can use `z.enum(ACTIVITY_CATEGORIES)`.
 */
export const ACTIVITY_CATEGORIES = [
  'running',
  'walking_hiking',
  'cycling',
  'swimming',
  'water_sports',
  'winter_sports',
  'strength',
  'cardio_fitness',
  'mind_body',
  'climbing',
  'team_sports',
  'racket_sports',
  'combat_sports',
  'outdoor_recreation',
  'multisport',
  'adaptive',
  'other',
] as const;
export type ActivityCategory = (typeof ACTIVITY_CATEGORIES)[number];

export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
export const SlugSchema = z.string().regex(SNAKE_CASE, 'must be a snake_case slug');

const mappingFlags = {
  inboundDefault: z
    .boolean()
    .describe('True when an incoming value (with its qualifier) is read as this type; one type per provider value'),
  approximate: z
    .boolean()
    .describe('True when the provider has no equivalent: the value is only the nearest to send, never read back'),
};

// An approximate (≈ / –) value is only the nearest thing to send; reading it
// back into this type would claim an equivalence the provider does not have.
const isConsistent = (m: { inboundDefault: boolean; approximate: boolean }): boolean =>
  !(m.inboundDefault && m.approximate);
const INCONSISTENT = 'an approximate mapping cannot be the inbound default';

export const HealthKitCaseSchema = z.string().regex(/^[a-z][A-Za-z]*$/, 'must be a Swift case name');
export const HealthKitRawValueSchema = z.int().nonnegative();
export const StravaSportTypeSchema = z.string().regex(/^[A-Z][A-Za-z]*$/, 'must be a Strava sport_type');
export const FitNameSchema = z.string().regex(SNAKE_CASE, 'must be a FIT profile name');
export const FitIdSchema = z.int().min(0).max(255);
export const HealthConnectConstantSchema = z
  .string()
  .regex(/^(?!EXERCISE_TYPE_)[A-Z][A-Z0-9_]*$/, 'must be a constant name without the EXERCISE_TYPE_ prefix');
export const HealthConnectValueSchema = z.int().nonnegative();
export const GarminTypeKeySchema = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be a Garmin activity-type key such as RUNNING');

export const HEALTHKIT_QUALIFIERS = ['indoor', 'pool', 'open_water'] as const;
export type HealthKitQualifier = (typeof HEALTHKIT_QUALIFIERS)[number];

const HealthKitMappingSchema = z
  .strictObject({
    case: HealthKitCaseSchema.describe('HKWorkoutActivityType Swift case, e.g. running'),
    rawValue: HealthKitRawValueSchema.describe('HKWorkoutActivityType raw value, e.g. 37'),
    qualifier: z
      .enum(HEALTHKIT_QUALIFIERS)
      .optional()
      .describe('indoor: HKMetadataKeyIndoorWorkout = true; pool / open_water: HKMetadataKeySwimmingLocationType 1 / 2'),
    ...mappingFlags,
  })
  .refine(isConsistent, INCONSISTENT)
  .describe('Apple HealthKit workout activity type');

const StravaMappingSchema = z
  .strictObject({
    sportType: StravaSportTypeSchema.describe('Strava sport_type, e.g. Run'),
    trainer: z.literal(true).optional().describe('Sent and read with the activity flag trainer = true'),
    generic: z
      .literal(true)
      .optional()
      .describe('Strava has nothing sensible for this type; its generic Workout is sent'),
    ...mappingFlags,
  })
  .refine(isConsistent, INCONSISTENT)
  .refine((m) => !m.generic || m.approximate, 'a generic fallback is always approximate')
  .describe('Strava sport type');

const FitMappingSchema = z
  .strictObject({
    sport: FitNameSchema.describe('FIT profile sport name, e.g. cycling'),
    sportId: FitIdSchema.describe('FIT sport enum value'),
    subSport: FitNameSchema.describe('FIT profile sub_sport name, e.g. indoor_cycling'),
    subSportId: FitIdSchema.describe('FIT sub_sport enum value'),
    ...mappingFlags,
  })
  .refine(isConsistent, INCONSISTENT)
  .describe('Garmin FIT sport / sub_sport');

const HealthConnectMappingSchema = z
  .strictObject({
    constant: HealthConnectConstantSchema.describe('ExerciseSessionRecord constant without EXERCISE_TYPE_, e.g. RUNNING'),
    value: HealthConnectValueSchema.describe('The constant\'s Int value'),
    ...mappingFlags,
  })
  .refine(isConsistent, INCONSISTENT)
  .describe('Google Health Connect exercise type');

const GarminMappingSchema = z
  .strictObject({
    typeKey: GarminTypeKeySchema.describe('Garmin Health/Activity API activityType, e.g. LAP_SWIMMING'),
    generic: z
      .literal(true)
      .optional()
      .describe('Garmin has nothing sensible for this type; its generic OTHER is sent'),
    ...mappingFlags,
  })
  .refine(isConsistent, INCONSISTENT)
  .refine((m) => !m.generic || m.approximate, 'a generic fallback is always approximate')
  .describe('Garmin Health/Activity API activity type');

/** One catalog type. Exported so API contracts can describe catalog responses with the same schema. */
export const ActivityTypeSchema = z.strictObject({
  slug: SlugSchema.describe('Stable identifier, stored as activities.activity_type'),
  name: z.string().min(1).describe('Display name'),
  category: z.enum(ACTIVITY_CATEGORIES).describe('One of the 17 catalog categories'),
  tier: z.literal([1, 2]).describe('1: the types behind most recorded activities; 2: the rest'),
  mappings: z
    .strictObject({
      healthkit: HealthKitMappingSchema,
      strava: StravaMappingSchema,
      fit: FitMappingSchema,
      health_connect: HealthConnectMappingSchema,
      garmin: GarminMappingSchema,
    })
    .describe('The value sent to each provider when this type is exported to it'),
});
