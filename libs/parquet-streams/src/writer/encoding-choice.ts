/**
 * Choosing a double column's encoding from cheap statistics of its values (docs/data-model.md §10;
 * measurements in docs/parquet-codecs.md).
 */
import { DoubleIds } from './dictionary.js';
import type { DoubleEncoding } from './write-parquet.js';

/** At most this many distinct values (and at most one per two rows) make a dictionary. */
export const DICTIONARY_MAX_DISTINCT = 256;
/** Rows looked at for the statistics: up to four spread windows of this many. */
const PROFILE_WINDOW = 4096;
const PROFILE_WINDOWS = 4;

/** Share of values whose low 16 significand bits are zero (whole numbers, binary fractions, FIT semicircles). */
function shortSignificandShare(values: Float64Array): number {
  if (values.length === 0) return 1;
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let short = 0;
  for (let i = 0; i < values.length; i++) if ((words[i * 2]! & 0xffff) === 0) short++;
  return short / values.length;
}

/**
 * Share of values with at most three decimal places (FIT distance in cm as metres, speed in mm/s
 * as m/s, altitude in 0.2 m steps): the low bytes of such a double's significand are one of at most
 * 1,000 patterns per binade, fixed by its last digits, which PLAIN keeps together in one value so
 * that the compressor finds them as matches; BYTE_STREAM_SPLIT spreads them over five byte streams
 * of noise. Whole numbers count too (the rule runs after the short-significand one).
 */
function decimalShare(values: Float64Array): number {
  if (values.length === 0) return 0;
  let decimal = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Math.round(v * 1000) / 1000 === v) decimal++;
  }
  return decimal / values.length;
}

/**
 * Share of values equal to an earlier value of their window (GZIP's 32 KiB reach is 4096 doubles)
 * other than the one just before: what PLAIN lets GZIP find as 8-byte matches. Up to four spread
 * windows are looked at.
 */
function recurrenceShare(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const window = Math.min(n, PROFILE_WINDOW);
  const windows = n <= PROFILE_WINDOW ? 1 : Math.min(PROFILE_WINDOWS, Math.floor(n / PROFILE_WINDOW));
  const stride = windows > 1 ? Math.floor((n - window) / (windows - 1)) : 0;
  let recurring = 0;
  for (let w = 0; w < windows; w++) {
    const seen = new DoubleIds(window);
    const start = w * stride;
    for (let i = start; i < start + window; i++) {
      const before = seen.distinct.length;
      seen.id(values[i]!);
      if (seen.distinct.length === before && !(i > start && Object.is(values[i], values[i - 1]))) recurring++;
    }
  }
  return recurring / (window * windows);
}

/** The number of distinct values, or null when above `limit`. */
function distinctUpTo(values: Float64Array, limit: number): number | null {
  const ids = new DoubleIds(Math.max(1, Math.min(limit, values.length)));
  for (let i = 0; i < values.length; i++) if (ids.id(values[i]!) < 0) return null;
  return ids.distinct.length;
}

/**
 * The encoding for one double column, from cheap statistics of its values instead of trial
 * compressions (which cost more than everything else the codec does). Measured with GZIP and ZSTD
 * on the shapes of bench/parquet-codecs.ts (in this package) and on the real FIT files of
 * bench:lake (docs/parquet-codecs.md):
 * - few distinct values (heart rate, cadence, power, FIT altitude in 0.2 m steps over an hour):
 *   a sorted dictionary with byte-aligned indices, 10–20 % below the other encodings;
 * - short significands (whole numbers beyond 256 distinct, FIT semicircle coordinates, binary
 *   fractions): BYTE_STREAM_SPLIT, whose low byte streams are all zero;
 * - values that keep coming back but not in runs (FIT speed in mm/s): PLAIN, where the compressor
 *   finds each recurring value as one 8-byte match (both are tried when it is unclear);
 * - values that seldom recur with at most three decimal places (FIT distance, centimetres as
 *   metres): PLAIN, whose values' low bytes repeat with their last digits (on the real FIT files of
 *   bench:lake under ZSTD, 22 % below BYTE_STREAM_SPLIT for distance);
 * - anything else (full-precision GPS, sensor doubles): BYTE_STREAM_SPLIT.
 */
export function chooseDoubleEncoding(column: Float64Array, optional: boolean): DoubleEncoding | readonly DoubleEncoding[] {
  const values = optional ? column.filter((v) => v === v) : column;
  const distinct = distinctUpTo(values, DICTIONARY_MAX_DISTINCT);
  const short = shortSignificandShare(values) >= 0.9;
  if (distinct !== null && distinct > 0 && distinct * 2 <= values.length) {
    // Whole numbers: BYTE_STREAM_SPLIT leaves two busy bytes per value and sometimes beats the
    // indices; both pages are small, so both are tried.
    return short ? ['RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'] : 'RLE_DICTIONARY';
  }
  if (short) return 'BYTE_STREAM_SPLIT';
  const recurrence = recurrenceShare(values);
  // Values that seldom recur (cumulative distance): BYTE_STREAM_SPLIT, unless they are decimals.
  if (recurrence < 0.1) return decimalShare(values) >= 0.9 ? 'PLAIN' : 'BYTE_STREAM_SPLIT';
  return recurrence > 0.5 ? 'PLAIN' : ['BYTE_STREAM_SPLIT', 'PLAIN'];
}
