/**
 * The JSON of a stream read (StreamSamples: `{ streamType, sampleCount, returnedCount, downsampled,
 * timestamps, values | latitude, longitude, altitudeM?, horizontalAccuracyM? }`), written piece by
 * piece from the typed arrays: the same bytes as JSON.stringify of the object the procedure returns
 * for a small stream, without ever building 2,000,000-element arrays or a 100 MiB string, and with a
 * turn of the event loop between pieces. Smaller answers are written the same way into one buffer
 * (readBody): no JS arrays, no output validation and no serializer walk over them (together 2–3× the
 * cost of decoding plus JSON.stringify, docs/benchmarks.md "Streams storage").
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isPositionSamples, type StreamSamples, type StreamType } from '../stream-types.js';

/** Numbers per piece: a few milliseconds of formatting, ~100–200 KiB of JSON. */
const NUMBERS_PER_PIECE = 8192;
/** The longest JSON a double takes (e.g. "-2.2250738585072014e-308") plus the comma. */
const MAX_NUMBER_BYTES = 26;

/** "00" … "99": two digits per lookup, half the divisions of one digit at a time. */
const DIGIT_PAIRS = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''), 'latin1');

/**
 * The leading digits of the last whole number above 10^8 written (all but its last eight): epoch
 * milliseconds share them for 10^8 ms (27.8 h), so a timestamp column formats eight digits per
 * sample, not thirteen. Exported for the tests.
 */
export class WholeNumberWriter {
  private high = -1;
  private highLength = 0;
  private readonly highDigits = new Uint8Array(8);

  /**
   * Writes `value`, a whole number with |value| ≤ 2^53, as JSON.stringify would (-0 as "0"), at
   * `offset`; returns the offset after it. No string per number, so formatting 2,000,000 samples
   * leaves no garbage on the heap.
   */
  write(buffer: Uint8Array, offset: number, value: number): number {
    let rest = value;
    if (value < 0) {
      buffer[offset++] = 0x2d;
      rest = -value;
    }
    if (rest < 1e8) return writeBelow1e8(buffer, offset, rest);
    let high = Math.floor(rest / 1e8);
    let low = rest - high * 1e8; // exact: both are integers below 2^53
    // A guard: the rounded quotient must not cross an integer (checked not to happen below 2^53 for
    // 10^8·k − 1, the closest case; the test covers it).
    if (low < 0) {
      high -= 1;
      low += 1e8;
    } else if (low >= 1e8) {
      high += 1;
      low -= 1e8;
    }
    if (high !== this.high) {
      this.high = high;
      this.highLength = writeBelow1e8(this.highDigits, 0, high); // 2^53 / 10^8 < 10^8
    }
    for (let i = 0; i < this.highLength; i++) buffer[offset++] = this.highDigits[i]!;
    // The last eight digits, zero-padded, two at a time.
    const upper = (low / 10_000) | 0;
    const lower = low - upper * 10_000;
    writePair(buffer, offset, (upper / 100) | 0);
    writePair(buffer, offset + 2, upper % 100);
    writePair(buffer, offset + 4, (lower / 100) | 0);
    writePair(buffer, offset + 6, lower % 100);
    return offset + 8;
  }
}

function writePair(buffer: Uint8Array, offset: number, pair: number): void {
  buffer[offset] = DIGIT_PAIRS[2 * pair]!;
  buffer[offset + 1] = DIGIT_PAIRS[2 * pair + 1]!;
}

/** A whole number 0 ≤ n < 10^8 (so int32 arithmetic is exact), without leading zeros. */
function writeBelow1e8(buffer: Uint8Array, offset: number, n: number): number {
  const length = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : 8;
  let end = offset + length;
  let rest = n | 0;
  while (rest >= 100) {
    const next = (rest / 100) | 0;
    end -= 2;
    writePair(buffer, end, rest - next * 100);
    rest = next;
  }
  if (rest >= 10) writePair(buffer, end - 2, rest);
  else buffer[end - 1] = 0x30 + rest;
  return offset + length;
}

export interface StreamedRead {
  type: StreamType;
  /** Samples stored (before downsampling). */
  sampleCount: number;
  /** Whether maxPoints dropped samples (of the range, for a range read). */
  downsampled: boolean;
  samples: StreamSamples;
}

/** The columns in the order the contract's output schema lists them (and oRPC writes them). */
function columnsOf(samples: StreamSamples): [name: string, values: Float64Array][] {
  if (!isPositionSamples(samples)) return [['timestamps', samples.timestamps], ['values', samples.values]];
  const columns: [string, Float64Array][] = [
    ['timestamps', samples.timestamps],
    ['latitude', samples.latitude],
    ['longitude', samples.longitude],
  ];
  if (samples.altitudeM) columns.push(['altitudeM', samples.altitudeM]);
  if (samples.horizontalAccuracyM) columns.push(['horizontalAccuracyM', samples.horizontalAccuracyM]);
  return columns;
}

const headOf = ({ type, sampleCount, downsampled, samples }: StreamedRead) =>
  `{"streamType":${JSON.stringify(type)},"sampleCount":${sampleCount},"returnedCount":${samples.timestamps.length},"downsampled":${downsampled}`;

/**
 * Numbers formatted per JSON.stringify call: the plain array (8 B a number) and the string (up to
 * ~25 B) stay well below V8's large-object threshold (128 KiB), so they die young in a scavenge.
 * One call for a whole 36,000-sample column made a 288 KiB array and a ~700 KiB string per read in
 * the large-object space, which only a full mark-compact of the heap frees.
 */
const NUMBERS_PER_STRINGIFY = 2048;

/**
 * The numbers from..to of a column, comma-separated, into `buffer` at `offset`; the offset after
 * them. Run by run of NUMBERS_PER_STRINGIFY: a run of whole numbers is written two digits at a time
 * (WholeNumberWriter); a run with other numbers is formatted by JSON.stringify of a plain array of
 * them, several times faster than one String() and one buffer.write per number (V8 formats a
 * double array in one native pass).
 */
function writeNumbers(buffer: Buffer, offset: number, values: Float64Array, from: number, to: number, whole: WholeNumberWriter): number {
  for (let start = from; start < to; start += NUMBERS_PER_STRINGIFY) {
    const end = Math.min(to, start + NUMBERS_PER_STRINGIFY);
    if (start > 0) buffer[offset++] = 0x2c;
    if (!wholeNumbers(values, start, end)) {
      const json = JSON.stringify(Array.from(values.subarray(start, end)));
      offset += buffer.write(json.slice(1, -1), offset, 'latin1');
      continue;
    }
    offset = whole.write(buffer, offset, values[start]!);
    for (let i = start + 1; i < end; i++) {
      buffer[offset++] = 0x2c;
      offset = whole.write(buffer, offset, values[i]!);
    }
  }
  return offset;
}

function wholeNumbers(values: Float64Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const value = values[i]!;
    if (!Number.isInteger(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) return false;
  }
  return true;
}

async function* pieces(read: StreamedRead): AsyncGenerator<Buffer> {
  const whole = new WholeNumberWriter();
  let head = headOf(read);
  for (const [name, values] of columnsOf(read.samples)) {
    head += `,"${name}":[`;
    for (let from = 0; from === 0 || from < values.length; from += NUMBERS_PER_PIECE) {
      const to = Math.min(values.length, from + NUMBERS_PER_PIECE);
      const piece = Buffer.allocUnsafe(head.length + (to - from) * MAX_NUMBER_BYTES);
      const offset = writeNumbers(piece, piece.write(head, 0, 'latin1'), values, from, to, whole);
      head = '';
      yield piece.subarray(0, offset);
      await nextTurn();
    }
    head = ']';
  }
  yield Buffer.from(`${head}}`, 'latin1');
}

/** The answer written piece by piece, with a turn of the event loop between pieces (large reads). */
export function streamedReadBody(read: StreamedRead): Readable {
  return Readable.from(pieces(read), { objectMode: false });
}

/**
 * The same JSON in one buffer, written at once: for answers small enough (a few milliseconds of
 * formatting) that the turns between pieces would cost more than they spare the event loop.
 */
export function readBody(read: StreamedRead): Buffer {
  const columns = columnsOf(read.samples);
  const head = headOf(read);
  let size = head.length + 2;
  for (const [name, values] of columns) size += name.length + 6 + values.length * MAX_NUMBER_BYTES;
  const buffer = scratchOf(size);
  const whole = new WholeNumberWriter();
  let offset = buffer.write(head, 0, 'latin1');
  for (const [name, values] of columns) {
    offset += buffer.write(`,"${name}":[`, offset, 'latin1');
    offset = writeNumbers(buffer, offset, values, 0, values.length, whole);
    buffer[offset++] = 0x5d;
  }
  buffer[offset++] = 0x7d;
  // The exact bytes, copied once out of the scratch buffer.
  return Buffer.from(buffer.subarray(0, offset));
}

/**
 * One buffer reused by every readBody (it runs to completion synchronously), sized for the largest
 * answer so far: a fresh worst-case buffer per read (26 bytes a number, ~750 KiB for 4 h of heart
 * rate) was external memory that made V8 collect garbage on most requests.
 */
let scratch = Buffer.allocUnsafeSlow(0);
function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
  return scratch;
}
