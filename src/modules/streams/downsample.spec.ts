import { describe, expect, it } from '@jest/globals';

import { downsampleStream, lttb, lttbWithExtremes, projectToMetres, simplifyTrack } from './downsample.js';
import type { PositionSamples, ScalarSamples } from './stream-types.js';
import { rng } from '../../../libs/testing/seeded-random.js';


const T0 = Date.UTC(2024, 4, 12, 7, 30, 0);

function series(count: number, seed: number): ScalarSamples {
  const random = rng(seed);
  const timestamps = new Float64Array(count);
  const values = new Float64Array(count);
  let t = T0;
  let v = 120;
  for (let i = 0; i < count; i++) {
    timestamps[i] = t;
    t += 1000 + Math.floor(random() * 4000);
    v += (random() - 0.5) * 6;
    values[i] = v;
  }
  return { timestamps, values };
}

function track(count: number, seed: number, start: [number, number] = [46.5197, 6.6323]): PositionSamples {
  const random = rng(seed);
  const latitude = new Float64Array(count);
  const longitude = new Float64Array(count);
  let [lat, lng] = start;
  let heading = random() * Math.PI * 2;
  for (let i = 0; i < count; i++) {
    heading += (random() - 0.5) * 0.25;
    const metres = 2 + random() * 2;
    lat += (metres * Math.cos(heading)) / 111_320;
    lng += (metres * Math.sin(heading)) / (111_320 * Math.cos((lat * Math.PI) / 180));
    latitude[i] = lat + (random() - 0.5) * 1e-6;
    longitude[i] = lng + (random() - 0.5) * 1e-6;
  }
  return {
    timestamps: Float64Array.from({ length: count }, (_, i) => T0 + i * 1000),
    latitude,
    longitude,
    altitudeM: Float64Array.from({ length: count }, (_, i) => 400 + Math.sin(i / 100) * 20),
    horizontalAccuracyM: null,
  };
}

function expectStrictlyIncreasing(values: ArrayLike<number>): void {
  for (let i = 1; i < values.length; i++) {
    if (!(values[i] > values[i - 1])) throw new Error(`not increasing at ${i}: ${values[i - 1]} then ${values[i]}`);
  }
}

function min(values: Float64Array): number {
  return values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
}

function max(values: Float64Array): number {
  return values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
}

/** Binary search in ascending timestamps. */
function indexOf(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] === value) return mid;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

/** Point-to-segment distance, written independently of the implementation under test. */
function distanceToSegment(p: [number, number], a: [number, number], b: [number, number]): number {
  const [abx, aby] = [b[0] - a[0], b[1] - a[1]];
  const [apx, apy] = [p[0] - a[0], p[1] - a[1]];
  const length2 = abx * abx + aby * aby;
  const t = length2 === 0 ? 0 : Math.min(1, Math.max(0, (apx * abx + apy * aby) / length2));
  return Math.sqrt((apx - t * abx) ** 2 + (apy - t * aby) ** 2);
}

/** Largest distance of any original fix from the simplified polyline around it, in metres. */
function maxDeviation(samples: PositionSamples, kept: Uint32Array): number {
  const { x, y } = projectToMetres(samples.latitude, samples.longitude);
  let worst = 0;
  for (let k = 1; k < kept.length; k++) {
    const a = kept[k - 1];
    const b = kept[k];
    for (let i = a + 1; i < b; i++) {
      worst = Math.max(worst, distanceToSegment([x[i], y[i]], [x[a], y[a]], [x[b], y[b]]));
    }
  }
  return worst;
}

describe('lttb', () => {
  it('returns every index when the series already fits', () => {
    const { timestamps, values } = series(50, 1);
    expect(Array.from(lttb(timestamps, values, 50))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('keeps first and last, returns exactly maxPoints ascending indices', () => {
    const { timestamps, values } = series(10_000, 2);
    for (const maxPoints of [2, 3, 10, 333, 9_999]) {
      const indices = lttb(timestamps, values, maxPoints);
      expect(indices).toHaveLength(maxPoints);
      expect(indices[0]).toBe(0);
      expect(indices[indices.length - 1]).toBe(9_999);
      expectStrictlyIncreasing(indices);
    }
  });

  it('picks the largest triangle per bucket (worked by hand)', () => {
    const timestamps = Float64Array.of(0, 1, 2, 3, 4, 5, 6, 7).map((x) => T0 + x * 1000);
    const values = Float64Array.of(0, 2, 9, 1, 3, -7, 2, 0);
    // Bucket [1,4) against the mean of [4,7): areas ∝ 10.7, 46.3, 7 → index 2.
    // Bucket [4,7) against the last point, from index 2: areas ∝ 12, 53, 1 → index 5.
    expect(Array.from(lttb(timestamps, values, 4))).toEqual([0, 2, 5, 7]);
    expect(Array.from(lttb(timestamps.subarray(0, 5), Float64Array.of(0, 1, 5, 2, 0), 3))).toEqual([0, 2, 4]);
  });

  it('rejects a maxPoints below 2 or not an integer', () => {
    const { timestamps, values } = series(10, 3);
    for (const bad of [0, 1, 2.5, Number.NaN]) expect(() => lttb(timestamps, values, bad)).toThrow(RangeError);
  });
});

describe('lttbWithExtremes', () => {
  it('restores a minimum that plain LTTB drops because a spike shares its bucket', () => {
    const count = 1000;
    const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
    const values = new Float64Array(count).fill(50);
    values[500] = 200;
    values[501] = 49;
    expect(Array.from(lttb(timestamps, values, 10))).not.toContain(501);
    const indices = lttbWithExtremes(timestamps, values, 10);
    expect(Array.from(indices)).toEqual(expect.arrayContaining([0, 500, 501, count - 1]));
    expect(indices.length).toBeLessThanOrEqual(10);
    expectStrictlyIncreasing(indices);
  });

  it('keeps first, last, global min and max for many random series and budgets', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { timestamps, values } = series(500 + seed * 97, seed);
      const maxPoints = 4 + ((seed * 37) % 200);
      const indices = lttbWithExtremes(timestamps, values, maxPoints);
      const kept = Float64Array.from(indices, (i) => values[i]);
      expect(indices.length).toBeLessThanOrEqual(maxPoints);
      expect(indices[0]).toBe(0);
      expect(indices[indices.length - 1]).toBe(timestamps.length - 1);
      expect(min(kept)).toBe(min(values));
      expect(max(kept)).toBe(max(values));
      expectStrictlyIncreasing(indices);
    }
  });

  it('keeps min and max when they are the first and last samples', () => {
    const timestamps = Float64Array.from({ length: 100 }, (_, i) => T0 + i);
    const values = Float64Array.from({ length: 100 }, (_, i) => i);
    const indices = lttbWithExtremes(timestamps, values, 5);
    expect(indices).toHaveLength(5);
    expect([indices[0], indices[4]]).toEqual([0, 99]);
  });
});

describe('simplifyTrack', () => {
  it('keeps first and last, stays within the budget, in order, and within the reported tolerance', () => {
    const samples = track(3600, 7);
    for (const maxPoints of [2, 10, 100, 500, 3000]) {
      const { indices, toleranceM } = simplifyTrack(samples.latitude, samples.longitude, maxPoints);
      expect(indices.length).toBeLessThanOrEqual(maxPoints);
      // Fewer only where RDP ties (a fix capped by its parent's tolerance) leave slots unused.
      expect(indices.length).toBeGreaterThanOrEqual(Math.floor(maxPoints * 0.8));
      expect(indices[0]).toBe(0);
      expect(indices[indices.length - 1]).toBe(3599);
      expectStrictlyIncreasing(indices);
      expect(maxDeviation(samples, indices)).toBeLessThanOrEqual(toleranceM + 1e-9);
    }
  });

  it('draws a 1 h walk with 500 of 3600 fixes less than 2 m off the real path', () => {
    const samples = track(3600, 8);
    const { indices, toleranceM } = simplifyTrack(samples.latitude, samples.longitude, 500);
    expect(toleranceM).toBeLessThan(2);
    expect(maxDeviation(samples, indices)).toBeLessThan(2);
  });

  it('keeps the turn of an out-and-back route', () => {
    const count = 2001;
    const latitude = Float64Array.from({ length: count }, (_, i) => 45 + (1000 - Math.abs(i - 1000)) * 1e-5);
    const longitude = Float64Array.from({ length: count }, (_, i) => 7 + (i % 2) * 1e-7);
    const { indices } = simplifyTrack(latitude, longitude, 3);
    expect(Array.from(indices)).toEqual([0, 1000, 2000]);
  });

  it('handles a track across the antimeridian', () => {
    const count = 1000;
    const latitude = Float64Array.from({ length: count }, (_, i) => -16.5 + i * 1e-5);
    const longitude = Float64Array.from({ length: count }, (_, i) => {
      const lng = 179.995 + i * 1e-5;
      return lng > 180 ? lng - 360 : lng;
    });
    const { indices, toleranceM } = simplifyTrack(latitude, longitude, 10);
    expect(toleranceM).toBeLessThan(0.01);
    expect(indices[0]).toBe(0);
    expect(indices[indices.length - 1]).toBe(count - 1);
  });
});

describe('downsampleStream', () => {
  it('returns the same samples when they already fit', () => {
    const scalar = series(100, 9);
    expect(downsampleStream('heart_rate', scalar, 100)).toBe(scalar);
    const position = track(100, 9);
    expect(downsampleStream('position', position, 1000)).toBe(position);
  });

  it('reduces a 2,000,000-sample scalar stream to maxPoints with first, last, min and max', () => {
    const samples = series(2_000_000, 10);
    const reduced = downsampleStream('power', samples, 1000);
    if (!('values' in reduced)) throw new Error('expected scalar samples');
    expect(reduced.timestamps.length).toBeLessThanOrEqual(1000);
    expect(reduced.timestamps.length).toBe(reduced.values.length);
    expect(reduced.timestamps[0]).toBe(samples.timestamps[0]);
    expect(reduced.timestamps[reduced.timestamps.length - 1]).toBe(samples.timestamps[samples.timestamps.length - 1]);
    expect(min(reduced.values)).toBe(min(samples.values));
    expect(max(reduced.values)).toBe(max(samples.values));
    expectStrictlyIncreasing(reduced.timestamps);
    // Every output pair is an input pair, untouched.
    reduced.timestamps.forEach((t, k) => expect(samples.values[indexOf(samples.timestamps, t)]).toBe(reduced.values[k]));
  }, 120_000);

  it('simplifies positions and carries the other columns of the kept fixes along', () => {
    const samples = track(3600, 11);
    const reduced = downsampleStream('position', samples, 300);
    if (!('latitude' in reduced)) throw new Error('expected position samples');
    expect(reduced.timestamps.length).toBeLessThanOrEqual(300);
    expect(reduced.horizontalAccuracyM).toBeNull();
    expectStrictlyIncreasing(reduced.timestamps);
    reduced.timestamps.forEach((t, k) => {
      const i = (t - T0) / 1000;
      expect(reduced.latitude[k]).toBe(samples.latitude[i]);
      expect(reduced.longitude[k]).toBe(samples.longitude[i]);
      expect(reduced.altitudeM?.[k]).toBe(samples.altitudeM?.[i]);
    });
    expect(reduced.latitude[0]).toBe(samples.latitude[0]);
    expect(reduced.longitude[reduced.longitude.length - 1]).toBe(samples.longitude[3599]);
  });

  it('rejects a budget below 2, and samples of the wrong shape for the type', () => {
    expect(() => downsampleStream('speed', series(10, 12), 1)).toThrow(RangeError);
    expect(() => downsampleStream('position', series(10, 12), 5)).toThrow(TypeError);
    expect(() => downsampleStream('heart_rate', track(10, 12), 5)).toThrow(TypeError);
  });
});
