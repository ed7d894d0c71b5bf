/**
 * The JSON of a stream read (StreamSamples: `{ streamType, sampleCount, returnedCount, downsampled,
 * timestamps, values | latitude, longitude, altitudeM?, horizontalAccuracyM? }`), written piece by
 * piece from the typed arrays: the same bytes as JSON.stringify of the object the procedure returns
 * for a small stream, without ever building 2,000,000-element arrays or a 100 MiB string, and with a
 * turn of the event loop between pieces.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isPositionSamples, type StreamSamples, type StreamType } from './stream-types.js';

/** Numbers per piece: a few milliseconds of formatting, ~100–250 KiB of JSON. */
const NUMBERS_PER_PIECE = 8192;

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
  let text = `{"streamType":${JSON.stringify(type)},"sampleCount":${sampleCount},"returnedCount":${returned},"downsampled":${returned < sampleCount}`;
  for (const [name, values] of columnsOf(samples)) {
    text += `,"${name}":[`;
    for (let from = 0; from < values.length; from += NUMBERS_PER_PIECE) {
      const to = Math.min(values.length, from + NUMBERS_PER_PIECE);
      for (let i = from; i < to; i++) {
        const value = values[i]!;
        // JSON.stringify's number form (String(-0) is "0" too); NaN, a missing optional value, is null.
        text += (i === 0 ? '' : ',') + (Number.isFinite(value) ? String(value) : 'null');
      }
      yield Buffer.from(text, 'latin1');
      text = '';
      await nextTurn();
    }
    text += ']';
  }
  yield Buffer.from(`${text}}`, 'latin1');
}

export function streamedReadBody(read: StreamedRead): Readable {
  return Readable.from(pieces(read), { objectMode: false });
}
