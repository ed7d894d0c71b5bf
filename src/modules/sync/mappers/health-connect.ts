/**
 * Health Connect: an ExerciseSessionRecord as the Android app serializes it → the unified model.
 * Two serialisations are read: the Kotlin/JSON one ({packageName} data origin, Length objects) and
 * react-native-health-connect's (data origin a package-name string, device an object or an older
 * number, zone offsets as {id, totalSeconds}, a Length of 0 for a missing one). Other records are
 * recognised and answered `ignored` (docs/data-model.md §6).
 */
import { fromCanonical, toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import type { HealthConnectSession } from '@unified-activity/contract';
import { EMPTY_FIELDS, MappingError, type IgnoredItem, type NormalizedActivity, type NormalizedEvent, type NormalizedStream } from './normalized.js';

export interface HealthConnectActivityType {
  activityType: string;
  /** The exerciseType exactly as sent (the Int constant as a string, or the constant's name). */
  sourceActivityType: string;
  isIndoor?: boolean;
}

const INDOOR_TYPES = new Set(['RUNNING_TREADMILL', 'BIKING_STATIONARY', 'ROWING_MACHINE', 'STAIR_CLIMBING_MACHINE', 'SWIMMING_POOL']);

export function healthConnectActivityType(exerciseType: string | number): HealthConnectActivityType {
  const match = toCanonical('health_connect', exerciseType);
  const outbound = fromCanonical('health_connect', match.slug);
  const indoor = match.known && INDOOR_TYPES.has(outbound.constant);
  return { activityType: match.slug, sourceActivityType: String(exerciseType), ...(indoor ? { isIndoor: true } : {}) };
}

/** Back to Health Connect: the stored original (an Int comes back as a number), else the catalog's Int constant. */
export function healthConnectProviderType(activityType: string, sourceActivityType: string | null): string | number {
  if (sourceActivityType) return /^\d+$/.test(sourceActivityType) ? Number(sourceActivityType) : sourceActivityType;
  return fromCanonical('health_connect', activityType).value;
}

/** ZoneOffset ("+02:00" or seconds) → a fixed-offset IANA zone when it is whole hours, else null. */
export function zoneFromOffset(offset: string | number | null | undefined): string | null {
  if (offset === null || offset === undefined) return null;
  let seconds: number;
  if (typeof offset === 'number') seconds = offset;
  else if (offset === 'Z') seconds = 0;
  else {
    const [, sign, hh, mm] = /^([+-])(\d{2}):(\d{2})/.exec(offset) ?? [];
    seconds = (sign === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm) * 60);
  }
  if (seconds % 3600 !== 0) return null;
  const hours = seconds / 3600;
  // Offset 0 does not prove UTC (it is also a missing offset's default): unknown (docs/data-model.md §9).
  if (hours === 0) return null;
  return `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
}

type Offset = HealthConnectSession['startZoneOffset'];

/** react-native-health-connect sends a ZoneOffset as {id, totalSeconds}: its seconds are the offset. */
const offsetValue = (offset: Offset): string | number | null | undefined => (typeof offset === 'object' && offset !== null ? offset.totalSeconds : offset);

/**
 * react-native-health-connect writes a missing Length as 0 m (lengthToJsMap). An accuracy or a lap
 * length of 0 is no measurement, so 0 reads as absent there; an altitude of 0 is sea level and is
 * kept unless the whole route says 0 with no vertical accuracy (the library's placeholder).
 */
const positiveLength = (length: { inMeters: number } | null | undefined) => (length && length.inMeters > 0 ? length.inMeters : null);

/** Record types by the field that holds their value, for records sent without `recordType`. */
const RECORD_TYPE_BY_FIELD: [string, string][] = [
  ['distance', 'Distance'],
  ['count', 'Steps'],
  ['energy', 'ActiveCaloriesBurned or TotalCaloriesBurned'],
  ['floors', 'FloorsClimbed'],
  ['elevation', 'ElevationGained'],
  ['stages', 'SleepSession'],
  ['weight', 'Weight'],
  ['height', 'Height'],
  ['volume', 'Hydration'],
  ['percentage', 'OxygenSaturation or BodyFat'],
  ['beatsPerMinute', 'RestingHeartRate'],
  ['heartRateVariabilityMillis', 'HeartRateVariabilityRmssd'],
  ['samples', 'a series record (HeartRate, Speed, Power, StepsCadence…)'],
];

const SESSION_TYPES = new Set(['ExerciseSession', 'ExerciseSessionRecord']);

/**
 * Whether a Health Connect item is some other record than an exercise session: by its
 * `recordType` (react-native-health-connect's name, or the Kotlin class name), else, without an
 * `exerciseType`, by the field that holds its value. A session missing fields is not "another
 * record": it fails with its path.
 */
export function healthConnectNotASession(item: Record<string, unknown>): IgnoredItem | undefined {
  const metadata = item['metadata'];
  const id = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>)['id'] : undefined;
  const externalId = typeof id === 'string' ? id : null;
  const recordType = item['recordType'];
  if (typeof recordType === 'string' && recordType.length > 0) {
    if (SESSION_TYPES.has(recordType)) return undefined;
    const name = recordType.replace(/Record$/, '');
    return { externalId, itemType: name, reason: `a ${name} record, not an exercise session` };
  }
  if ('exerciseType' in item) return undefined;
  const found = RECORD_TYPE_BY_FIELD.find(([field]) => field in item);
  if (!found) return undefined;
  return { externalId, itemType: found[1], reason: `a ${found[1]} record (it has ${found[0]} and no exerciseType), not an exercise session` };
}

function deviceNameOf(metadata: HealthConnectSession['metadata']): string | null {
  const device = typeof metadata.device === 'object' && metadata.device !== null ? metadata.device : null;
  const parts = [device?.manufacturer ?? metadata.manufacturer, device?.model ?? metadata.model].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : null;
}

export function mapHealthConnectSession(session: HealthConnectSession): NormalizedActivity {
  if (session.endTime < session.startTime) throw new MappingError(['endTime'], 'must not be before startTime');
  const type = healthConnectActivityType(session.exerciseType);
  const events: NormalizedEvent[] = [
    ...(session.laps ?? []).map((lap) => ({
      eventType: 'lap' as const,
      startTime: lap.startTime,
      endTime: lap.endTime,
      metadata: positiveLength(lap.length) !== null ? { distanceM: lap.length!.inMeters } : null,
    })),
    ...(session.segments ?? []).map((segment) => ({
      eventType: 'segment' as const,
      startTime: segment.startTime,
      endTime: segment.endTime,
      metadata: { segmentType: segment.segmentType, ...(segment.repetitions ? { repetitions: segment.repetitions } : {}) },
    })),
  ];
  const streams: NormalizedStream[] = [];
  const route = session.exerciseRoute?.route ?? [];
  if (route.length > 0) {
    const placeholderAltitude = route.every((p) => p.altitude?.inMeters === 0 && !positiveLength(p.verticalAccuracy));
    const altitudes = placeholderAltitude ? [] : route.filter((p) => p.altitude);
    streams.push({
      type: 'position',
      path: ['exerciseRoute', 'route'],
      samples: {
        timestamps: Float64Array.from(route, (p) => p.time.getTime()),
        latitude: Float64Array.from(route, (p) => p.latitude),
        longitude: Float64Array.from(route, (p) => p.longitude),
        altitudeM: altitudes.length > 0 ? Float64Array.from(route, (p) => p.altitude?.inMeters ?? Number.NaN) : null,
        horizontalAccuracyM: route.some((p) => positiveLength(p.horizontalAccuracy) !== null)
          ? Float64Array.from(route, (p) => positiveLength(p.horizontalAccuracy) ?? Number.NaN)
          : null,
      },
    });
  }
  const heartRate = [...(session.heartRateSamples ?? [])].sort((a, b) => a.time.getTime() - b.time.getTime());
  if (heartRate.length > 0) {
    streams.push({
      type: 'heart_rate',
      path: ['heartRateSamples'],
      samples: { timestamps: Float64Array.from(heartRate, (s) => s.time.getTime()), values: Float64Array.from(heartRate, (s) => s.beatsPerMinute) },
    });
  }
  const bpm = heartRate.map((s) => s.beatsPerMinute);
  return {
    ...EMPTY_FIELDS,
    externalId: session.metadata.id,
    parentExternalId: null,
    activityType: type.activityType,
    sourceActivityType: type.sourceActivityType,
    isIndoor: type.isIndoor ?? null,
    name: session.title ?? null,
    notes: session.notes ?? null,
    startTime: session.startTime,
    endTime: session.endTime,
    timeZone: zoneFromOffset(offsetValue(session.startZoneOffset)),
    durationS: (session.endTime.getTime() - session.startTime.getTime()) / 1000,
    distanceM: session.totalDistance?.inMeters ?? null,
    activeEnergyKcal: session.totalEnergyBurned?.inKilocalories ?? null,
    avgHeartRateBpm: bpm.length > 0 ? Math.round((bpm.reduce((a, b) => a + b, 0) / bpm.length) * 10) / 10 : null,
    maxHeartRateBpm: bpm.length > 0 ? bpm.reduce((a, b) => (b > a ? b : a)) : null,
    deviceName: deviceNameOf(session.metadata),
    statistics: [],
    events,
    children: [],
    streams,
  };
}
