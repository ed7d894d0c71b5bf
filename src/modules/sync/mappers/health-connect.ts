/** Health Connect: an ExerciseSessionRecord as the Android app serializes it → the unified model. */
import { fromCanonical, toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import type { HealthConnectSession } from '@unified-activity/contract';
import { EMPTY_FIELDS, MappingError, type NormalizedActivity, type NormalizedEvent, type NormalizedStream } from './normalized.js';

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

export function mapHealthConnectSession(session: HealthConnectSession): NormalizedActivity {
  if (session.endTime < session.startTime) throw new MappingError(['endTime'], 'must not be before startTime');
  const type = healthConnectActivityType(session.exerciseType);
  const events: NormalizedEvent[] = [
    ...(session.laps ?? []).map((lap) => ({
      eventType: 'lap' as const,
      startTime: lap.startTime,
      endTime: lap.endTime,
      metadata: lap.length ? { distanceM: lap.length.inMeters } : null,
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
    streams.push({
      type: 'position',
      path: ['exerciseRoute', 'route'],
      samples: {
        timestamps: Float64Array.from(route, (p) => p.time.getTime()),
        latitude: Float64Array.from(route, (p) => p.latitude),
        longitude: Float64Array.from(route, (p) => p.longitude),
        altitudeM: route.some((p) => p.altitude) ? Float64Array.from(route, (p) => p.altitude?.inMeters ?? Number.NaN) : null,
        horizontalAccuracyM: route.some((p) => p.horizontalAccuracy) ? Float64Array.from(route, (p) => p.horizontalAccuracy?.inMeters ?? Number.NaN) : null,
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
  const device = session.metadata.device;
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
    timeZone: zoneFromOffset(session.startZoneOffset),
    durationS: (session.endTime.getTime() - session.startTime.getTime()) / 1000,
    distanceM: session.totalDistance?.inMeters ?? null,
    activeEnergyKcal: session.totalEnergyBurned?.inKilocalories ?? null,
    avgHeartRateBpm: bpm.length > 0 ? Math.round((bpm.reduce((a, b) => a + b, 0) / bpm.length) * 10) / 10 : null,
    maxHeartRateBpm: bpm.length > 0 ? bpm.reduce((a, b) => (b > a ? b : a)) : null,
    deviceName: device ? [device.manufacturer, device.model].filter(Boolean).join(' ') || null : null,
    statistics: [],
    events,
    children: [],
    streams,
  };
}
