import { describe, expect, it } from '@jest/globals';
import { StreamCollector } from './stream-collector.js';

describe('StreamCollector', () => {
  it('keeps samples in typed arrays, drops implausible ones with a warning, marks missing altitude as NaN', () => {
    const c = new StreamCollector(2);
    for (let i = 0; i < 40; i++) c.add('heart_rate', i * 1000, i === 3 ? 0 : 100 + i);
    c.add('heart_rate', 41_000, null);
    c.addPosition(0, 47, 8, 400);
    c.addPosition(1000, 47.1, 8.1, null);
    c.addPosition(2000, 95, 8.1, 400);
    const warnings: string[] = [];
    const streams = c.build(warnings, 'x');
    expect(warnings).toEqual(['x: dropped 1 heart_rate samples outside 20–260 bpm', 'x: dropped 1 positions outside ±90°/±180°']);
    expect(streams.heart_rate!.timestamps).toHaveLength(39);
    expect(streams.heart_rate!.timestamps.buffer.byteLength).toBe(39 * 8);
    const position = streams.position as { altitudeM: Float64Array; horizontalAccuracyM: Float64Array | null };
    expect(Array.from(position.altitudeM)).toEqual([400, Number.NaN]);
    expect(position.horizontalAccuracyM).toBeNull();
  });

  it("stores a fix's altitude once: left out of position only when the altitude stream holds every one of them", () => {
    const build = (altitudeOf: (i: number) => number | null) => {
      const c = new StreamCollector(4);
      for (let i = 0; i < 5; i++) {
        c.addPosition(i * 1000, 47 + i / 1000, 8, i === 2 ? null : 400.25 + i);
        c.add('altitude', i * 1000, altitudeOf(i));
      }
      return c.build([], 'x');
    };
    const same = build((i) => (i === 2 ? null : 400.25 + i));
    expect(same.position!).toMatchObject({ altitudeM: null });
    expect(Array.from((same.altitude as { values: Float64Array }).values)).toEqual([400.25, 401.25, 403.25, 404.25]);
    // One differing value, or one fix's altitude missing from the altitude stream: position keeps them all.
    for (const differing of [build((i) => (i === 3 ? 403.5 : 400.25 + i)), build((i) => (i === 4 ? null : 400.25 + i))]) {
      expect(Array.from((differing.position as { altitudeM: Float64Array }).altitudeM)).toEqual([400.25, 401.25, Number.NaN, 403.25, 404.25]);
    }
  });

  it('stores a fix\'s altitude once also when a route repeats timestamps: fixes pair with altitude samples per instant, in order', () => {
    // An Apple Watch route: two fixes at 1000 and three at 2000, each with its own altitude.
    const times = [0, 1000, 1000, 2000, 2000, 2000, 3000];
    const alts = [400.5, 401.5, 401.75, 402.5, Number.NaN, 402.25, 403.5];
    const build = (altitudeOf: (i: number) => number | null) => {
      const c = new StreamCollector(8);
      times.forEach((t, i) => {
        c.addPosition(t, 47 + i / 1000, 8, Number.isNaN(alts[i]!) ? null : alts[i]);
        c.add('altitude', t, altitudeOf(i));
      });
      return c.build([], 'x');
    };
    const same = build((i) => (Number.isNaN(alts[i]!) ? null : alts[i]!));
    expect(same.position!).toMatchObject({ altitudeM: null });
    expect(Array.from((same.altitude as { timestamps: Float64Array }).timestamps)).toEqual([0, 1000, 1000, 2000, 2000, 3000]);
    expect(Array.from((same.altitude as { values: Float64Array }).values)).toEqual([400.5, 401.5, 401.75, 402.5, 402.25, 403.5]);
    // The same values at an instant in another order, or one more altitude sample at an instant
    // than fixes with an altitude there, cannot be paired back: position keeps its altitudes.
    const swapped = build((i) => (i === 1 ? 401.75 : i === 2 ? 401.5 : Number.isNaN(alts[i]!) ? null : alts[i]!));
    expect(Array.from((swapped.position as { altitudeM: Float64Array }).altitudeM)).toEqual(alts);
    const extra = build((i) => (Number.isNaN(alts[i]!) ? 402.4 : alts[i]!));
    expect(Array.from((extra.position as { altitudeM: Float64Array }).altitudeM)).toEqual(alts);
  });
});
