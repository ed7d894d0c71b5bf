import { parseDateTime, type StreamColumns, type StreamSamplesOutput } from '@unified-activity/contract';
import {
  isPositionSamples,
  STREAM_TYPE_DESCRIPTORS,
  type PositionField,
  type StreamSamples,
  type StreamType,
} from './stream-types.js';

/** Beyond this a stream is refused with 413 (issue 5: one 10-hour activity at 50 Hz fits). */
export const MAX_SAMPLES = 2_000_000;
/** Devices start recording a little before and stop a little after the activity's own times. */
export const WINDOW_SLACK_MS = 60_000;

export interface SampleIssue {
  path: (string | number)[];
  message: string;
}

export class SampleValidationError extends Error {
  constructor(readonly issues: SampleIssue[]) {
    super(issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
}

export class TooManySamplesError extends Error {
  constructor(readonly count: number) {
    super(`${count} samples; at most ${MAX_SAMPLES} are accepted per stream`);
  }
}

function toEpochMs(value: number | string): number {
  if (typeof value === 'number') return value;
  // The contract's one date-time rule: an offset is required, the calendar date must exist, years
  // 1900–2200 (Date.parse would accept "2024", "May 1" and read offset-less strings in local time).
  return parseDateTime(value) ?? Number.NaN;
}

const column = (values: readonly (number | null)[]) => Float64Array.from(values, (v) => (v === null ? Number.NaN : v));

type ColumnName = 'timestamps' | 'values' | 'latitude' | 'longitude' | 'altitudeM' | 'horizontalAccuracyM';

/** The checks of both JSON paths: too many samples, missing or extra columns, unequal lengths. */
function checkColumns(type: StreamType, lengthOf: (name: ColumnName) => number | undefined): void {
  const count = lengthOf('timestamps') ?? 0;
  if (count > MAX_SAMPLES) throw new TooManySamplesError(count);
  const issues: SampleIssue[] = [];
  const required = type === 'position' ? (['latitude', 'longitude'] as const) : (['values'] as const);
  const forbidden = type === 'position' ? (['values'] as const) : (['latitude', 'longitude', 'altitudeM', 'horizontalAccuracyM'] as const);
  for (const name of required) if (lengthOf(name) === undefined) issues.push({ path: [name], message: `required for ${type}` });
  for (const name of forbidden) if (lengthOf(name) !== undefined) issues.push({ path: [name], message: `not a column of ${type}` });
  for (const name of ['values', 'latitude', 'longitude', 'altitudeM', 'horizontalAccuracyM'] as const) {
    const length = lengthOf(name);
    if (length !== undefined && length !== count) {
      issues.push({ path: [name], message: `has ${length} entries but timestamps has ${count}` });
    }
  }
  if (issues.length > 0) throw new SampleValidationError(issues);
}

/** JSON columns → typed samples; structural problems (missing or extra columns, lengths) are reported at their path. */
export function samplesFromColumns(type: StreamType, body: StreamColumns): StreamSamples {
  checkColumns(type, (name) => body[name]?.length);
  const timestamps = Float64Array.from(body.timestamps, toEpochMs);
  if (type === 'position') {
    return {
      timestamps,
      latitude: Float64Array.from(body.latitude!),
      longitude: Float64Array.from(body.longitude!),
      altitudeM: body.altitudeM ? column(body.altitudeM) : null,
      horizontalAccuracyM: body.horizontalAccuracyM ? column(body.horizontalAccuracyM) : null,
    };
  }
  return { timestamps, values: Float64Array.from(body.values!) };
}

/**
 * Columns read by the upload route's scanner (already typed: epoch ms, NaN for a missing optional
 * value or a timestamp string that is no date-time) → samples, with the same checks and answers as
 * samplesFromColumns. A column longer than MAX_SAMPLES was not kept in full: 413.
 */
export function samplesFromTypedColumns(
  type: StreamType,
  columns: { arrays: Partial<Record<ColumnName, Float64Array>>; lengths: Partial<Record<ColumnName, number>> },
): StreamSamples {
  const longest = Math.max(0, ...Object.values(columns.lengths));
  if (longest > MAX_SAMPLES) throw new TooManySamplesError(longest);
  checkColumns(type, (name) => columns.lengths[name]);
  const { timestamps, values, latitude, longitude, altitudeM, horizontalAccuracyM } = columns.arrays;
  if (type === 'position') {
    return { timestamps: timestamps!, latitude: latitude!, longitude: longitude!, altitudeM: altitudeM ?? null, horizontalAccuracyM: horizontalAccuracyM ?? null };
  }
  return { timestamps: timestamps!, values: values! };
}

function checkRange(values: Float64Array, path: string, range: { min: number; max: number; unit: string }, optional: boolean, issues: SampleIssue[]) {
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (optional && Number.isNaN(value)) continue;
    if (!Number.isFinite(value) || value < range.min || value > range.max) {
      issues.push({ path: [path, i], message: `${value} is outside the plausible range ${range.min}–${range.max} ${range.unit}` });
      return;
    }
  }
}

/** The instants a stream of an activity may cover: its window widened by WINDOW_SLACK_MS on both sides. */
export function sampleBounds(window: { startTime: Date; endTime: Date }): { from: number; to: number } {
  return { from: window.startTime.getTime() - WINDOW_SLACK_MS, to: window.endTime.getTime() + WINDOW_SLACK_MS };
}

/**
 * The rules every stored stream satisfies, whatever format it arrived in: at least one sample,
 * whole-millisecond non-decreasing timestamps inside the activity's window, finite values within the
 * type's plausible range. Reports the first offending sample of each column.
 */

export function validateSamples(type: StreamType, samples: StreamSamples, window: { startTime: Date; endTime: Date }): void {
  const { timestamps } = samples;
  if (timestamps.length > MAX_SAMPLES) throw new TooManySamplesError(timestamps.length);
  const issues: SampleIssue[] = [];
  if (timestamps.length === 0) issues.push({ path: ['timestamps'], message: 'a stream needs at least one sample' });

  const { from, to } = sampleBounds(window);
  let outside = 0;
  let firstOutside = -1;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i]!;
    if (!Number.isInteger(t)) {
      issues.push({ path: ['timestamps', i], message: 'must be epoch milliseconds or an ISO 8601 date-time' });
      break;
    }
    if (i > 0 && t < timestamps[i - 1]!) {
      issues.push({ path: ['timestamps', i], message: 'timestamps must not decrease' });
      break;
    }
    if (t < from || t > to) {
      outside++;
      if (firstOutside < 0) firstOutside = i;
    }
  }
  if (outside > 0) {
    issues.push({
      path: ['timestamps', firstOutside],
      message: `${outside} sample(s) lie outside the activity (${window.startTime.toISOString()} – ${window.endTime.toISOString()}, ±60 s)`,
    });
  }

  if (isPositionSamples(samples)) {
    const fields = STREAM_TYPE_DESCRIPTORS.position.fields;
    const columns: [PositionField, Float64Array | null][] = [
      ['latitude', samples.latitude],
      ['longitude', samples.longitude],
      ['altitudeM', samples.altitudeM],
      ['horizontalAccuracyM', samples.horizontalAccuracyM],
    ];
    for (const [name, values] of columns) if (values) checkRange(values, name, fields[name], fields[name].optional, issues);
  } else {
    checkRange(samples.values, 'values', STREAM_TYPE_DESCRIPTORS[type], false, issues);
  }
  if (issues.length > 0) throw new SampleValidationError(issues);
}

export interface SampleSummary {
  sampleCount: number;
  startTime: Date;
  endTime: Date;
  minValue: number | null;
  maxValue: number | null;
  avgValue: number | null;
}

export function summarise(samples: StreamSamples): SampleSummary {
  const { timestamps } = samples;
  const base = {
    sampleCount: timestamps.length,
    startTime: new Date(timestamps[0]!),
    endTime: new Date(timestamps[timestamps.length - 1]!),
  };
  if (isPositionSamples(samples)) return { ...base, minValue: null, maxValue: null, avgValue: null };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const value of samples.values) {
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
  }
  return { ...base, minValue: min, maxValue: max, avgValue: sum / samples.values.length };
}

const nullable = (values: Float64Array) => Array.from(values, (v) => (Number.isNaN(v) ? null : v));

export function columnsFromSamples(
  type: StreamType,
  samples: StreamSamples,
  sampleCount: number,
  downsampled = samples.timestamps.length < sampleCount,
): StreamSamplesOutput {
  const base = {
    streamType: type,
    sampleCount,
    returnedCount: samples.timestamps.length,
    downsampled,
    timestamps: Array.from(samples.timestamps),
  };
  if (!isPositionSamples(samples)) return { ...base, values: Array.from(samples.values) };
  return {
    ...base,
    latitude: Array.from(samples.latitude),
    longitude: Array.from(samples.longitude),
    ...(samples.altitudeM ? { altitudeM: nullable(samples.altitudeM) } : {}),
    ...(samples.horizontalAccuracyM ? { horizontalAccuracyM: nullable(samples.horizontalAccuracyM) } : {}),
  };
}
