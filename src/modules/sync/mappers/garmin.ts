/** Garmin: an activity summary as the Garmin Health/Activity API pushes it (+ optional details) → the unified model. */
import { fromCanonical, toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import type { GarminActivity } from '@unified-activity/contract';
import type { ScalarStreamType } from '../../streams/stream-types.js';
import { EMPTY_FIELDS, MappingError, type NormalizedActivity, type NormalizedStatistic, type NormalizedStream } from './normalized.js';

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

const SAMPLE_STREAMS: [keyof NonNullable<GarminActivity['samples']>[number], ScalarStreamType][] = [
  ['heartRate', 'heart_rate'],
  ['elevationInMeters', 'altitude'],
  ['speedMetersPerSecond', 'speed'],
  ['powerInWatts', 'power'],
  ['bikeCadenceInRPM', 'cadence'],
  ['stepsPerMinute', 'cadence'],
  ['totalDistanceInMeters', 'distance'],
  ['airTemperatureCelcius', 'temperature'],
];

function streams(samples: GarminActivity['samples']): NormalizedStream[] {
  if (!samples || samples.length === 0) return [];
  const out: NormalizedStream[] = [];
  const seen = new Set<ScalarStreamType>();
  for (const [field, type] of SAMPLE_STREAMS) {
    if (seen.has(type)) continue;
    const keep = samples.filter((s) => typeof s[field] === 'number');
    if (keep.length === 0) continue;
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
        altitudeM: fixes.some((s) => typeof s.elevationInMeters === 'number') ? Float64Array.from(fixes, (s) => s.elevationInMeters ?? Number.NaN) : null,
        horizontalAccuracyM: null,
      },
    });
  }
  return out;
}

export function mapGarminActivity(activity: GarminActivity): NormalizedActivity {
  if (activity.durationInSeconds < 0) throw new MappingError(['durationInSeconds'], 'must not be negative');
  const type = garminActivityType(activity.activityType);
  const startTime = new Date(activity.startTimeInSeconds * 1000);
  const endTime = new Date((activity.startTimeInSeconds + activity.durationInSeconds) * 1000);
  const statistics: NormalizedStatistic[] = [];
  const stat = (key: string, unit: string, value: number | null | undefined) => {
    if (typeof value === 'number') statistics.push({ key, unit, value });
  };
  stat('avg_cadence_rpm', 'rpm', activity.averageBikeCadenceInRoundsPerMinute);
  stat('avg_cadence_spm', 'steps/min', activity.averageRunCadenceInStepsPerMinute);
  stat('avg_power_w', 'W', activity.averagePowerInWatts);
  stat('total_steps', 'count', activity.steps);
  const laps = (activity.laps ?? []).map((lap) => ({ eventType: 'lap' as const, startTime: new Date(lap.startTimeInSeconds * 1000), endTime: null, metadata: null }));
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
    events: laps,
    children: [],
    streams: streams(activity.samples),
  };
}
