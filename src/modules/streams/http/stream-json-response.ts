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

/**
 * Writes `value` as JSON.stringify would, at `offset`; returns the offset after it. Whole numbers
 * (timestamps, most values) are written digit by digit: no string per number, so formatting
 * 2,000,000 samples leaves no garbage on the heap. Others go through String() (the shortest
 * round-trip form, as JSON.stringify); NaN (a missing optional value) is null.
 */
function writeNumber(buffer: Buffer, offset: number, value: number, digits: Uint8Array): number {
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) {
    let rest = Math.abs(value); // -0 is written "0", as String(-0)
    if (value < 0) buffer[offset++] = 0x2d;
    let count = 0;
    do {
      const next = Math.floor(rest / 10);
      digits[count++] = 0x30 + (rest - next * 10);
      rest = next;
    } while (rest > 0);
    while (count > 0) buffer[offset++] = digits[--count]!;
    return offset;
  }
  return offset + buffer.write(Number.isFinite(value) ? String(value) : 'null', offset, 'latin1');
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
 * The numbers from..to of a column, comma-separated, into `buffer` at `offset`; the offset after
 * them. A run of whole numbers is written digit by digit (writeNumber); other numbers are formatted
 * by JSON.stringify of a plain array of them, several times faster than one String() and one
 * buffer.write per number (V8 formats a double array in one native pass).
 */
function writeNumbers(buffer: Buffer, offset: number, values: Float64Array, from: number, to: number, digits: Uint8Array): number {
  if (!wholeNumbers(values, from, to)) {
    const json = JSON.stringify(Array.from(values.subarray(from, to)));
    if (from > 0 && to > from) buffer[offset++] = 0x2c;
    return offset + buffer.write(json.slice(1, -1), offset, 'latin1');
  }
  for (let i = from; i < to; i++) {
    if (i > 0) buffer[offset++] = 0x2c;
    offset = writeNumber(buffer, offset, values[i]!, digits);
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
  const digits = new Uint8Array(20);
  let head = headOf(read);
  for (const [name, values] of columnsOf(read.samples)) {
    head += `,"${name}":[`;
    for (let from = 0; from === 0 || from < values.length; from += NUMBERS_PER_PIECE) {
      const to = Math.min(values.length, from + NUMBERS_PER_PIECE);
      const piece = Buffer.allocUnsafe(head.length + (to - from) * MAX_NUMBER_BYTES);
      const offset = writeNumbers(piece, piece.write(head, 0, 'latin1'), values, from, to, digits);
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
  const digits = new Uint8Array(20);
  let offset = buffer.write(head, 0, 'latin1');
  for (const [name, values] of columns) {
    offset += buffer.write(`,"${name}":[`, offset, 'latin1');
    offset = writeNumbers(buffer, offset, values, 0, values.length, digits);
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
