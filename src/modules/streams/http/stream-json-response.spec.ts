/**
 * The hand-written JSON of a stream read must be the bytes JSON.stringify writes for the object the
 * procedure returns (columnsFromSamples): whole numbers of every size (epoch milliseconds, 10^8·k − 1
 * near 2^53 where a quotient rounds), -0, fractional and extreme doubles, NaN as null, in one buffer
 * (readBody) and piece by piece (streamedReadBody).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { columnsFromSamples } from '../stream-samples.js';
import type { PositionSamples, ScalarSamples, StreamSamples, StreamType } from '../stream-types.js';
import { readBody, streamedReadBody, WholeNumberWriter } from './stream-json-response.js';

const RUNS = 200;
const SEED = 20_261_206;

const whole = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.maxSafeInteger(),
  // Epoch milliseconds, 1900–2200.
  fc.integer({ min: -2_208_988_800_000, max: 7_258_118_400_000 }),
  // Just below and at multiples of 10^8, up to 2^53.
  fc.integer({ min: 0, max: 90_071_992 }).chain((k) => fc.constantFrom(k * 1e8, k * 1e8 - 1, k * 1e8 + 99_999_999).filter(Number.isSafeInteger)),
  fc.constantFrom(-0, 0, 9, 10, 99, 100, 99_999_999, 100_000_000, 100_000_001, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);
const anyNumber = fc.oneof(whole, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(2 ** 53 + 2, 1e21, 1e-7, 5e-324, Number.MAX_VALUE));

const column = (arbitrary: fc.Arbitrary<number>, length: number) => fc.array(arbitrary, { minLength: length, maxLength: length }).map((v) => Float64Array.from(v));

const scalar = fc
  .nat({ max: 300 })
  .chain((n) => fc.record({ timestamps: column(whole, n), values: fc.oneof(column(whole, n), column(anyNumber, n)) }))
  .map((samples): ScalarSamples => samples);

const position = fc
  .nat({ max: 200 })
  .chain((n) =>
    fc.record({
      timestamps: column(whole, n),
      latitude: column(anyNumber, n),
      longitude: column(anyNumber, n),
      altitudeM: fc.option(column(fc.oneof(anyNumber, fc.constant(Number.NaN)), n)),
      horizontalAccuracyM: fc.option(column(fc.oneof(whole, fc.constant(Number.NaN)), n)),
    }),
  )
  .map((samples): PositionSamples => samples);

async function streamed(read: Parameters<typeof readBody>[0]): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of streamedReadBody(read)) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

function expectSameJson(type: StreamType, samples: StreamSamples, sampleCount: number, downsampled: boolean): string {
  const expected = JSON.stringify(columnsFromSamples(type, samples, sampleCount, downsampled));
  expect(readBody({ type, sampleCount, downsampled, samples }).toString('latin1')).toBe(expected);
  return expected;
}

describe('stream read JSON', () => {
  it('writes whole numbers as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.array(whole, { maxLength: 50 }), (values) => {
        const writer = new WholeNumberWriter();
        const buffer = Buffer.alloc(values.length * 26);
        let offset = 0;
        // One writer across values, as for a column: the cached leading digits must never leak.
        for (const value of values) {
          const start = offset;
          offset = writer.write(buffer, offset, value);
          expect(buffer.toString('latin1', start, offset)).toBe(JSON.stringify(value));
        }
      }),
      { numRuns: RUNS * 5, seed: SEED },
    );
  });

  it('answers the bytes of JSON.stringify for scalar streams', () => {
    fc.assert(
      fc.property(scalar, fc.boolean(), (samples, downsampled) => {
        expectSameJson('heart_rate', samples, samples.timestamps.length + (downsampled ? 7 : 0), downsampled);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('answers the bytes of JSON.stringify for position streams, NaN as null', () => {
    fc.assert(
      fc.property(position, (samples) => {
        expectSameJson('position', samples, samples.timestamps.length, false);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('writes the same bytes piece by piece for long streams (timestamps across a change of their leading digits)', async () => {
    const count = 20_000;
    // 1 Hz around 2026-05-01, crossing a multiple of 10^8 ms; values mix whole and fractional pieces.
    const t0 = 1_777_599_990_000;
    const timestamps = Float64Array.from({ length: count }, (_, i) => t0 + i * 1000);
    const values = Float64Array.from({ length: count }, (_, i) => (i < 9000 ? 60 + (i % 130) : (i * 0.37) % 41));
    const scalarSamples: ScalarSamples = { timestamps, values };
    const expected = expectSameJson('speed', scalarSamples, count, false);
    expect(await streamed({ type: 'speed', sampleCount: count, downsampled: false, samples: scalarSamples })).toBe(expected);

    const altitude = Float64Array.from({ length: count }, (_, i) => (i % 17 === 0 ? Number.NaN : 400 + i / 8));
    const positionSamples: PositionSamples = {
      timestamps,
      latitude: Float64Array.from({ length: count }, (_, i) => 47.3769 + i * 1e-5),
      longitude: Float64Array.from({ length: count }, (_, i) => 8.5417 - i * 1.3e-5),
      altitudeM: altitude,
      horizontalAccuracyM: null,
    };
    const expectedPosition = expectSameJson('position', positionSamples, count, false);
    expect(await streamed({ type: 'position', sampleCount: count, downsampled: false, samples: positionSamples })).toBe(expectedPosition);
  });

  it('writes an empty read', async () => {
    const empty: ScalarSamples = { timestamps: new Float64Array(0), values: new Float64Array(0) };
    const expected = expectSameJson('heart_rate', empty, 3600, false);
    expect(await streamed({ type: 'heart_rate', sampleCount: 3600, downsampled: false, samples: empty })).toBe(expected);
  });
});
