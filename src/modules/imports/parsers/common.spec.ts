import { describe, expect, it } from '@jest/globals';
import { activityTypeFromText, conformActivities, snakeCase, StreamCollector, timeZoneForOffset } from './common.js';
import { detectFormat, type ImportedActivity } from './types.js';

const enc = (text: string) => new TextEncoder().encode(text);

describe('detectFormat', () => {
  it('sniffs each format by content, whatever the name', () => {
    const fit = Uint8Array.from([14, 0x20, 0x08, 0x52, 0, 0, 0, 0, 0x2e, 0x46, 0x49, 0x54, 0, 0]);
    expect(detectFormat(fit, 'a.gpx')).toBe('fit');
    expect(detectFormat(enc('<?xml version="1.0"?>\n<gpx version="1.1" creator="x">'), 'a.bin')).toBe('gpx');
    expect(detectFormat(enc('\uFEFF<gpx:gpx xmlns:gpx="http://www.topografix.com/GPX/1/1">'))).toBe('gpx');
    expect(detectFormat(enc('<?xml version="1.0"?><TrainingCenterDatabase xmlns="x">'))).toBe('tcx');
    expect(detectFormat(enc('<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData (x)>]>\n<HealthData locale="en">'))).toBe('apple_health_xml');
  });

  it('uses the name only for XML whose root lies beyond the sniffed head, and knows nothing else', () => {
    const padded = enc(`<?xml version="1.0"?><!-- ${'x'.repeat(5000)} --><gpx>`);
    expect(detectFormat(padded, 'Track.GPX')).toBe('gpx');
    expect(detectFormat(padded, 'notes.txt')).toBeUndefined();
    expect(detectFormat(enc('hello'), 'x.fit')).toBeUndefined();
    expect(detectFormat(Uint8Array.from([0x1f, 0x8b, 8, 0]), 'x.fit.gz')).toBeUndefined();
    expect(detectFormat(new Uint8Array(0))).toBeUndefined();
  });
});

describe('timeZoneForOffset', () => {
  const summer = new Date('2024-07-01T10:00:00Z');
  it('names the zone at the first position when its offset agrees', () => {
    expect(timeZoneForOffset(7200, summer, { latitude: 47.37, longitude: 8.54 })).toBe('Europe/Zurich');
    expect(timeZoneForOffset(19_800, summer, { latitude: 19.07, longitude: 72.87 })).toBe('Asia/Kolkata');
  });
  it('falls back to a fixed Etc zone for a whole-hour offset, and to nothing otherwise', () => {
    expect(timeZoneForOffset(3600, summer, { latitude: 47.37, longitude: 8.54 })).toBe('Etc/GMT-1');
    expect(timeZoneForOffset(-18_000, summer)).toBe('Etc/GMT+5');
    expect(timeZoneForOffset(19_800, summer)).toBeUndefined();
  });
  it('takes an offset of 0 for unknown: the position tells the zone, else there is none (never UTC)', () => {
    expect(timeZoneForOffset(0, summer)).toBeUndefined();
    expect(timeZoneForOffset(0, summer, { latitude: 47.37, longitude: 8.54 })).toBe('Europe/Zurich');
    expect(timeZoneForOffset(0, new Date('2024-01-15T10:00:00Z'), { latitude: 51.5, longitude: -0.12 })).toBe('Europe/London');
  });
});

describe('activityTypeFromText', () => {
  it.each([
    ['running', 'running'],
    ['Trail Running', 'trail_running'],
    ['Run', 'running'],
    ['road_biking', 'road_cycling'],
    ['VirtualRide', 'virtual_cycling'],
    ['MountainBikeRide', 'mountain_biking'],
    ['swimming', 'swimming'],
    ['9', 'other'],
    ['juggling', 'other'],
  ])('%s → %s', (text, slug) => {
    expect(activityTypeFromText(text).slug).toBe(slug);
  });
});

describe('snakeCase', () => {
  it('turns the SDK’s camelCase enum names into the profile’s snake_case', () => {
    expect(snakeCase('lapSwimming')).toBe('lap_swimming');
    expect(snakeCase('eBikeFitness')).toBe('e_bike_fitness');
    expect(snakeCase('trail')).toBe('trail');
  });
});

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

describe('conformActivities', () => {
  const base = (): ImportedActivity => ({
    activityType: 'running',
    sourceActivityType: null,
    startTime: new Date('2024-01-01T00:00:00Z'),
    endTime: new Date('2024-01-01T01:00:00Z'),
    statistics: [],
    events: [],
    streams: {},
    sourceData: {},
    children: [],
  });

  it('leaves out implausible values and a maximum below its average, with warnings', () => {
    const a = { ...base(), avgHeartRateBpm: 0, maxHeartRateBpm: 170, distanceM: -5, avgSpeedMS: 3, maxSpeedMS: 2.5, timeZone: 'Mars/Olympus' };
    const warnings: string[] = [];
    conformActivities([a], warnings);
    expect(a).toMatchObject({ avgHeartRateBpm: null, maxHeartRateBpm: 170, distanceM: null, avgSpeedMS: 3, maxSpeedMS: null, timeZone: null });
    expect(warnings).toEqual([
      'activity: implausible distanceM -5 left out',
      'activity: implausible avgHeartRateBpm 0 left out',
      'activity: maxSpeedMS 2.5 is below avgSpeedMS 3; left out',
    ]);
  });

  it('never lets a moving time exceed the elapsed time: up to 1 s is clamped (rounding), more is left out with a warning', () => {
    const rounding = { ...base(), durationS: 3600, movingTimeS: 3600.4 };
    const contradicted = { ...base(), durationS: 1410, movingTimeS: 2283 };
    const fine = { ...base(), durationS: 3600, movingTimeS: 3300 };
    const warnings: string[] = [];
    conformActivities([rounding, contradicted, fine], warnings);
    expect(rounding.movingTimeS).toBe(3600);
    expect(contradicted.movingTimeS).toBeNull();
    expect(fine.movingTimeS).toBe(3300);
    expect(warnings).toEqual(['activity 2: movingTimeS 2283 s is longer than the elapsed durationS 1410 s; left out']);
  });

  it('keeps pauses and laps first when there are more events than an activity may have', () => {
    const a = base();
    const at = (s: number) => new Date(a.startTime.getTime() + s * 1000);
    a.events = [
      ...Array.from({ length: 6000 }, (_, i) => ({ eventType: 'segment', startTime: at(i % 3600) })),
      { eventType: 'pause', startTime: at(100) },
      { eventType: 'resume', startTime: at(200) },
      { eventType: 'lap', startTime: at(0), endTime: at(3600) },
    ];
    const warnings: string[] = [];
    conformActivities([a], warnings);
    expect(a.events).toHaveLength(5000);
    expect(a.events.filter((e) => e.eventType !== 'segment').map((e) => e.eventType)).toEqual(['pause', 'resume', 'lap']);
    expect(warnings).toEqual(['activity: 6003 events; kept 5000, dropping segments and markers first']);
  });
});
