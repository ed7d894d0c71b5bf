/**
 * The JSON of a stream read (StreamSamples: `{ streamType, sampleCount, returnedCount, downsampled,
 * timestamps, values | latitude, longitude, altitudeM?, horizontalAccuracyM? }`), written piece by
 * piece from the typed arrays: the same bytes as JSON.stringify of the object the procedure returns
 * for a small stream, without ever building 2,000,000-element arrays or a 100 MiB string, and with a
 * turn of the event loop between pieces.
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

async function* pieces({ type, sampleCount, samples }: StreamedRead): AsyncGenerator<Buffer> {
  const returned = samples.timestamps.length;
  const digits = new Uint8Array(20);
  let head = `{"streamType":${JSON.stringify(type)},"sampleCount":${sampleCount},"returnedCount":${returned},"downsampled":${returned < sampleCount}`;
  for (const [name, values] of columnsOf(samples)) {
    head += `,"${name}":[`;
    for (let from = 0; from === 0 || from < values.length; from += NUMBERS_PER_PIECE) {
      const to = Math.min(values.length, from + NUMBERS_PER_PIECE);
      const piece = Buffer.allocUnsafe(head.length + (to - from) * MAX_NUMBER_BYTES);
      let offset = piece.write(head, 0, 'latin1');
      head = '';
      for (let i = from; i < to; i++) {
        if (i > 0) piece[offset++] = 0x2c;
        offset = writeNumber(piece, offset, values[i]!, digits);
      }
      yield piece.subarray(0, offset);
      await nextTurn();
    }
    head = ']';
  }
  yield Buffer.from(`${head}}`, 'latin1');
}

export function streamedReadBody(read: StreamedRead): Readable {
  return Readable.from(pieces(read), { objectMode: false });
}
