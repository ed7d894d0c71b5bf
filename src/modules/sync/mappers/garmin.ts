/**
 * Garmin: an activity summary as the Garmin Health/Activity API pushes it (+ optional details), or an
 * activity details item in Garmin's own nesting → the unified model. Wellness summaries (dailies,
 * epochs, Move IQ…) are recognised and never become activities (docs/data-model.md §6).
 */
import { fromCanonical, toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import type { GarminActivity, GarminActivityDetails, StatisticKey, StatisticUnit } from '@unified-activity/contract';
import type { ScalarStreamType } from '../../streams/stream-types.js';
import { EMPTY_FIELDS, MappingError, type IgnoredItem, type NormalizedActivity, type NormalizedStatistic, type NormalizedStream } from './normalized.js';

export interface GarminActivityType {
  activityType: string;
  /** The Garmin key exactly as sent. */
  sourceActivityType: string;
  isIndoor?: boolean;
}

/** Garmin keys that say "indoors" in their name; the unified indoor flag follows them. */
const INDOOR_KEYS = /^(TREADMILL_|INDOOR_|VIRTUAL_|LAP_SWIMMING$|FLOOR_CLIMBING$|STAIR_CLIMBING$|ELLIPTICAL$)/;

export function garminActivityType(activityType: string): GarminActivityType {
  const match = toCanonical('garmin', activityType);
  const key = activityType.trim().toUpperCase();
  return { activityType: match.slug, sourceActivityType: activityType, ...(INDOOR_KEYS.test(key) ? { isIndoor: true } : {}) };
}

export function garminProviderType(activityType: string, sourceActivityType: string | null): string {
  return sourceActivityType || fromCanonical('garmin', activityType).typeKey;
}

/**
 * startTimeOffsetInSeconds gives the local offset, not the zone: a whole-hour offset becomes the
 * IANA `Etc/GMT∓N` zone (whose sign is inverted by POSIX convention); anything else stays null
 * (unknown). An offset of 0 is null too: it is also what is sent when the offset is not known, so
 * it does not prove UTC (docs/data-model.md §9, "Time zones").
 */
export function garminTimeZone(offsetSeconds: number | null | undefined): string | null {
  if (typeof offsetSeconds !== 'number' || offsetSeconds % 3600 !== 0) return null;
  const hours = offsetSeconds / 3600;
  if (hours === 0) return null;
  if (hours < -12 || hours > 14) return null;
  return `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
}

type GarminSample = NonNullable<GarminActivity['samples']>[number];
type SampleField = keyof GarminSample & string;

/**
 * Sample fields → streams (§9 units: Garmin's are already m, m/s, W, bpm, °C). Cadence comes from
 * one field: the first of the list that the samples carry.
 */
const SAMPLE_STREAMS: [SampleField, ScalarStreamType][] = [
  ['heartRate', 'heart_rate'],
  ['elevationInMeters', 'altitude'],
  ['speedMetersPerSecond', 'speed'],
  ['powerInWatts', 'power'],
  ['bikeCadenceInRPM', 'cadence'],
  ['stepsPerMinute', 'cadence'],
  ['swimCadenceInStrokesPerMinute', 'cadence'],
  ['wheelChairCadenceInPushesPerMinute', 'cadence'],
  ['totalDistanceInMeters', 'distance'],
  ['airTemperatureCelcius', 'temperature'],
];

/**
 * Garmin fills a sensor the device lacks with 0 in every sample (a run has `bikeCadenceInRPM: 0`,
 * a watch without a power meter `powerInWatts: 0`). For these fields a value that is 0 in every
 * sample is "not recorded", not a measurement; a 0 among other values is kept.
 */
const ZERO_MEANS_ABSENT = new Set<SampleField>(['heartRate', 'powerInWatts', 'bikeCadenceInRPM', 'stepsPerMinute', 'swimCadenceInStrokesPerMinute', 'wheelChairCadenceInPushesPerMinute']);

function streams(samples: GarminActivity['samples']): NormalizedStream[] {
  if (!samples || samples.length === 0) return [];
  const out: NormalizedStream[] = [];
  const seen = new Set<ScalarStreamType>();
  for (const [field, type] of SAMPLE_STREAMS) {
    if (seen.has(type)) continue;
    const keep = samples.filter((s) => typeof s[field] === 'number');
    if (keep.length === 0) continue;
    if (ZERO_MEANS_ABSENT.has(field) && keep.every((s) => s[field] === 0)) continue;
    seen.add(type);
    out.push({
      type,
      path: ['samples'],
      samples: { timestamps: Float64Array.from(keep, (s) => s.startTimeInSeconds * 1000), values: Float64Array.from(keep, (s) => s[field] as number) },
    });
  }
  const fixes = samples.filter((s) => typeof s.latitudeInDegree === 'number' && typeof s.longitudeInDegree === 'number');
  if (fixes.length > 0) {
    out.push({
      type: 'position',
      path: ['samples'],
      samples: {
        timestamps: Float64Array.from(fixes, (s) => s.startTimeInSeconds * 1000),
        latitude: Float64Array.from(fixes, (s) => s.latitudeInDegree!),
        longitude: Float64Array.from(fixes, (s) => s.longitudeInDegree!),
        // §10 "a value is stored once": a sample's elevation is in the altitude stream, at the same instant.
        altitudeM: null,
        horizontalAccuracyM: null,
      },
    });
  }
  return out;
}

/** A lap: its start; whatever else Garmin says about it (distance, timer duration…) stays in the metadata. */
function lapEvents(laps: GarminActivity['laps']) {
  return (laps ?? []).map(({ startTimeInSeconds, ...rest }) => ({
    eventType: 'lap' as const,
    startTime: new Date(startTimeInSeconds * 1000),
    endTime: null,
    metadata: Object.keys(rest).length > 0 ? rest : null,
  }));
}

/** The external id of an activity details item: its summaryId without Garmin's `-detail` suffix, so the summary push and the details push are one activity. */
export const garminDetailsExternalId = (summaryId: string | number) => String(summaryId).replace(/-detail$/, '');

/** Garmin's activity details nesting ({summaryId, activityId, summary, samples, laps}) as one summary with its details. */
export function flattenGarminDetails(details: GarminActivityDetails): GarminActivity {
  const { summary, samples, laps, summaryId, activityId } = details;
  return {
    ...summary,
    summaryId: garminDetailsExternalId(summaryId),
    activityId: summary.activityId ?? activityId,
    samples,
    laps,
    isParent: summary.isParent ?? (details['isParent'] as boolean | undefined),
    parentSummaryId: summary.parentSummaryId ?? (details['parentSummaryId'] as string | undefined),
  };
}

/** Fields only Garmin's wellness summaries carry, by summary type (push key); an activity summary has none of them. */
const WELLNESS_MARKERS: [string, string[]][] = [
  ['sleeps', ['deepSleepDurationInSeconds', 'lightSleepDurationInSeconds', 'remSleepInSeconds', 'awakeDurationInSeconds', 'sleepLevelsMap']],
  ['moveIQActivities', ['activitySubType', 'offsetInSeconds']],
  ['dailies', ['bmrKilocalories', 'stepsGoal', 'restingHeartRateInBeatsPerMinute', 'floorsClimbedGoal', 'intensityDurationGoalInSeconds', 'moderateIntensityDurationInSeconds', 'timeOffsetHeartRateSamples']],
  ['epochs', ['intensity', 'meanMotionIntensity', 'maxMotionIntensity', 'met', 'activeTimeInSeconds']],
  ['stressDetails', ['timeOffsetStressLevelValues', 'timeOffsetBodyBatteryValues']],
  ['hrv', ['hrvValues', 'lastNightAvg']],
  ['userMetrics', ['vo2Max', 'fitnessAge']],
  ['bodyComps', ['weightInGrams', 'bodyFatInPercent', 'muscleMassInGrams']],
  ['pulseox', ['timeOffsetSpo2Values']],
  ['allDayRespiration', ['timeOffsetEpochToBreaths']],
];

const WELLNESS_WORDS: Record<string, string> = {
  dailies: 'a daily summary',
  epochs: 'an epoch (15-minute wellness) summary',
  moveIQActivities: 'a Move IQ event (detected automatically, not started by the athlete)',
  sleeps: 'a sleep summary',
  stressDetails: 'a stress details summary',
  hrv: 'an HRV summary',
  userMetrics: 'a user metrics summary',
  bodyComps: 'a body composition summary',
  pulseox: 'a pulse ox summary',
  allDayRespiration: 'a respiration summary',
};

/**
 * Whether a Garmin item is not a workout. Under a wellness push key it never is; in `activities`
 * (a bare item) it is not when it carries a field only wellness summaries have (calendarDate, and
 * those of WELLNESS_MARKERS). Only a recognised wellness summary is ignored.
 */
export function garminNotAWorkout(item: Record<string, unknown>, field: string): IgnoredItem | undefined {
  const externalId = item['summaryId'] === undefined || item['summaryId'] === null ? null : String(item['summaryId']);
  if (field !== 'activities' && field !== 'activityDetails' && field !== 'manuallyUpdatedActivities') {
    return { externalId, itemType: field, reason: `${WELLNESS_WORDS[field] ?? `a Garmin "${field}" summary`}, not a workout` };
  }
  if (field === 'activityDetails' || (typeof item['summary'] === 'object' && item['summary'] !== null)) return undefined;
  for (const [type, markers] of WELLNESS_MARKERS) {
    const found = markers.filter((marker) => marker in item);
    if (found.length > 0) return { externalId, itemType: type, reason: `${WELLNESS_WORDS[type]} (it has ${found.join(', ')}), not a workout` };
  }
  if ('calendarDate' in item) return { externalId, itemType: 'wellness', reason: 'a Garmin wellness summary (it has calendarDate, which activity summaries do not), not a workout' };
  // Anything else is meant as an activity summary: a broken one is a 422 at its field, never silently ignored.
  return undefined;
}

/** A summary or a details item (the contract's GarminPayload) → the unified model. */
export function mapGarminPayload(item: GarminActivity | GarminActivityDetails): NormalizedActivity {
  return 'summary' in item && typeof item.summary === 'object' && item.summary !== null
    ? mapGarminActivity(flattenGarminDetails(item as GarminActivityDetails), ['summary'])
    : mapGarminActivity(item as GarminActivity);
}

export function mapGarminActivity(activity: GarminActivity, summaryPath: (string | number)[] = []): NormalizedActivity {
  if (activity.durationInSeconds < 0) throw new MappingError([...summaryPath, 'durationInSeconds'], 'must not be negative');
  const type = garminActivityType(activity.activityType);
  const startTime = new Date(activity.startTimeInSeconds * 1000);
  const endTime = new Date((activity.startTimeInSeconds + activity.durationInSeconds) * 1000);
  const statistics: NormalizedStatistic[] = [];
  const stat = (key: StatisticKey, unit: StatisticUnit, value: number | null | undefined) => {
    if (typeof value === 'number') statistics.push({ key, unit, value });
  };
  stat('avg_cadence_rpm', 'rpm', activity.averageBikeCadenceInRoundsPerMinute);
  stat('avg_cadence_spm', 'steps/min', activity.averageRunCadenceInStepsPerMinute);
  stat('avg_power_w', 'W', activity.averagePowerInWatts);
  stat('total_steps', 'count', activity.steps);
  return {
    ...EMPTY_FIELDS,
    externalId: String(activity.summaryId),
    parentExternalId: activity.parentSummaryId === null || activity.parentSummaryId === undefined ? null : String(activity.parentSummaryId),
    activityType: type.activityType,
    sourceActivityType: type.sourceActivityType,
    isIndoor: type.isIndoor ?? null,
    name: activity.activityName ?? null,
    startTime,
    endTime,
    timeZone: garminTimeZone(activity.startTimeOffsetInSeconds),
    durationS: activity.durationInSeconds,
    distanceM: activity.distanceInMeters ?? null,
    activeEnergyKcal: activity.activeKilocalories ?? null,
    avgHeartRateBpm: activity.averageHeartRateInBeatsPerMinute ?? null,
    maxHeartRateBpm: activity.maxHeartRateInBeatsPerMinute ?? null,
    elevationGainM: activity.totalElevationGainInMeters ?? null,
    elevationLossM: activity.totalElevationLossInMeters ?? null,
    avgSpeedMS: activity.averageSpeedInMetersPerSecond ?? null,
    maxSpeedMS: activity.maxSpeedInMetersPerSecond ?? null,
    deviceName: activity.deviceName ?? null,
    statistics,
    events: lapEvents(activity.laps),
    children: [],
    streams: streams(activity.samples),
  };
}
