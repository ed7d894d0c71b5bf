/**
 * Helpers shared by the format parsers: stream assembly with plausibility filtering,
 * summaries derived from samples, time zones.
 */
import tzLookup from '@photostructure/tz-lookup';
import { isTimeZone } from '@unified-activity/contract';
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
import { keepMovingTimeWithinElapsed } from '../../activities/moving-time.js';
import { withoutRepeatedAltitude } from '../../streams/altitude-once.js';
import type { ImportedActivity } from './types.js';

/** A growable Float64Array: samples are appended without boxing every number in a JS array. */
export class Column {
  data: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  /** A right-sized copy that owns its memory. */
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Samples collected in time order before they become typed arrays. */
export class StreamCollector {
  private readonly scalars = new Map<ScalarStreamType, { t: Column; v: Column; dropped: number }>();
  private position?: { t: Column; lat: Column; lon: Column; alt: Column; acc: Column; hasAlt: boolean; hasAcc: boolean; dropped: number };
  private positionDropped = 0;

  /** @param capacity expected samples per stream (e.g. the record count); only a hint. */
  constructor(private readonly capacity = 1024) {}

  /** Adds one sample; a null/undefined/NaN value is skipped, one outside the plausible range is counted and skipped. */
  add(type: ScalarStreamType, timestampMs: number, value: number | null | undefined): void {
    if (value == null || !Number.isFinite(value)) return;
    let column = this.scalars.get(type);
    if (!column) {
      column = { t: new Column(this.capacity), v: new Column(this.capacity), dropped: 0 };
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
    if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
      this.positionDropped++;
      return;
    }
    const c = this.capacity;
    const p = (this.position ??= {
      t: new Column(c),
      lat: new Column(c),
      lon: new Column(c),
      alt: new Column(c),
      acc: new Column(c),
      hasAlt: false,
      hasAcc: false,
      dropped: 0,
    });
    p.t.push(timestampMs);
    p.lat.push(latitude);
    p.lon.push(longitude);
    // An implausible altitude or accuracy is a missing one: the fix itself is still good.
    const altitudeRange = STREAM_TYPE_DESCRIPTORS.position.fields.altitudeM;
    const hasAlt = altitudeM != null && Number.isFinite(altitudeM) && altitudeM >= altitudeRange.min && altitudeM <= altitudeRange.max;
    const hasAcc = horizontalAccuracyM != null && Number.isFinite(horizontalAccuracyM) && horizontalAccuracyM >= 0;
    p.alt.push(hasAlt ? altitudeM! : Number.NaN);
    p.acc.push(hasAcc ? horizontalAccuracyM! : Number.NaN);
    p.hasAlt ||= hasAlt;
    p.hasAcc ||= hasAcc;
  }

  get firstPosition(): { latitude: number; longitude: number } | undefined {
    const p = this.position;
    return p && p.t.length > 0 ? { latitude: p.lat.data[0], longitude: p.lon.data[0] } : undefined;
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
      const samples: ScalarSamples = { timestamps: column.t.toArray(), values: column.v.toArray() };
      streams[type] = samples;
    }
    if (this.positionDropped > 0) warnings.push(`${label}: dropped ${this.positionDropped} positions outside ±90°/±180°`);
    const p = this.position;
    if (p && p.t.length > 0) {
      const samples: PositionSamples = {
        timestamps: p.t.toArray(),
        latitude: p.lat.toArray(),
        longitude: p.lon.toArray(),
        altitudeM: p.hasAlt ? p.alt.toArray() : null,
        horizontalAccuracyM: p.hasAcc ? p.acc.toArray() : null,
      };
      // Stored once: a fix's altitude that the altitude stream holds at the same instant is not repeated here.
      streams.position = withoutRepeatedAltitude(samples, streams.altitude as ScalarSamples | undefined);
    }
    return streams;
  }
}

/** Streams are stored only inside their activity's window (±60 s): widen the window to cover them. */
export function coverStreams(activity: ImportedActivity): void {
  let first = activity.startTime.getTime();
  let last = activity.endTime.getTime();
  for (const samples of Object.values(activity.streams)) {
    const t = samples.timestamps;
    if (t.length === 0) continue;
    if (t[0] < first) first = t[0];
    if (t[t.length - 1] > last) last = t[t.length - 1];
  }
  if (first < activity.startTime.getTime()) activity.startTime = new Date(first);
  if (last > activity.endTime.getTime()) activity.endTime = new Date(last);
}

/** Drops samples more than `slackMs` outside the activity's window (the window is authoritative). */
export function clipStreams(activity: ImportedActivity, warnings: string[], label: string, slackMs = 60_000): void {
  const from = activity.startTime.getTime() - slackMs;
  const to = activity.endTime.getTime() + slackMs;
  for (const [type, samples] of Object.entries(activity.streams) as [StreamType, StreamSamples][]) {
    const t = samples.timestamps;
    let lo = 0;
    while (lo < t.length && t[lo] < from) lo++;
    let hi = t.length;
    while (hi > lo && t[hi - 1] > to) hi--;
    if (lo === 0 && hi === t.length) continue;
    warnings.push(`${label}: dropped ${t.length - (hi - lo)} ${type} samples outside the activity's time`);
    if (hi === lo) {
      delete activity.streams[type];
      continue;
    }
    const clipped: Record<string, unknown> = {};
    for (const [key, column] of Object.entries(samples)) clipped[key] = column instanceof Float64Array ? column.slice(lo, hi) : column;
    activity.streams[type] = clipped as unknown as StreamSamples;
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
 * that time agrees, else the fixed `Etc/GMT±h` zone for a whole-hour offset, else undefined
 * (unknown). An offset of 0 names no zone (docs/data-model.md §9, "Time zones"): it is also what
 * devices write when they do not know the local time, so only a position can tell the zone then.
 */
export function timeZoneForOffset(
  offsetS: number,
  at: Date,
  firstPosition?: { latitude: number; longitude: number },
): string | undefined {
  const zone = firstPosition ? timeZoneAt(firstPosition.latitude, firstPosition.longitude) : undefined;
  if (zone && (offsetS === 0 || offsetSecondsOf(zone, at) === offsetS)) return zone;
  if (offsetS === 0) return undefined;
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
  // A moving time longer than the elapsed one is not one (conform leaves it out): the elapsed time divides.
  const moving = activity.movingTimeS;
  const movingS = moving != null && (activity.durationS == null || moving <= activity.durationS) ? moving : activity.durationS;
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
  if (value instanceof Date) return true;
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Date]';
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
  // A bare number names nothing portable (Strava's old GPX type ids, FIT enum values).
  if (/^\d+$/.test(normalized)) return { slug: 'other', known: false };
  const strava = toCanonical('strava', value.trim());
  if (strava.known) return { slug: strava.slug, known: true };
  const fit = toCanonical('fit', { sport: normalized });
  if (fit.known) return { slug: fit.slug, known: true };
  return { slug: 'other', known: false };
}

/** Limits of the activity create contract (src/contract/activities.contract.ts) an import must fit. */
const LIMITS = { events: 5000, statistics: 200, children: 100, name: 500, notes: 10_000, deviceName: 200, sourceActivityType: 200 };
const MEASURE_KEYS = [
  'durationS',
  'movingTimeS',
  'distanceM',
  'activeEnergyKcal',
  'elevationGainM',
  'elevationLossM',
  'avgSpeedMS',
  'maxSpeedMS',
] as const;
/** Events kept first when an activity has more than the contract allows. */
const EVENT_PRIORITY: Record<string, number> = { pause: 0, resume: 0, lap: 1, motion_paused: 2, motion_resumed: 2, marker: 3, segment: 4 };

/**
 * Makes parsed activities satisfy the data model's rules, so a file with one odd value is
 * imported rather than rejected: implausible summary values become null (and are derived
 * from the streams where possible), a maximum below its average is dropped, a moving time longer
 * than the elapsed time is left out (docs/data-model.md §5), over-long text is cut, and events
 * beyond the limit are dropped, least important first. Each change is a warning.
 */
export function conformActivities(activities: ImportedActivity[], warnings: string[]): void {
  activities.forEach((activity, i) => {
    const label = activities.length > 1 ? `activity ${i + 1}` : 'activity';
    conform(activity, label, warnings);
    if (activity.children.length > LIMITS.children) {
      warnings.push(`${label}: ${activity.children.length} legs; kept the first ${LIMITS.children}`);
      activity.children = activity.children.slice(0, LIMITS.children);
    }
    activity.children.forEach((child, j) => conform(child, `${label} leg ${j + 1}`, warnings));
  });
}

function conform(activity: ImportedActivity, label: string, warnings: string[]): void {
  if (activity.endTime.getTime() < activity.startTime.getTime()) activity.endTime = new Date(activity.startTime.getTime());
  let cleared = false;
  for (const key of MEASURE_KEYS) {
    const value = activity[key];
    if (value != null && (!Number.isFinite(value) || value < 0 || value > 1e9)) {
      warnings.push(`${label}: implausible ${key} ${value} left out`);
      activity[key] = null;
      cleared = true;
    }
  }
  for (const key of ['avgHeartRateBpm', 'maxHeartRateBpm'] as const) {
    const value = activity[key];
    if (value != null && (!Number.isFinite(value) || value < 20 || value > 260)) {
      warnings.push(`${label}: implausible ${key} ${value} left out`);
      activity[key] = null;
      cleared = true;
    }
  }
  if (cleared) fillSummaryFromStreams(activity);
  const movingTimeWarning = keepMovingTimeWithinElapsed(activity);
  if (movingTimeWarning) warnings.push(`${label}: ${movingTimeWarning}`);
  for (const [avg, max] of [
    ['avgHeartRateBpm', 'maxHeartRateBpm'],
    ['avgSpeedMS', 'maxSpeedMS'],
  ] as const) {
    const a = activity[avg];
    const m = activity[max];
    if (a != null && m != null && m < a) {
      warnings.push(`${label}: ${max} ${m} is below ${avg} ${a}; left out`);
      activity[max] = null;
    }
  }
  if (activity.timeZone != null && !isTimeZone(activity.timeZone)) activity.timeZone = null;
  activity.name = cut(activity.name, LIMITS.name);
  activity.notes = cut(activity.notes, LIMITS.notes);
  activity.deviceName = cut(activity.deviceName, LIMITS.deviceName);
  activity.sourceActivityType = cut(activity.sourceActivityType, LIMITS.sourceActivityType) ?? null;
  if (activity.statistics.length > LIMITS.statistics) activity.statistics = activity.statistics.slice(0, LIMITS.statistics);
  for (const event of activity.events) {
    if (event.endTime && event.endTime.getTime() < event.startTime.getTime()) event.endTime = null;
  }
  if (activity.events.length > LIMITS.events) {
    warnings.push(`${label}: ${activity.events.length} events; kept ${LIMITS.events}, dropping segments and markers first`);
    const ranked = activity.events.map((event, index) => ({ event, index, rank: EVENT_PRIORITY[event.eventType] ?? 5 }));
    ranked.sort((a, b) => a.rank - b.rank || a.index - b.index);
    const kept = new Set(ranked.slice(0, LIMITS.events).map((r) => r.index));
    activity.events = activity.events.filter((_, index) => kept.has(index));
  }
}


function cut(value: string | null | undefined, max: number): string | null | undefined {
  return typeof value === 'string' && value.length > max ? value.slice(0, max) : value;
}

