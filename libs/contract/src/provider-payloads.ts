/**
 * The provider payload shapes the sync batch route accepts, one named schema per source (issue 11).
 * Known fields are typed; unknown fields are kept (loose objects), never an error, and stored in
 * `sourceData`. Units are the provider's own; the server converts them (DATA-MODEL §9).
 */
import * as z from 'zod';
import { DateTimeInputSchema } from './common.js';

const num = (description: string) => z.number().describe(description);
const opt = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

// ---------------------------------------------------------------------------------------------
// HealthKit: an HKWorkout as the mobile app serializes it

export const HealthKitQuantitySchema = z
  .looseObject({
    value: z.number().describe('The number, in `unit`'),
    unit: z.string().min(1).describe('HKUnit string, e.g. kcal, kJ, m, km, mi, count/min, m/s, degC, W'),
  })
  .describe('An HKQuantity: value with its HKUnit')
  .meta({ id: 'HealthKitQuantity' });

const HealthKitStatisticSchema = z
  .looseObject({
    quantityType: z
      .string()
      .min(1)
      .describe('HKQuantityTypeIdentifier, e.g. HKQuantityTypeIdentifierHeartRate, HKQuantityTypeIdentifierRunningPower'),
    average: opt(HealthKitQuantitySchema),
    minimum: opt(HealthKitQuantitySchema),
    maximum: opt(HealthKitQuantitySchema),
    sum: opt(HealthKitQuantitySchema),
  })
  .describe('HKStatistics of one quantity type over the workout (workout.statistics(for:))');

const HealthKitEventSchema = z.looseObject({
  type: z
    .union([z.string(), z.int()])
    .describe('HKWorkoutEventType case or raw value: pause 1, resume 2, lap 3, marker 4, motionPaused 5, motionResumed 6, segment 7, pauseOrResumeRequest 8'),
  startDate: DateTimeInputSchema.describe('dateInterval.start'),
  endDate: opt(DateTimeInputSchema).describe('dateInterval.end (laps and segments span an interval)'),
  metadata: opt(z.record(z.string(), z.unknown())),
});

const HealthKitConfigurationSchema = z.looseObject({
  activityType: z.union([z.string(), z.int()]).describe('HKWorkoutActivityType of this leg'),
  locationType: opt(z.union([z.int(), z.string()])).describe('HKWorkoutSessionLocationType: 1 unknown, 2 indoor, 3 outdoor'),
  swimmingLocationType: opt(z.union([z.int(), z.string()])).describe('0 unknown, 1 pool, 2 openWater'),
  lapLength: opt(HealthKitQuantitySchema),
});

const HealthKitWorkoutActivitySchema = z.looseObject({
  uuid: opt(z.string()),
  workoutConfiguration: HealthKitConfigurationSchema,
  startDate: DateTimeInputSchema,
  endDate: DateTimeInputSchema,
  duration: opt(num('Seconds')),
  statistics: opt(z.array(HealthKitStatisticSchema)),
  workoutEvents: opt(z.array(HealthKitEventSchema)).describe('HKWorkoutActivity.workoutEvents: the events of this leg'),
  metadata: opt(z.record(z.string(), z.unknown())),
});

const HealthKitLocationSchema = z.looseObject({
  timestamp: DateTimeInputSchema.describe('CLLocation.timestamp'),
  latitude: num('Degrees WGS84'),
  longitude: num('Degrees WGS84'),
  altitude: opt(num('Metres')),
  horizontalAccuracy: opt(num('Metres')),
  verticalAccuracy: opt(num('Metres')),
  speed: opt(num('m/s; negative when invalid')),
  course: opt(num('Degrees')),
});

const HealthKitHeartRateSampleSchema = z.looseObject({
  startDate: DateTimeInputSchema,
  endDate: opt(DateTimeInputSchema),
  value: num('Beats per minute unless `unit` says otherwise'),
  unit: opt(z.string()).describe('count/min (default) or count/s'),
});

export const HealthKitWorkoutSchema = z
  .looseObject({
    uuid: z.string().min(1).max(200).describe('HKWorkout.uuid: the external id'),
    workoutActivityType: z
      .union([z.string().min(1), z.int()])
      .describe('HKWorkoutActivityType raw value (37), Swift case (running) or Objective-C name (HKWorkoutActivityTypeRunning)'),
    startDate: DateTimeInputSchema,
    endDate: DateTimeInputSchema,
    duration: opt(num('Seconds (HKWorkout.duration)')),
    totalEnergyBurned: opt(HealthKitQuantitySchema),
    totalDistance: opt(HealthKitQuantitySchema),
    totalSwimmingStrokeCount: opt(HealthKitQuantitySchema),
    totalFlightsClimbed: opt(HealthKitQuantitySchema),
    statistics: opt(z.array(HealthKitStatisticSchema)),
    workoutEvents: opt(z.array(HealthKitEventSchema)),
    workoutActivities: opt(z.array(HealthKitWorkoutActivitySchema)).describe('iOS 16+: the legs of a multisport workout'),
    metadata: opt(z.record(z.string(), z.unknown())).describe(
      'HKMetadata: HKIndoorWorkout, HKTimeZone, HKSwimmingLocationType, HKLapLength, HKElevationAscended, HKAverageSpeed, HKMaximumSpeed, HKAverageMETs, HKWeatherTemperature, HKWorkoutBrandName …; quantities as {value, unit}',
    ),
    route: opt(z.array(HealthKitLocationSchema)).describe('HKWorkoutRoute locations, in time order'),
    heartRateSamples: opt(z.array(HealthKitHeartRateSampleSchema)),
    sourceRevision: opt(
      z.looseObject({
        source: opt(z.looseObject({ name: opt(z.string()), bundleIdentifier: opt(z.string()) })),
        version: opt(z.string()),
        productType: opt(z.string()),
        operatingSystemVersion: opt(z.string()),
      }),
    ),
    device: opt(
      z.looseObject({
        name: opt(z.string()),
        manufacturer: opt(z.string()),
        model: opt(z.string()),
        hardwareVersion: opt(z.string()),
        softwareVersion: opt(z.string()),
      }),
    ),
  })
  .describe('An HKWorkout as the mobile app serializes it (README "Syncing")')
  .meta({ id: 'HealthKitWorkout' });

// ---------------------------------------------------------------------------------------------
// Strava: a DetailedActivity exactly as GET /activities/{id} returns it, optionally with streams

const StravaStreamSchema = z.looseObject({
  type: opt(z.string()).describe('time, latlng, distance, altitude, velocity_smooth, heartrate, cadence, watts, temp, moving, grade_smooth'),
  data: z.array(z.unknown()).describe('One entry per sample; latlng entries are [lat, lng]; null entries are skipped'),
  series_type: opt(z.string()),
  original_size: opt(z.int()),
  resolution: opt(z.string()),
});

const StravaLapSchema = z.looseObject({
  id: opt(z.union([z.int(), z.string()])),
  name: opt(z.string()),
  lap_index: opt(z.int()),
  start_date: opt(DateTimeInputSchema),
  elapsed_time: opt(num('Seconds')),
  moving_time: opt(num('Seconds')),
  distance: opt(num('Metres')),
  average_speed: opt(num('m/s')),
  max_speed: opt(num('m/s')),
  average_heartrate: opt(num('bpm')),
  max_heartrate: opt(num('bpm')),
  average_watts: opt(num('W')),
  total_elevation_gain: opt(num('Metres')),
});

export const StravaActivitySchema = z
  .looseObject({
    id: z.union([z.int(), z.string().min(1)]).describe('Strava activity id: the external id'),
    name: opt(z.string()),
    description: opt(z.string()),
    sport_type: opt(z.string()).describe('SportType, e.g. TrailRun; older payloads have only `type`'),
    type: opt(z.string()).describe('Legacy ActivityType, e.g. Run'),
    trainer: opt(z.boolean()).describe('Recorded on a training machine (treadmill, indoor trainer)'),
    distance: opt(num('Metres')),
    moving_time: opt(num('Seconds')),
    elapsed_time: opt(num('Seconds')),
    total_elevation_gain: opt(num('Metres')),
    elev_high: opt(num('Metres')),
    elev_low: opt(num('Metres')),
    average_speed: opt(num('m/s')),
    max_speed: opt(num('m/s')),
    average_heartrate: opt(num('bpm')),
    max_heartrate: opt(num('bpm')),
    average_watts: opt(num('W')),
    weighted_average_watts: opt(num('W')),
    max_watts: opt(num('W')),
    kilojoules: opt(num('kJ of mechanical work (rides)')),
    calories: opt(num('kcal')),
    average_cadence: opt(num('rpm (rides) or steps/min per leg (runs: Strava halves it)')),
    average_temp: opt(num('°C')),
    suffer_score: opt(num('Relative effort')),
    start_date: DateTimeInputSchema.describe('UTC start'),
    start_date_local: opt(z.string()),
    timezone: opt(z.string()).describe('e.g. "(GMT+01:00) Europe/Berlin"'),
    device_name: opt(z.string()),
    laps: opt(z.array(StravaLapSchema)),
    splits_metric: opt(z.array(z.looseObject({}))),
    streams: opt(
      z.union([z.array(z.union([StravaStreamSchema, z.null()])), z.record(z.string(), z.union([StravaStreamSchema, z.null()]))]),
    ).describe('GET /activities/{id}/streams: the array form, or the object keyed by type (key_by_type=true)'),
  })
  .describe('A Strava DetailedActivity (GET /activities/{id}), optionally with `streams`')
  .meta({ id: 'StravaActivity' });

// ---------------------------------------------------------------------------------------------
// Garmin: an activity summary as the Garmin Health/Activity API pushes it, optionally with details,
// or an activity details item in Garmin's own nesting ({summaryId, activityId, summary, samples, laps})

const GarminSampleSchema = z
  .looseObject({
    startTimeInSeconds: z.number().describe('Epoch seconds'),
    heartRate: opt(num('bpm')),
    latitudeInDegree: opt(num('Degrees')),
    longitudeInDegree: opt(num('Degrees')),
    elevationInMeters: opt(num('Metres')),
    speedMetersPerSecond: opt(num('m/s')),
    powerInWatts: opt(num('W')),
    bikeCadenceInRPM: opt(num('rpm')),
    stepsPerMinute: opt(num('steps/min')),
    swimCadenceInStrokesPerMinute: opt(num('strokes/min')),
    wheelChairCadenceInPushesPerMinute: opt(num('pushes/min')),
    totalDistanceInMeters: opt(num('Metres, cumulative')),
    airTemperatureCelcius: opt(num('°C (Garmin’s spelling)')),
    timerDurationInSeconds: opt(num('Timer time since the start, seconds')),
    clockDurationInSeconds: opt(num('Clock time since the start, seconds')),
    movingDurationInSeconds: opt(num('Moving time since the start, seconds')),
  })
  .describe('One sample of an activity details push; Garmin sends 0 for a sensor the device does not have');

const GarminLapSchema = z.looseObject({ startTimeInSeconds: z.number().describe('Epoch seconds') }).describe('A lap start (other lap fields are kept in the event metadata)');

/** The fields of an activity summary, shared by the summary push and the `summary` of an activity details item. */
const garminSummaryFields = {
  activityId: opt(z.union([z.int(), z.string()])),
  activityType: z.string().min(1).describe('Garmin activity-type key, e.g. RUNNING, LAP_SWIMMING, MULTI_SPORT'),
  activityName: opt(z.string()),
  startTimeInSeconds: z.number().describe('Epoch seconds (UTC)'),
  startTimeOffsetInSeconds: opt(z.number()).describe('Local time minus UTC, seconds'),
  durationInSeconds: z.number().describe('Seconds'),
  distanceInMeters: opt(num('Metres')),
  activeKilocalories: opt(num('kcal')),
  averageHeartRateInBeatsPerMinute: opt(num('bpm')),
  maxHeartRateInBeatsPerMinute: opt(num('bpm')),
  averageSpeedInMetersPerSecond: opt(num('m/s')),
  maxSpeedInMetersPerSecond: opt(num('m/s')),
  averagePaceInMinutesPerKilometer: opt(num('min/km')),
  averageBikeCadenceInRoundsPerMinute: opt(num('rpm')),
  averageRunCadenceInStepsPerMinute: opt(num('steps/min')),
  averagePowerInWatts: opt(num('W')),
  totalElevationGainInMeters: opt(num('Metres')),
  totalElevationLossInMeters: opt(num('Metres')),
  steps: opt(z.number()),
  deviceName: opt(z.string()),
  manual: opt(z.boolean()),
  isParent: opt(z.boolean()).describe('A multisport parent'),
  parentSummaryId: opt(z.union([z.string(), z.int()])).describe('A multisport leg: its parent’s summaryId'),
};

export const GarminActivitySchema = z
  .looseObject({
    summaryId: z.union([z.string().min(1), z.int()]).describe('The external id'),
    ...garminSummaryFields,
    samples: opt(z.array(GarminSampleSchema)).describe('From the activity details push'),
    laps: opt(z.array(GarminLapSchema)),
  })
  .describe('A Garmin Health/Activity API activity summary (push key `activities` or `manuallyUpdatedActivities`), optionally with its details (`samples`, `laps`)')
  .meta({ id: 'GarminActivity' });

export const GarminActivityDetailsSchema = z
  .looseObject({
    summaryId: z
      .union([z.string().min(1), z.int()])
      .describe('The details’ summaryId; a trailing `-detail` is dropped, so the summary and its details are one activity (the external id)'),
    activityId: opt(z.union([z.int(), z.string()])),
    summary: z.looseObject({ summaryId: opt(z.union([z.string().min(1), z.int()])), ...garminSummaryFields }).describe('The activity summary'),
    samples: opt(z.array(GarminSampleSchema)).describe('Samples, as frequent as once per second: streams'),
    laps: opt(z.array(GarminLapSchema)).describe('Lap starts: lap events'),
  })
  .describe('A Garmin Health/Activity API activity details item (push key `activityDetails`), in Garmin’s own nesting')
  .meta({ id: 'GarminActivityDetails' });

/**
 * Garmin push keys (the body's top-level field names the summary type). `activities`,
 * `manuallyUpdatedActivities` and `activityDetails` hold workouts; every other key holds wellness
 * summaries that are never activities: their items are answered `ignored`.
 */
export const GARMIN_WORKOUT_KEYS = ['activityDetails', 'manuallyUpdatedActivities'] as const;
export const GARMIN_WELLNESS_KEYS = [
  'dailies',
  'epochs',
  'moveIQActivities',
  'sleeps',
  'bodyComps',
  'stressDetails',
  'userMetrics',
  'pulseox',
  'pulseOx',
  'respiration',
  'allDayRespiration',
  'hrv',
  'bloodPressures',
  'healthSnapshot',
  'skinTemp',
  'thirdPartyDailies',
  'menstrualCycleTracking',
  'solarIntensity',
] as const;
export type GarminPushKey = (typeof GARMIN_WORKOUT_KEYS)[number] | (typeof GARMIN_WELLNESS_KEYS)[number];

// ---------------------------------------------------------------------------------------------
// Health Connect: an ExerciseSessionRecord as the Android app serializes it

const ZoneOffsetSchema = z
  .union([
    z.string().regex(/^(Z|[+-]\d{2}:\d{2}(:\d{2})?)$/, 'must be Z or ±HH:MM'),
    z.int().min(-64800).max(64800),
    z.looseObject({ id: opt(z.string()), totalSeconds: z.int().min(-64800).max(64800) }),
  ])
  .describe('java.time.ZoneOffset: "+02:00", total seconds, or react-native-health-connect’s {id, totalSeconds}');

/** A Length: the Kotlin shape {inMeters}; react-native-health-connect adds inKilometers, inMiles… and writes 0 for a missing one. */
const LengthSchema = z.looseObject({ inMeters: z.number() });

export const HealthConnectSessionSchema = z
  .looseObject({
    recordType: opt(z.string()).describe('react-native-health-connect’s record type: ExerciseSession (other types are answered `ignored`)'),
    startTime: DateTimeInputSchema.describe('Instant'),
    endTime: DateTimeInputSchema.describe('Instant'),
    startZoneOffset: opt(ZoneOffsetSchema),
    endZoneOffset: opt(ZoneOffsetSchema),
    exerciseType: z.union([z.int(), z.string()]).describe('ExerciseSessionRecord.EXERCISE_TYPE_* value (56) or name'),
    title: opt(z.string()),
    notes: opt(z.string()),
    segments: opt(
      z.array(z.looseObject({ startTime: DateTimeInputSchema, endTime: DateTimeInputSchema, segmentType: z.union([z.int(), z.string()]), repetitions: opt(z.int()) })),
    ),
    laps: opt(z.array(z.looseObject({ startTime: DateTimeInputSchema, endTime: DateTimeInputSchema, length: opt(LengthSchema) }))),
    exerciseRoute: opt(
      z.looseObject({
        type: opt(z.string()).describe('react-native-health-connect: DATA, NO_DATA or CONSENT_REQUIRED'),
        route: z.array(
          z.looseObject({
            time: DateTimeInputSchema,
            latitude: z.number(),
            longitude: z.number(),
            altitude: opt(LengthSchema),
            horizontalAccuracy: opt(LengthSchema),
            verticalAccuracy: opt(LengthSchema),
          }),
        ),
      }),
    ),
    metadata: z.looseObject({
      id: z.string().min(1).max(200).describe('Health Connect record id: the external id'),
      clientRecordId: opt(z.string()),
      clientRecordVersion: opt(z.number()),
      dataOrigin: opt(z.union([z.string(), z.looseObject({ packageName: opt(z.string()) })])).describe('The writing app: its package name (react-native-health-connect) or {packageName}'),
      device: opt(z.union([z.int(), z.looseObject({ manufacturer: opt(z.string()), model: opt(z.string()), type: opt(z.int()) })])).describe(
        'Device: {manufacturer, model, type}, or the device type alone (older react-native-health-connect)',
      ),
      manufacturer: opt(z.string()).describe('react-native-health-connect repeats the device’s manufacturer here'),
      model: opt(z.string()).describe('react-native-health-connect repeats the device’s model here'),
      recordingMethod: opt(z.int()).describe('0 unknown, 1 actively recorded, 2 automatically recorded, 3 manual entry'),
      lastModifiedTime: opt(z.string()),
    }),
    heartRateSamples: opt(z.array(z.looseObject({ time: DateTimeInputSchema, beatsPerMinute: z.number() }))).describe(
      'HeartRateRecord samples of the session, flattened',
    ),
    totalEnergyBurned: opt(z.looseObject({ inKilocalories: z.number() })),
    totalDistance: opt(LengthSchema),
  })
  .describe(
    'A Health Connect ExerciseSessionRecord as the Android app serializes it (the Kotlin/JSON shape or react-native-health-connect’s), optionally with heart-rate samples. ' +
      'Other records (Distance, Steps, HeartRate…) are answered `ignored` with their record type.',
  )
  .meta({ id: 'HealthConnectExerciseSession' });

export const PROVIDER_PAYLOAD_SCHEMAS = {
  healthkit: HealthKitWorkoutSchema,
  strava: StravaActivitySchema,
  garmin: z.union([GarminActivitySchema, GarminActivityDetailsSchema]).describe('A Garmin activity summary or activity details item').meta({ id: 'GarminPayload' }),
  health_connect: HealthConnectSessionSchema,
} as const;

export type SyncSource = keyof typeof PROVIDER_PAYLOAD_SCHEMAS;
export const SYNC_SOURCES = Object.keys(PROVIDER_PAYLOAD_SCHEMAS) as SyncSource[];

export type HealthKitWorkout = z.output<typeof HealthKitWorkoutSchema>;
export type StravaActivity = z.output<typeof StravaActivitySchema>;
export type GarminActivity = z.output<typeof GarminActivitySchema>;
export type GarminActivityDetails = z.output<typeof GarminActivityDetailsSchema>;
export type HealthConnectSession = z.output<typeof HealthConnectSessionSchema>;
