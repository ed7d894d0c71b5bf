import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGpx, syntheticTrack, type TrackPoint } from '../../../../test/fixtures/imports/xml-builders.js';
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import { parseGpx } from './gpx.js';
import { parseFile } from './index.js';
import { UnreadableFileError, type ImportedActivity } from './types.js';

const START = Date.UTC(2024, 4, 1, 6, 0, 0);
/** Real GPX files from other projects' test suites (../shared/corpus/gpx). */
const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'gpx');

function values(activity: ImportedActivity, type: keyof ImportedActivity['streams']): { t: number[]; v: number[] } {
  const s = activity.streams[type] as ScalarSamples;
  return { t: Array.from(s.timestamps), v: Array.from(s.values) };
}

function expectPoints(activity: ImportedActivity, points: TrackPoint[]): void {
  const position = activity.streams.position as PositionSamples;
  expect(Array.from(position.timestamps)).toEqual(points.map((p) => p.timeMs));
  expect(Array.from(position.latitude)).toEqual(points.map((p) => p.latitude));
  expect(Array.from(position.longitude)).toEqual(points.map((p) => p.longitude));
  // Each fix's elevation is stored once, in the altitude stream below.
  expect(position.altitudeM).toBeNull();
  expect(position.horizontalAccuracyM).toBeNull();
  expect(values(activity, 'altitude')).toEqual({ t: points.map((p) => p.timeMs), v: points.map((p) => p.elevationM) });
  expect(values(activity, 'heart_rate')).toEqual({ t: points.map((p) => p.timeMs), v: points.map((p) => p.heartRateBpm) });
  expect(values(activity, 'cadence')).toEqual({ t: points.map((p) => p.timeMs), v: points.map((p) => p.cadence) });
}

function reject(text: string): UnreadableFileError {
  try {
    parseGpx(text);
  } catch (error) {
    if (error instanceof UnreadableFileError) return error;
    throw error;
  }
  throw new Error('expected an UnreadableFileError');
}

describe('parseGpx', () => {
  it('imports a Garmin track with TrackPointExtension heart rate and cadence, and power, sample for sample', () => {
    const points = syntheticTrack(START, 600, { power: true, temperature: true });
    const result = parseGpx(buildGpx([{ name: 'Morning Ride', type: 'cycling', segments: [points] }]));
    expect(result.format).toBe('gpx');
    expect(result.warnings).toEqual([]);
    const [ride] = result.activities;
    expect(ride.activityType).toBe('cycling');
    expect(ride.sourceActivityType).toBe('gpx:cycling');
    expect(ride.name).toBe('Morning Ride');
    expect(ride.startTime.getTime()).toBe(START);
    expect(ride.endTime.getTime()).toBe(START + 599_000);
    expect(ride.timeZone).toBe('Europe/Zurich');
    expect(ride.durationS).toBe(599);
    expectPoints(ride, points);
    expect(values(ride, 'power').v).toEqual(points.map((p) => p.powerW));
    expect(values(ride, 'temperature').v).toEqual(points.map(() => 21));
    const hr = points.map((p) => p.heartRateBpm!);
    expect(ride.avgHeartRateBpm).toBe(Math.round(hr.reduce((a, b) => a + b, 0) / hr.length));
    expect(ride.maxHeartRateBpm).toBe(149);
    // ~0.00003° per second north-east at 47° N: about 3 m/s.
    expect(ride.distanceM).toBeGreaterThan(1500);
    expect(ride.distanceM).toBeLessThan(2500);
    expect(ride.elevationGainM).toBeGreaterThan(0);
    expect(ride.events).toEqual([]);
  });

  it('imports several tracks as several activities, and segments as pauses', () => {
    const a = syntheticTrack(START, 100);
    const b1 = syntheticTrack(START + 3_600_000, 50);
    const b2 = syntheticTrack(START + 3_600_000 + 120_000, 50);
    const result = parseGpx(buildGpx([{ name: 'Run', type: 'running', segments: [a] }, { name: 'Hike', type: 'Hike', segments: [b1, b2] }]));
    expect(result.activities.map((x) => [x.activityType, x.name])).toEqual([
      ['running', 'Run'],
      ['hiking', 'Hike'],
    ]);
    const hike = result.activities[1];
    expectPoints(hike, [...b1, ...b2]);
    expect(hike.events.map((e) => [e.eventType, e.startTime.getTime()])).toEqual([
      ['pause', b1.at(-1)!.timeMs],
      ['resume', b2[0].timeMs],
    ]);
  });

  it('skips lat="undefined", empty segments and points going back in time, and says so', () => {
    const points = syntheticTrack(START, 20);
    const messy: TrackPoint[] = [...points.slice(0, 5), { ...points[5], latitude: 'undefined' }, ...points.slice(6, 10), { ...points[2] }, ...points.slice(10)];
    const text = buildGpx([{ type: 'running', segments: [messy, []] }]);
    const result = parseGpx(text);
    expect(result.warnings).toEqual([
      'skipped 1 track points without a usable latitude/longitude: 1 whose lat or lon is not a number (e.g. lat="undefined" lon="8.54185")',
      'skipped 1 empty track segments',
      'track: dropped 1 points whose time goes backwards',
    ]);
    const kept = points.filter((_, i) => i !== 5);
    expectPoints(result.activities[0], kept);
  });

  it('sums the distance within each track segment, not the straight line between segments', () => {
    // Three segments walking north along a meridian, 0.0001° (11.12 m) per step; 0.01° (1.1 km) between segments.
    const segment = (fromMs: number, fromLat: number): TrackPoint[] =>
      [0, 1, 2].map((i) => ({ timeMs: fromMs + i * 10_000, latitude: fromLat + i * 0.0001, longitude: 8.5417, elevationM: 410 }));
    const segments = [segment(START, 47.37), segment(START + 600_000, 47.38), segment(START + 1_200_000, 47.39)];
    const [walk] = parseGpx(buildGpx([{ type: 'walking', segments }])).activities;
    const stepM = 0.0001 * (Math.PI / 180) * 6_371_008.8;
    expect(walk.distanceM).toBeCloseTo(6 * stepM, 6);
    // The speed derived from it is over the moving time (segments joined by pauses count as elapsed time).
    expect(walk.avgSpeedMS).toBeCloseTo((6 * stepM) / walk.durationS!, 9);
    expect(walk.events.map((e) => e.eventType)).toEqual(['pause', 'resume', 'pause', 'resume']);
  });

  it('keeps a recorded distance over the path length', () => {
    const points = syntheticTrack(START, 30).map((p) => ({ ...p, distanceM: undefined }));
    const text = buildGpx([{ segments: [points.slice(0, 15), points.slice(15)] }]).replace(
      /<\/extensions><\/trkpt>/g,
      (() => {
        let i = 0;
        return () => `<distance>${i++ * 5}</distance></extensions></trkpt>`;
      })(),
    );
    expect(parseGpx(text).activities[0].distanceM).toBe(29 * 5);
  });

  it.each([
    ['not a number', { latitude: 'undefined' }, 'whose lat or lon is not a number (e.g. lat="undefined" lon="8.5417")'],
    ['out of range', { latitude: 91.5 }, 'whose lat or lon is out of range (e.g. lat="91.5" lon="8.5417")'],
  ])('rejects a GPX file whose every point has an unusable position (%s), with that reason', (_, bad, reason) => {
    const points = syntheticTrack(START, 5).map((p) => ({ ...p, longitude: 8.5417, ...bad }));
    expect(reject(buildGpx([{ type: 'running', segments: [points] }])).reason).toBe(
      `the GPX file has no track point with a usable latitude/longitude: 5 ${reason}`,
    );
  });

  it('rejects a GPX file whose points lack lat/lon, and imports the valid points of another, warning about the rest', () => {
    const noAttributes = buildGpx([{ type: 'running', segments: [syntheticTrack(START, 3)] }]).replace(/ lat="[^"]*"/g, '');
    expect(reject(noAttributes).reason).toBe('the GPX file has no track point with a usable latitude/longitude: 3 without lat or lon (e.g. lat=missing lon="8.5417")');

    const points = syntheticTrack(START, 10);
    const mixed = points.map((p, i) => (i === 3 ? { ...p, longitude: 200 } : i === 6 ? { ...p, latitude: 'NaN' } : p));
    const result = parseGpx(buildGpx([{ type: 'running', segments: [mixed] }]));
    expect(result.warnings).toEqual([
      `skipped 2 track points without a usable latitude/longitude: 1 whose lat or lon is out of range (e.g. lat="${points[3].latitude}" lon="200"), ` +
        `1 whose lat or lon is not a number (e.g. lat="NaN" lon="${points[6].longitude}")`,
    ]);
    expect(Array.from((result.activities[0].streams.position as PositionSamples).timestamps)).toEqual(
      points.filter((_, i) => i !== 3 && i !== 6).map((p) => p.timeMs),
    );
  });

  it('skips a track whose points all lack a usable position when another track is fine', () => {
    const bad = syntheticTrack(START, 4).map((p) => ({ ...p, latitude: 'undefined' }));
    const good = syntheticTrack(START + 3_600_000, 4);
    const result = parseGpx(buildGpx([{ name: 'broken', segments: [bad] }, { name: 'fine', segments: [good] }]));
    expect(result.activities.map((a) => a.name)).toEqual(['fine']);
    expect(result.warnings).toContain('track 1 "broken": no track point with a usable latitude/longitude; skipped');
  });

  it('rejects a GPX file whose tracks have no times, with the reason', () => {
    const points = syntheticTrack(START, 10).map((p) => ({ ...p, timeMs: undefined }));
    expect(reject(buildGpx([{ segments: [points] }])).reason).toBe(
      'the GPX file has no track with usable timestamps: an activity needs times (missing, unreadable, or before 1980-01-06, a placeholder)',
    );
  });

  it("rejects the corpus's GPSBabel file whose points all carry the 1901-12-13 placeholder, not as one instant of 1901", () => {
    const text = readFileSync(join(CORPUS, 'Mojstrovka.gpx'), 'utf8');
    expect(text).toContain('<time>1901-12-13T20:45:52.207Z</time>');
    expect(reject(text).reason).toBe('the GPX file has no track with usable timestamps: an activity needs times (missing, unreadable, or before 1980-01-06, a placeholder)');
  });

  it('drops the points with a placeholder time and starts the track at its first real one', () => {
    const points = syntheticTrack(START, 20);
    const placeholder = Date.UTC(1901, 11, 13, 20, 45, 52);
    const result = parseGpx(buildGpx([{ segments: [[...points.slice(0, 3).map((p) => ({ ...p, timeMs: placeholder })), ...points.slice(3)]] }]));
    expect(result.warnings).toContain('track: dropped 3 points without a usable time (missing, unreadable, or before 1980-01-06, a placeholder)');
    expect(result.activities[0].startTime.getTime()).toBe(points[3]!.timeMs);
  });

  it('imports the timed track of a file and skips the one without times', () => {
    const timed = syntheticTrack(START, 10);
    const untimed = syntheticTrack(START, 10).map((p) => ({ ...p, timeMs: undefined }));
    const result = parseGpx(buildGpx([{ name: 'planned', segments: [untimed] }, { name: 'done', segments: [timed] }]));
    expect(result.activities.map((a) => a.name)).toEqual(['done']);
    expect(result.warnings).toEqual(['track 1 "planned": no usable timestamps; skipped (an activity needs times; missing, unreadable, or before 1980-01-06, a placeholder)']);
    expect(result.activities[0].activityType).toBe('other');
    expect(result.activities[0].sourceActivityType).toBeNull();
  });

  it.each([
    ['an empty document', '', 'empty file'],
    ['broken XML', '<gpx><trk><trkseg><trkpt lat="1" lon="2"></trkseg>', 'malformed GPX'],
    ['a route-only GPX', '<gpx version="1.1"><rte><rtept lat="1" lon="2"/></rte></gpx>', 'holds no track'],
    ['another XML document', '<kml><Document/></kml>', 'not a GPX file'],
  ])('rejects %s with a reason', (_, text, reason) => {
    expect(reject(text).reason).toContain(reason);
  });

  it('is what parseFile picks for GPX bytes, BOM or not', () => {
    const text = buildGpx([{ type: 'walking', segments: [syntheticTrack(START, 5)] }]);
    const bytes = new TextEncoder().encode(`\uFEFF${text}`);
    expect(parseFile(bytes, 'walk.gpx').activities[0].activityType).toBe('walking');
  });
});
