/** Strava: a DetailedActivity (GET /activities/{id}), optionally with its streams → the unified model. */
import { fromCanonical, toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import { isTimeZone, type StatisticKey, type StatisticUnit, type StravaActivity } from '@unified-activity/contract';
import type { ScalarStreamType } from '../../streams/stream-types.js';
import { EMPTY_FIELDS, MappingError, type NormalizedActivity, type NormalizedEvent, type NormalizedStatistic, type NormalizedStream } from './normalized.js';
import { tidy } from './units.js';

export interface StravaActivityType {
  activityType: string;
  /** `sport_type`, or the legacy `type` when an old payload has no sport_type. */
  sourceActivityType: string;
  isIndoor?: boolean;
}

/** Canonical slug for a Strava sport_type (or legacy type) and the trainer flag. */
export function stravaActivityType(sportType: string, trainer?: boolean | null): StravaActivityType {
  const match = toCanonical('strava', sportType, { trainer });
  return { activityType: match.slug, sourceActivityType: sportType, ...(trainer === true ? { isIndoor: true } : {}) };
}

/** Back to Strava: the stored original sport_type, else the catalog's outbound value (with its trainer flag). */
export function stravaProviderType(activityType: string, sourceActivityType: string | null): { sportType: string; trainer?: true } {
  if (sourceActivityType) {
    const outbound = fromCanonical('strava', activityType);
    return { sportType: sourceActivityType, ...(outbound.trainer && outbound.sportType === sourceActivityType ? { trainer: true as const } : {}) };
  }
  const { sportType, trainer } = fromCanonical('strava', activityType);
  return { sportType, ...(trainer ? { trainer } : {}) };
}

/** "(GMT+01:00) Europe/Berlin" → "Europe/Berlin"; anything unusable → null (unknown, docs/data-model.md §9). */
export function stravaTimeZone(value: string | null | undefined): string | null {
  if (!value) return null;
  const zone = value.replace(/^\(GMT[+-]\d{2}:\d{2}\)\s*/, '').trim();
  return isTimeZone(zone) ? zone : null;
}

type StravaStream = { type?: string | null; data: unknown[] };

/** Both answer forms of GET /activities/{id}/streams, with null entries (real responses have them) skipped. */
export function stravaStreams(value: StravaActivity['streams']): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  if (!value) return out;
  const entries: [string | null | undefined, StravaStream | null][] = Array.isArray(value)
    ? value.map((stream) => [stream?.type, stream])
    : Object.entries(value).map(([key, stream]) => [stream?.type ?? key, stream]);
  for (const [type, stream] of entries) if (type && stream && Array.isArray(stream.data)) out.set(type, stream.data);
  return out;
}

const SCALAR_STREAMS: Record<string, ScalarStreamType> = {
  heartrate: 'heart_rate',
  altitude: 'altitude',
  velocity_smooth: 'speed',
  watts: 'power',
  cadence: 'cadence',
  distance: 'distance',
  temp: 'temperature',
};

function streams(activity: StravaActivity, startMs: number): NormalizedStream[] {
  const byType = stravaStreams(activity.streams);
  const time = byType.get('time');
  if (!time) return [];
  const out: NormalizedStream[] = [];
  const indexes = (data: unknown[], ok: (v: unknown) => boolean) => {
    const keep: number[] = [];
    for (let i = 0; i < Math.min(time.length, data.length); i++) if (typeof time[i] === 'number' && ok(data[i])) keep.push(i);
    return keep;
  };
  for (const [stravaType, type] of Object.entries(SCALAR_STREAMS)) {
    const data = byType.get(stravaType);
    if (!data) continue;
    const keep = indexes(data, (v) => typeof v === 'number');
    if (keep.length === 0) continue;
    out.push({
      type,
      path: ['streams', stravaType],
      samples: {
        timestamps: Float64Array.from(keep, (i) => startMs + (time[i] as number) * 1000),
        values: Float64Array.from(keep, (i) => data[i] as number),
      },
    });
  }
  const latlng = byType.get('latlng');
  if (latlng) {
    const keep = indexes(latlng, (v) => Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number');
    if (keep.length > 0) {
      out.push({
        type: 'position',
        path: ['streams', 'latlng'],
        samples: {
          timestamps: Float64Array.from(keep, (i) => startMs + (time[i] as number) * 1000),
          latitude: Float64Array.from(keep, (i) => (latlng[i] as number[])[0]!),
          longitude: Float64Array.from(keep, (i) => (latlng[i] as number[])[1]!),
          altitudeM: null,
          horizontalAccuracyM: null,
        },
      });
    }
  }
  return out;
}

function laps(activity: StravaActivity): NormalizedEvent[] {
  return (activity.laps ?? []).flatMap((lap) => {
    if (!lap.start_date) return [];
    const seconds = lap.elapsed_time ?? null;
    const metadata: Record<string, unknown> = {};
    if (lap.name) metadata.name = lap.name;
    if (lap.distance !== null && lap.distance !== undefined) metadata.distanceM = lap.distance;
    if (lap.moving_time !== null && lap.moving_time !== undefined) metadata.movingTimeS = lap.moving_time;
    if (lap.average_heartrate) metadata.avgHeartRateBpm = lap.average_heartrate;
    if (lap.average_watts) metadata.avgPowerW = lap.average_watts;
    return [{ eventType: 'lap' as const, startTime: lap.start_date, endTime: seconds === null ? null : new Date(lap.start_date.getTime() + seconds * 1000), metadata }];
  });
}

export function mapStravaActivity(activity: StravaActivity): NormalizedActivity {
  const original = activity.sport_type ?? activity.type;
  if (!original) throw new MappingError(['sport_type'], 'a Strava activity needs sport_type (or the legacy type)');
  const type = stravaActivityType(original, activity.trainer);
  const elapsed = activity.elapsed_time ?? activity.moving_time ?? 0;
  if (elapsed < 0) throw new MappingError(['elapsed_time'], 'must not be negative');
  const startTime = activity.start_date;
  const endTime = new Date(startTime.getTime() + elapsed * 1000);
  const isRun = /run/i.test(original);
  const statistics: NormalizedStatistic[] = [];
  const stat = (key: StatisticKey, unit: StatisticUnit, value: number | null | undefined) => {
    if (typeof value === 'number') statistics.push({ key, unit, value: tidy(value) });
  };
  stat('avg_power_w', 'W', activity.average_watts);
  stat('normalized_power_w', 'W', activity.weighted_average_watts);
  stat('max_power_w', 'W', activity.max_watts);
  stat('work_kj', 'kJ', activity.kilojoules);
  // Strava reports running cadence per leg; steps/min counts both feet (§9).
  if (typeof activity.average_cadence === 'number') {
    if (isRun) stat('avg_cadence_spm', 'steps/min', activity.average_cadence * 2);
    else stat('avg_cadence_rpm', 'rpm', activity.average_cadence);
  }
  stat('avg_temperature_c', '°C', activity.average_temp);
  stat('relative_effort', 'score', activity.suffer_score);
  stat('max_elevation_m', 'm', activity.elev_high);
  stat('min_elevation_m', 'm', activity.elev_low);
  return {
    ...EMPTY_FIELDS,
    externalId: String(activity.id),
    parentExternalId: null,
    activityType: type.activityType,
    sourceActivityType: type.sourceActivityType,
    isIndoor: activity.trainer ?? null,
    name: activity.name ?? null,
    notes: activity.description ?? null,
    startTime,
    endTime,
    timeZone: stravaTimeZone(activity.timezone),
    durationS: activity.elapsed_time ?? null,
    movingTimeS: activity.moving_time ?? null,
    distanceM: activity.distance ?? null,
    // kilojoules is mechanical work, not energy burned; only `calories` is kcal.
    activeEnergyKcal: activity.calories ?? null,
    avgHeartRateBpm: activity.average_heartrate ?? null,
    maxHeartRateBpm: activity.max_heartrate ?? null,
    elevationGainM: activity.total_elevation_gain ?? null,
    avgSpeedMS: activity.average_speed ?? null,
    maxSpeedMS: activity.max_speed ?? null,
    deviceName: activity.device_name ?? null,
    statistics,
    events: laps(activity),
    children: [],
    streams: streams(activity, startTime.getTime()),
  };
}
