/**
 * Property: whatever the encoding choice and the page compression (ZSTD by default since issue 24,
 * PLAIN for decimal-valued columns), every value written comes back with the same 64 bits —
 * integer-valued, decimal (FIT centimetres and millimetres per second as metres), fractional,
 * mixed, -0, subnormal and huge columns, NaN in the optional position columns.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parquetMetadata } from 'hyparquet';

import { ParquetStreamCodec, SCALAR_STREAM_TYPES, type PositionSamples, type ScalarSamples } from './index.js';

const T0 = Date.UTC(2025, 2, 1, 6);
const RUNS = 150;
const SEED = 20_261_206;

const bits = (values: Float64Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

function expectBitExact(actual: Float64Array | null | undefined, expected: Float64Array): void {
  expect(actual?.length).toBe(expected.length);
  if (!bits(actual!).equals(bits(expected))) {
    const at = expected.findIndex((v, i) => !Object.is(v, actual![i]));
    throw new Error(`first difference at ${at}: got ${actual![at]}, expected ${expected[at]}`);
  }
}

/** Columns of one kind each, the shapes the encoding choice tells apart. */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const columnKinds = {
  integer: fc.integer({ min: -1000, max: 250_000 }),
  centimetres: fc.integer({ min: 0, max: 30_000_000 }).map((cm) => cm / 100),
  millimetresPerSecond: fc.integer({ min: 0, max: 40_000 }).map((mm) => mm / 1000),
  fractional: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
  extremes: fc.constantFrom(-0, 0, 5e-324, -5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53 + 2, 0.1 + 0.2),
  anything: finite,
};
type Kind = keyof typeof columnKinds;
const kinds = Object.keys(columnKinds) as Kind[];

/** A column: runs of one kind or a mix, sometimes one kind only (the shapes a device writes). */
const column = (minLength: number, maxLength: number) =>
  fc
    .array(fc.constantFrom(...kinds), { minLength: 1, maxLength: 3 })
    .chain((picked) => fc.array(fc.oneof(...picked.map((kind) => columnKinds[kind])), { minLength, maxLength }))
    .map((values) => Float64Array.from(values));

const timestampsFor = (count: number) => fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: count, maxLength: count }).map((gaps) => {
  const out = new Float64Array(count);
  let t = T0;
  gaps.forEach((gap, i) => (out[i] = t += gap));
  return out;
});

const codecs = [new ParquetStreamCodec(), new ParquetStreamCodec({ compression: 'GZIP' })];

describe('every value comes back bit-identical', () => {
  it('scalar columns of every shape, under the default (ZSTD) and the GZIP codec', async () => {
    const scalar = column(0, 600).chain((values) =>
      fc.record({ type: fc.constantFrom(...SCALAR_STREAM_TYPES), values: fc.constant(values), timestamps: timestampsFor(values.length) }),
    );
    await fc.assert(
      fc.asyncProperty(scalar, async ({ type, values, timestamps }) => {
        const samples: ScalarSamples = { timestamps, values };
        for (const codec of codecs) {
          const decoded = (await codec.decode(codec.encode(type, samples), type)).samples as ScalarSamples;
          expectBitExact(decoded.timestamps, timestamps);
          expectBitExact(decoded.values, values);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('position columns, with NaN (null) in the optional ones', async () => {
    const withGaps = (values: Float64Array, every: number) => values.map((v, i) => (every > 0 && i % every === 0 ? Number.NaN : v));
    const position = fc.integer({ min: 0, max: 400 }).chain((count) =>
      fc.record({
        timestamps: timestampsFor(count),
        latitude: fc.array(fc.double({ min: -90, max: 90, noNaN: true }), { minLength: count, maxLength: count }).map((v) => Float64Array.from(v)),
        longitude: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: count, maxLength: count }).map((s) => Float64Array.from(s, (v) => v * (180 / 2 ** 31))),
        altitudeM: column(count, count).chain((v) => fc.integer({ min: 0, max: 5 }).map((every) => withGaps(v, every))),
        horizontalAccuracyM: column(count, count).chain((v) => fc.integer({ min: 0, max: 5 }).map((every) => withGaps(v, every))),
      }),
    );
    await fc.assert(
      fc.asyncProperty(position, async (samples: PositionSamples) => {
        for (const codec of codecs) {
          const decoded = (await codec.decode(codec.encode('position', samples), 'position')).samples as PositionSamples;
          expectBitExact(decoded.timestamps, samples.timestamps);
          expectBitExact(decoded.latitude, samples.latitude);
          expectBitExact(decoded.longitude, samples.longitude);
          // An all-null optional column reads back as "no such column".
          const optional = (values: Float64Array | null, written: Float64Array) =>
            written.every((v) => Number.isNaN(v)) ? expect(values ?? null).toBeNull() : expectBitExact(values, written);
          optional(decoded.altitudeM, samples.altitudeM!);
          optional(decoded.horizontalAccuracyM, samples.horizontalAccuracyM!);
        }
      }),
      { numRuns: RUNS / 2, seed: SEED },
    );
  });

  it('writes ZSTD pages by default, and decimal-valued columns (FIT distance, speed) as PLAIN', () => {
    const count = 3600;
    const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
    let cm = 0;
    const distance = Float64Array.from({ length: count }, (_, i) => (cm += 250 + ((i * 37) % 90)) / 100);
    const bytes = new ParquetStreamCodec().encode('distance', { timestamps, values: distance });
    const chunk = parquetMetadata(bytes.slice().buffer).row_groups[0]!.columns[1]!.meta_data!;
    expect({ codec: chunk.codec, encodings: chunk.encodings }).toEqual({ codec: 'ZSTD', encodings: ['PLAIN'] });
  });
});
