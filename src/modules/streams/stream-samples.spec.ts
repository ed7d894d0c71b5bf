import { describe, expect, it } from '@jest/globals';
import {
  MAX_SAMPLES,
  SampleValidationError,
  samplesFromColumns,
  summarise,
  TooManySamplesError,
  validateSamples,
  columnsFromSamples,
} from './stream-samples.js';
import type { PositionSamples, ScalarSamples } from './stream-types.js';

const window = { startTime: new Date('2026-05-01T06:00:00Z'), endTime: new Date('2026-05-01T07:00:00Z') };
const t0 = window.startTime.getTime();

function issuesOf(work: () => unknown) {
  try {
    work();
  } catch (error) {
    if (error instanceof SampleValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a SampleValidationError');
}

describe('samplesFromColumns', () => {
  it('reads epoch milliseconds and full ISO date-times, and nothing looser', () => {
    const samples = samplesFromColumns('heart_rate', {
      timestamps: [t0, '2026-05-01T06:00:01.500Z', '2026-05-01T08:00:02+02:00', '2026', 'May 1'],
      values: [80, 81, 82, 83, 84],
    }) as ScalarSamples;
    expect(Array.from(samples.timestamps.slice(0, 3))).toEqual([t0, t0 + 1500, t0 + 2000]);
    expect(Number.isNaN(samples.timestamps[3])).toBe(true);
    expect(Number.isNaN(samples.timestamps[4])).toBe(true);
  });

  it('keeps missing optional position values as NaN', () => {
    const samples = samplesFromColumns('position', {
      timestamps: [t0, t0 + 1000],
      latitude: [47.1, 47.2],
      longitude: [8.1, 8.2],
      altitudeM: [410, null],
    }) as PositionSamples;
    expect(Array.from(samples.altitudeM!)).toEqual([410, Number.NaN]);
    expect(samples.horizontalAccuracyM).toBeNull();
  });

  it('reports missing, foreign and short columns at their paths', () => {
    expect(issuesOf(() => samplesFromColumns('position', { timestamps: [t0], values: [1] }))).toEqual([
      { path: ['latitude'], message: 'required for position' },
      { path: ['longitude'], message: 'required for position' },
      { path: ['values'], message: 'not a column of position' },
    ]);
    expect(issuesOf(() => samplesFromColumns('power', { timestamps: [t0, t0 + 1], values: [1] }))).toEqual([
      { path: ['values'], message: 'has 1 entries but timestamps has 2' },
    ]);
  });

  it('refuses more than MAX_SAMPLES before building any array', () => {
    const timestamps = { length: MAX_SAMPLES + 1 } as unknown as number[];
    expect(() => samplesFromColumns('power', { timestamps, values: [] })).toThrow(TooManySamplesError);
  });
});

describe('validateSamples', () => {
  const scalar = (timestamps: number[], values: number[]): ScalarSamples => ({
    timestamps: Float64Array.from(timestamps),
    values: Float64Array.from(values),
  });

  it('accepts samples inside the window with its 60 s slack, equal timestamps included', () => {
    expect(() => validateSamples('heart_rate', scalar([t0 - 60_000, t0, t0, window.endTime.getTime() + 60_000], [60, 61, 62, 63]), window)).not.toThrow();
  });

  it('names the first sample outside the window and how many there are', () => {
    const issues = issuesOf(() => validateSamples('speed', scalar([t0, t0 + 7_200_000, t0 + 7_300_000], [1, 2, 3]), window));
    expect(issues).toEqual([{ path: ['timestamps', 1], message: expect.stringMatching(/^2 sample\(s\) lie outside/) }]);
  });

  it('rejects decreasing or fractional timestamps, out-of-range and non-finite values', () => {
    expect(issuesOf(() => validateSamples('power', scalar([t0 + 2, t0 + 1], [1, 2]), window))[0]!.path).toEqual(['timestamps', 1]);
    expect(issuesOf(() => validateSamples('power', scalar([t0 + 0.5], [1]), window))[0]!.path).toEqual(['timestamps', 0]);
    expect(issuesOf(() => validateSamples('heart_rate', scalar([t0, t0 + 1], [80, 19]), window))[0]!.path).toEqual(['values', 1]);
    expect(issuesOf(() => validateSamples('temperature', scalar([t0], [Number.NaN]), window))[0]!.path).toEqual(['values', 0]);
  });

  it('checks each position column against its own range, skipping missing optional values', () => {
    const position: PositionSamples = {
      timestamps: Float64Array.from([t0, t0 + 1000]),
      latitude: Float64Array.from([47, 47.1]),
      longitude: Float64Array.from([8, 181]),
      altitudeM: Float64Array.from([Number.NaN, 400]),
      horizontalAccuracyM: null,
    };
    expect(issuesOf(() => validateSamples('position', position, window))).toEqual([
      { path: ['longitude', 1], message: expect.stringContaining('181') },
    ]);
  });

  it('needs at least one sample', () => {
    expect(issuesOf(() => validateSamples('cadence', scalar([], []), window))[0]!.path).toEqual(['timestamps']);
  });
});

describe('summarise and columnsFromSamples', () => {
  it('computes count, span and min/max/avg of scalar streams, and none for positions', () => {
    expect(summarise({ timestamps: Float64Array.from([t0, t0 + 5000]), values: Float64Array.from([100, 50]) })).toEqual({
      sampleCount: 2,
      startTime: new Date(t0),
      endTime: new Date(t0 + 5000),
      minValue: 50,
      maxValue: 100,
      avgValue: 75,
    });
    const position: PositionSamples = {
      timestamps: Float64Array.from([t0]),
      latitude: Float64Array.from([1]),
      longitude: Float64Array.from([2]),
      altitudeM: null,
      horizontalAccuracyM: null,
    };
    expect(summarise(position)).toMatchObject({ minValue: null, maxValue: null, avgValue: null });
  });

  it('writes NaN in optional columns back as null and flags downsampled output', () => {
    const output = columnsFromSamples(
      'position',
      {
        timestamps: Float64Array.from([t0]),
        latitude: Float64Array.from([1]),
        longitude: Float64Array.from([2]),
        altitudeM: Float64Array.from([Number.NaN]),
        horizontalAccuracyM: null,
      },
      10,
    );
    expect(output).toEqual({
      streamType: 'position',
      sampleCount: 10,
      returnedCount: 1,
      downsampled: true,
      timestamps: [t0],
      latitude: [1],
      longitude: [2],
      altitudeM: [null],
    });
  });
});
