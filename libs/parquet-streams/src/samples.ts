/**
 * The samples a stream object holds (docs/data-model.md §7, §10): epoch-millisecond timestamps and
 * one value per timestamp (scalar streams) or a GPS fix (position).
 */
import { STREAM_TYPES, type StreamType } from '@unified-activity/contract';

export type { StreamType };

/** Every stream type whose samples are one number per timestamp. */
export type ScalarStreamType = Exclude<StreamType, 'position'>;

export const SCALAR_STREAM_TYPES: readonly ScalarStreamType[] = STREAM_TYPES.filter(
  (type): type is ScalarStreamType => type !== 'position',
);

/** Timestamps are epoch milliseconds UTC, whole numbers, in non-decreasing order. */
export interface ScalarSamples {
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * Optional columns are null when the stream has none of them. Inside a present optional
 * column, NaN marks a sample that has no value (stored as a Parquet null).
 */
export interface PositionSamples {
  timestamps: Float64Array;
  latitude: Float64Array;
  longitude: Float64Array;
  altitudeM: Float64Array | null;
  horizontalAccuracyM: Float64Array | null;
}

export type StreamSamples = ScalarSamples | PositionSamples;

export function isStreamType(value: unknown): value is StreamType {
  return typeof value === 'string' && (STREAM_TYPES as readonly string[]).includes(value);
}

export function isPositionSamples(samples: StreamSamples): samples is PositionSamples {
  return 'latitude' in samples;
}
