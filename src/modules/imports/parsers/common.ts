/**
 * Helpers shared by the format parsers: stream assembly with plausibility filtering,
 * summaries derived from samples, time zones.
 */
import tzLookup from '@photostructure/tz-lookup';
import { toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import { activityTypeBySlug } from '../../../../libs/seed-data/activity-types.js';
import {
  STREAM_TYPE_DESCRIPTORS,
  type PositionSamples,
  type ScalarSamples,
  type ScalarStreamType,
  type StreamSamples,
  type StreamType,
} from '../../streams/stream-types.js';
import type { ImportedActivity } from './types.js';

/** Samples collected in time order before they become typed arrays. */
export class StreamCollector {
  private readonly scalars = new Map<ScalarStreamType, { t: number[]; v: number[]; dropped: number }>();
  private readonly position = { t: [] as number[], lat: [] as number[], lon: [] as number[], alt: [] as number[], acc: [] as number[], dropped: 0 };

  /** Adds one sample; a null/undefined/NaN value is skipped, one outside the plausible range is counted and skipped. */
  add(type: ScalarStreamType, timestampMs: number, value: number | null | undefined): void {
    if (value == null || !Number.isFinite(value)) return;
    let column = this.scalars.get(type);
    if (!column) {
      column = { t: [], v: [], dropped: 0 };
      this.scalars.set(type, column);
    }
    const { min, max } = STREAM_TYPE_DESCRIPTORS[type];
    if (value < min || value > max) {
      column.dropped++;
      return;
    }
    column.t.push(timestampMs);
    column.v.push(value);
  }

  addPosition(
    timestampMs: number,
    latitude: number | null | undefined,
    longitude: number | null | undefined,
    altitudeM?: number | null,
    horizontalAccuracyM?: number | null,
  ): void {
    if (latitude == null || longitude == null || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return;
    const p = this.position;
    if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
      p.dropped++;
      return;
    }
    p.t.push(timestampMs);
    p.lat.push(latitude);
    p.lon.push(longitude);
    p.alt.push(altitudeM != null && Number.isFinite(altitudeM) ? altitudeM : Number.NaN);
    p.acc.push(horizontalAccuracyM != null && Number.isFinite(horizontalAccuracyM) ? horizontalAccuracyM : Number.NaN);
  }

  get firstPosition(): { latitude: number; longitude: number } | undefined {
    return this.position.t.length > 0 ? { latitude: this.position.lat[0], longitude: this.position.lon[0] } : undefined;
  }

  values(type: ScalarStreamType): readonly number[] {
    return this.scalars.get(type)?.v ?? [];
  }

  /** The typed streams; out-of-range drops are reported into `warnings`. */
  build(warnings: string[], label: string): Partial<Record<StreamType, StreamSamples>> {
    const streams: Partial<Record<StreamType, StreamSamples>> = {};
    for (const [type, column] of this.scalars) {
      if (column.dropped > 0) {
        const { min, max, unit } = STREAM_TYPE_DESCRIPTORS[type];
        warnings.push(`${label}: dropped ${column.dropped} ${type} samples outside ${min}–${max} ${unit}`);
      }
      if (column.t.length === 0) continue;
      const samples: ScalarSamples = { timestamps: Float64Array.from(column.t), values: Float64Array.from(column.v) };
      streams[type] = samples;
    }
    const p = this.position;
    if (p.dropped > 0) warnings.push(`${label}: dropped ${p.dropped} positions outside ±90°/±180°`);
    if (p.t.length > 0) {
      const samples: PositionSamples = {
        timestamps: Float64Array.from(p.t),
        latitude: Float64Array.from(p.lat),
        longitude: Float64Array.from(p.lon),
        altitudeM: p.alt.some((v) => !Number.isNaN(v)) ? Float64Array.from(p.alt) : null,
        horizontalAccuracyM: p.acc.some((v) => !Number.isNaN(v)) ? Float64Array.from(p.acc) : null,
      };
      streams.position = samples;
    }
    return streams;
  }
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function minOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

export function maxOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** Sum of positive and negative altitude steps, ignoring steps under `thresholdM` of noise. */
export function elevationChange(altitudes: readonly number[], thresholdM = 1): { gainM: number; lossM: number } | null {
  if (altitudes.length < 2) return null;
  let gainM = 0;
  let lossM = 0;
  let reference = altitudes[0];
  for (const altitude of altitudes) {
    const delta = altitude - reference;
    if (delta >= thresholdM) {
      gainM += delta;
      reference = altitude;
    } else if (delta <= -thresholdM) {
      lossM -= delta;
      reference = altitude;
    }
  }
  return { gainM, lossM };
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Length of the position stream's path, in metres. */
export function pathLengthM(position: PositionSamples | undefined): number | null {
  if (!position || position.timestamps.length < 2) return null;
  let total = 0;
  for (let i = 1; i < position.timestamps.length; i++) {
    total += haversineM(position.latitude[i - 1], position.longitude[i - 1], position.latitude[i], position.longitude[i]);
  }
  return total;
}

/** IANA zone of a point, from the bundled offline boundaries; undefined when it cannot tell. */
export function timeZoneAt(latitude: number, longitude: number): string | undefined {
  try {
    return tzLookup(latitude, longitude);
  } catch {
    return undefined;
  }
}

/** The zone's UTC offset in seconds at an instant (positive east of Greenwich). */
export function offsetSecondsOf(timeZone: string, at: Date): number | undefined {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(at);
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const localMs = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return Math.round((localMs - Math.floor(at.getTime() / 1000) * 1000) / 1000);
  } catch {
    return undefined;
  }
}

/**
 * The IANA zone for a recorded UTC offset: the zone at the first position when its offset at
 * that time agrees, else the fixed `Etc/GMT±h` zone for a whole-hour offset, else undefined.
 */
export function timeZoneForOffset(
  offsetS: number,
  at: Date,
  firstPosition?: { latitude: number; longitude: number },
): string | undefined {
  if (firstPosition) {
    const zone = timeZoneAt(firstPosition.latitude, firstPosition.longitude);
    if (zone && offsetSecondsOf(zone, at) === offsetS) return zone;
  }
  if (offsetS === 0) return 'UTC';
  if (offsetS % 3600 !== 0 || Math.abs(offsetS) > 14 * 3600) return undefined;
  const hours = offsetS / 3600;
  // POSIX-style Etc zones have the inverted sign: UTC+2 is Etc/GMT-2.
  return `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
}

/** An activity with no summary yet, filled from its streams where the source has nothing. */
export function fillSummaryFromStreams(activity: ImportedActivity): void {
  const hr = activity.streams.heart_rate as ScalarSamples | undefined;
  if (hr && hr.values.length > 0) {
    const values = Array.from(hr.values);
    activity.avgHeartRateBpm ??= Math.round(mean(values)!);
    activity.maxHeartRateBpm ??= maxOf(values);
  }
  const speed = activity.streams.speed as ScalarSamples | undefined;
  if (speed && speed.values.length > 0) activity.maxSpeedMS ??= maxOf(Array.from(speed.values));
  const distance = activity.streams.distance as ScalarSamples | undefined;
  if (activity.distanceM == null) {
    if (distance && distance.values.length > 0) {
      activity.distanceM = distance.values[distance.values.length - 1] - distance.values[0];
    } else {
      const path = pathLengthM(activity.streams.position as PositionSamples | undefined);
      if (path !== null) activity.distanceM = path;
    }
  }
  const altitude = activity.streams.altitude as ScalarSamples | undefined;
  if (altitude && (activity.elevationGainM == null || activity.elevationLossM == null)) {
    const change = elevationChange(Array.from(altitude.values));
    if (change) {
      activity.elevationGainM ??= change.gainM;
      activity.elevationLossM ??= change.lossM;
    }
  }
  activity.durationS ??= (activity.endTime.getTime() - activity.startTime.getTime()) / 1000;
  const movingS = activity.movingTimeS ?? activity.durationS;
  if (activity.avgSpeedMS == null && activity.distanceM != null && movingS != null && movingS > 0) {
    activity.avgSpeedMS = activity.distanceM / movingS;
  }
}

/** FIT/JS camelCase enum names → the FIT profile's snake_case (`lapSwimming` → `lap_swimming`). */
export function snakeCase(value: string): string {
  return value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** A JSON-safe copy: Dates → ISO strings, bigint → string, typed arrays → arrays, NaN/∞ → null. */
export function jsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (isDate(value)) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = jsonSafe(v);
    return out;
  }
  return null;
}

/** Works across realms (Jest's VM context), unlike `instanceof Date`. */
export function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

const FREE_TEXT_ALIASES: Record<string, string> = {
  run: 'running',
  trail_run: 'trail_running',
  treadmill: 'treadmill_running',
  ride: 'cycling',
  bike: 'cycling',
  biking: 'cycling',
  road_biking: 'road_cycling',
  road_bike: 'road_cycling',
  mountain_bike: 'mountain_biking',
  mtb: 'mountain_biking',
  gravel_biking: 'gravel_cycling',
  indoor_biking: 'indoor_cycling',
  virtual_ride: 'virtual_cycling',
  walk: 'walking',
  hike: 'hiking',
  swim: 'swimming',
  lap_swimming: 'pool_swimming',
  open_water: 'open_water_swimming',
  kayak: 'kayaking',
  row: 'rowing',
  ski: 'alpine_skiing',
  nordic_ski: 'cross_country_skiing',
};

/**
 * The canonical slug for a free-text activity type (GPX `<type>`, TCX `Sport`): a catalog
 * slug or a common alias, else a Strava sport_type or FIT sport name through the catalog,
 * else `other`.
 */
export function activityTypeFromText(value: string | undefined): { slug: string; known: boolean } {
  if (value === undefined || value.trim() === '') return { slug: 'other', known: false };
  const normalized = snakeCase(value.trim()).replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (activityTypeBySlug.has(normalized)) return { slug: normalized, known: true };
  const alias = FREE_TEXT_ALIASES[normalized];
  if (alias) return { slug: alias, known: true };
  const strava = toCanonical('strava', value.trim());
  if (strava.known) return { slug: strava.slug, known: true };
  const fit = toCanonical('fit', { sport: normalized });
  if (fit.known) return { slug: fit.slug, known: true };
  return { slug: 'other', known: false };
}
