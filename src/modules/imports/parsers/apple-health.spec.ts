import { describe, expect, it } from '@jest/globals';
import {
  APPLE_START_MS,
  appleDate,
  appleHealthRoutes,
  appleInlineLocations,
  appleRoutePoints,
  appleSampleRecords,
  buildAppleHealthExport,
  ROUTE_PATH,
  RUN_WINDOW,
  TREADMILL_WINDOW,
  WATCH,
  type SampleRecord,
} from '../../../../test/fixtures/imports/apple-health-builder.js';
import { buildAppleRouteGpx } from '../../../../test/fixtures/imports/xml-builders.js';
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import { resolveHealthKitActivityType } from '../../sync/mappers/healthkit.js';
import { parseAppleDate, parseAppleHealthExport, TruncatedExportError } from './apple-health.js';
import { detectFormat, UnreadableFileError, type ImportedActivity } from './types.js';

/** The document as a stream of small byte chunks, cutting multi-byte characters apart. */
function chunks(text: string, size = 97): () => AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return async function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  };
}

const routes = appleHealthRoutes();
const readRoute = async (path: string) => routes.get(path);

async function collect(source: () => AsyncIterable<Uint8Array>): Promise<ImportedActivity[]> {
  const out: ImportedActivity[] = [];
  for await (const activity of parseAppleHealthExport(source, readRoute)) out.push(activity);
  return out;
}

describe('parseAppleHealthExport', () => {
  it('imports a route written inline as <Location> points like the route file, and names the workout the same in both variants', async () => {
    const fromFile = await collect(chunks(buildAppleHealthExport()));
    const inline = await collect(chunks(buildAppleHealthExport({ inlineRoute: true })));
    const [fileRun, inlineRun] = [fromFile[0], inline[0]];
    const points = appleRoutePoints();
    const position = inlineRun.streams.position as PositionSamples;
    expect(Array.from(position.timestamps)).toEqual(points.map((p) => p.timeMs));
    expect(Array.from(position.latitude)).toEqual(points.map((p) => p.latitude));
    expect(Array.from(position.longitude)).toEqual(points.map((p) => p.longitude));
    expect(Array.from(position.horizontalAccuracyM!)).toEqual(points.map((p) => p.horizontalAccuracyM));
    expect(position.altitudeM).toBeNull();
    expect(Array.from((inlineRun.streams.altitude as ScalarSamples).values)).toEqual(points.map((p) => p.elevationM));
    expect(Array.from((inlineRun.streams.speed as ScalarSamples).values)).toEqual(points.map((p) => p.speedMS));
    // The same streams, summary and events as the route-file variant; only the archived route description differs.
    expect(inlineRun.streams).toEqual(fileRun.streams);
    const { sourceData: _a, streams: _b, ...inlineFields } = inlineRun;
    const { sourceData: _c, streams: _d, ...fileFields } = fileRun;
    expect(inlineFields).toEqual(fileFields);
    expect(inlineRun.sourceData.routes).toEqual([expect.objectContaining({ paths: [], locationCount: points.length })]);
    expect(fileRun.sourceData.routes).toEqual([expect.objectContaining({ paths: [`/${ROUTE_PATH}`] })]);
    expect(inlineRun.identity).toEqual({
      workoutActivityType: 'HKWorkoutActivityTypeRunning',
      start: new Date(APPLE_START_MS).toISOString(),
      end: new Date(APPLE_START_MS + 1_830_000).toISOString(),
      sourceName: WATCH,
      device: expect.stringContaining('name:Apple Watch'),
    });
    expect(inline.map((w) => w.identity)).toEqual(fromFile.map((w) => w.identity));
  });

  it('names a workout by its instants and device, not by the export’s offset or HealthKit’s memory address', async () => {
    const a = buildAppleHealthExport();
    const shifted = a
      .replace(/HKDevice: 0x[0-9a-f]+/g, 'HKDevice: 0x600001234567')
      .replace(/startDate="([^"]+) \+0200"/g, (_, local: string) => `startDate="${appleDate(parseAppleDate(`${local} +0200`)!, -300).slice(0, 19)} -0500"`)
      .replace(/endDate="([^"]+) \+0200"/g, (_, local: string) => `endDate="${appleDate(parseAppleDate(`${local} +0200`)!, -300).slice(0, 19)} -0500"`);
    expect(shifted).not.toEqual(a);
    const [first, second] = [await collect(chunks(a)), await collect(chunks(shifted))];
    expect(second.map((w) => w.identity)).toEqual(first.map((w) => w.identity));
    expect(second.map((w) => w.startTime.getTime())).toEqual(first.map((w) => w.startTime.getTime()));
  });

  it('skips inline locations without a valid fix and leaves out an invalid altitude or speed', async () => {
    const points = appleRoutePoints().slice(0, 4);
    let locations = appleInlineLocations(points);
    const lines = locations.split('\n');
    // CoreLocation's marks: negative horizontal accuracy (no fix), negative vertical accuracy (no altitude), negative speed (none).
    lines[1] = lines[1].replace(/horizontalAccuracy="[^"]+"/, 'horizontalAccuracy="-1"');
    lines[2] = lines[2].replace(/verticalAccuracy="[^"]+"/, 'verticalAccuracy="-1"').replace(/speed="[^"]+"/, 'speed="-1"');
    locations = lines.join('\n');
    const xml = buildAppleHealthExport({ inlineRoute: true }).replace(appleInlineLocations(), locations);
    const [run] = await collect(chunks(xml));
    const kept = [points[0], points[2], points[3]];
    expect(Array.from((run.streams.position as PositionSamples).timestamps)).toEqual(kept.map((p) => p.timeMs));
    expect(Array.from((run.streams.altitude as ScalarSamples).timestamps)).toEqual([points[0], points[3]].map((p) => p.timeMs));
    expect(Array.from((run.streams.speed as ScalarSamples).timestamps)).toEqual([points[0], points[3]].map((p) => p.timeMs));
    expect(run.warnings).toEqual(['route: skipped 1 inline locations without a date or a valid fix']);
  });

  it('streams the workouts with their metadata, events, statistics and route', async () => {
    const workouts = await collect(chunks(buildAppleHealthExport()));
    expect(workouts.map((w) => w.activityType)).toEqual(['running', 'treadmill_running', 'pool_swimming', 'walking', 'triathlon']);

    const [run, treadmill, swim, walk, triathlon] = workouts;
    expect(run.sourceActivityType).toBe('HKWorkoutActivityTypeRunning');
    expect(run.startTime.getTime()).toBe(APPLE_START_MS);
    expect(run.endTime.getTime()).toBe(APPLE_START_MS + 1_830_000);
    expect(run.timeZone).toBe('Europe/Zurich');
    expect(run.durationS).toBe(1830);
    expect(run.movingTimeS).toBe(1800);
    expect(run.avgSpeedMS).toBe(5200 / 1800);
    expect(run.distanceM).toBe(5200);
    expect(run.activeEnergyKcal).toBe(312.5);
    expect(run.avgHeartRateBpm).toBe(151.2);
    expect(run.maxHeartRateBpm).toBe(178);
    expect(run.elevationGainM).toBe(45);
    expect(run.isIndoor).toBe(false);
    expect(run.deviceName).toBe('Apple Watch');
    expect(run.statistics).toEqual(
      expect.arrayContaining([
        { key: 'min_heart_rate_bpm', value: 98, unit: 'bpm' },
        { key: 'avg_power_w', value: 251, unit: 'W' },
        { key: 'max_power_w', value: 402, unit: 'W' },
        { key: 'total_steps', value: 5123, unit: 'count' },
        { key: 'avg_temperature_c', value: 20, unit: '°C' },
        { key: 'weather_humidity_percent', value: 56, unit: '%' },
        { key: 'avg_mets', value: 9.81, unit: 'kcal/(kg·hr)' },
      ]),
    );
    expect(run.events.map((e) => [e.eventType, e.startTime.getTime(), e.endTime?.getTime() ?? null])).toEqual([
      ['segment', APPLE_START_MS, APPLE_START_MS + 600_000],
      ['pause', APPLE_START_MS + 600_000, null],
      ['resume', APPLE_START_MS + 630_000, null],
      ['lap', APPLE_START_MS, APPLE_START_MS + 900_000],
    ]);
    const points = appleRoutePoints();
    const position = run.streams.position as PositionSamples;
    expect(Array.from(position.timestamps)).toEqual(points.map((p) => p.timeMs));
    expect(Array.from(position.latitude)).toEqual(points.map((p) => p.latitude));
    expect(Array.from(position.longitude)).toEqual(points.map((p) => p.longitude));
    // Each route point's elevation is stored once, in the altitude stream.
    expect(position.altitudeM).toBeNull();
    expect(Array.from(position.horizontalAccuracyM!)).toEqual(points.map((p) => p.horizontalAccuracyM));
    expect(Array.from((run.streams.speed as ScalarSamples).values)).toEqual(points.map((p) => p.speedMS));
    expect(Array.from((run.streams.altitude as ScalarSamples).values)).toEqual(points.map((p) => p.elevationM));
    expect(run.sourceData.workout).toMatchObject({ workoutActivityType: 'HKWorkoutActivityTypeRunning', sourceName: 'Jörg’s Apple Watch' });
    expect(run.sourceData.metadata).toMatchObject({ HKTimeZone: 'Europe/Zurich', HKElevationAscended: '4500 cm' });
    expect(run.warnings).toBeUndefined();

    expect(treadmill.isIndoor).toBe(true);
    expect(treadmill.distanceM).toBeCloseTo(3.1 * 1609.344, 9);
    expect(treadmill.activeEnergyKcal).toBeCloseTo(800 / 4.184, 9);
    expect(treadmill.streams).toEqual({});

    expect(swim.statistics).toEqual(
      expect.arrayContaining([
        { key: 'pool_length_m', value: 25, unit: 'm' },
        { key: 'total_strokes', value: 980, unit: 'count' },
      ]),
    );
    expect(swim.distanceM).toBe(1500);

    expect(walk.warnings).toEqual(['route workout-routes/route_missing.gpx is missing from the export']);
    expect(walk.deviceName).toBe('iPhone');
    expect([walk.avgHeartRateBpm, walk.maxHeartRateBpm]).toEqual([101, 117]);
    expect(walk.children).toEqual([]);

    expect(triathlon.children.map((c) => [c.activityType, c.startTime.getTime() - triathlon.startTime.getTime(), c.durationS, c.distanceM])).toEqual([
      ['swimming', 0, 1800, 1500],
      ['transition', 1_800_000, 180, null],
      ['cycling', 1_980_000, 3420, 40_000],
      ['transition', 5_400_000, 120, null],
      ['running', 5_520_000, 1680, 10_000],
    ]);
    expect(triathlon.children.every((c) => c.sourceActivityType === null && c.children.length === 0)).toBe(true);
  });

  it('keeps only the route points inside the workout (±60 s), and says what it dropped', async () => {
    const points = appleRoutePoints();
    const late = { ...points[0], timeMs: APPLE_START_MS + 1_830_000 + 300_000 };
    const before = { ...points[0], timeMs: APPLE_START_MS - 30_000, elevationM: -900 };
    const gpx = buildAppleRouteGpx([before, ...points, late]);
    const text = buildAppleHealthExport();
    const workouts: ImportedActivity[] = [];
    for await (const w of parseAppleHealthExport(chunks(text), async (p) => (p === ROUTE_PATH ? new TextEncoder().encode(gpx) : undefined))) {
      workouts.push(w);
    }
    const position = workouts[0].streams.position as PositionSamples;
    expect(Array.from(position.timestamps)).toEqual([before.timeMs, ...points.map((p) => p.timeMs)]);
    // An altitude below −500 m is a glitch: the fix is kept, its altitude is not (the others are in the altitude stream).
    expect(position.altitudeM).toBeNull();
    expect((workouts[0].streams.altitude as ScalarSamples).timestamps).not.toContain(before.timeMs);
    expect(workouts[0].warnings).toEqual([
      'route: dropped 1 altitude samples outside -500–9000 m',
      "route: dropped 1 altitude samples outside the activity's time",
      "route: dropped 1 speed samples outside the activity's time",
      "route: dropped 1 position samples outside the activity's time",
    ]);
  });

  it('reads the workouts as they stream past, without buffering the export', async () => {
    const text = buildAppleHealthExport({ recordsBetween: 2000 });
    let pulled = 0;
    const total = Math.ceil(new TextEncoder().encode(text).length / 4096);
    let passes = 0;
    const source = async function* () {
      // The second pass is the one that yields.
      passes++;
      pulled = 0;
      for await (const chunk of chunks(text, 4096)()) {
        pulled++;
        yield chunk;
      }
    };
    const pulledAtFirstWorkout: number[] = [];
    for await (const workout of parseAppleHealthExport(source, readRoute)) {
      expect(passes).toBe(2);
      pulledAtFirstWorkout.push(pulled);
      expect(workout.activityType).toBeDefined();
    }
    expect(pulledAtFirstWorkout).toHaveLength(5);
    expect(pulledAtFirstWorkout[0]).toBeLessThan(total / 2);
  });

  it('keeps the workouts before a break in the XML and then reports the break', async () => {
    const text = buildAppleHealthExport();
    const cut = text.indexOf('HKWorkoutActivityTypeSwimming') + 40;
    const broken = `${text.slice(0, cut)}<<<${text.slice(cut)}`;
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const workout of parseAppleHealthExport(chunks(broken), readRoute)) seen.push(workout.activityType);
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual(['running', 'treadmill_running']);
    expect(error).toBeInstanceOf(TruncatedExportError);
    expect((error as TruncatedExportError).imported).toBe(2);
  });

  it.each([
    ['an empty stream', '', 'empty file'],
    ['a GPX file', '<?xml version="1.0"?><gpx version="1.1"></gpx>', 'not an Apple Health export'],
    ['broken XML before any workout', '<HealthData locale="en"><Record <<', 'malformed Apple Health export.xml'],
  ])('rejects %s with a reason', async (_, text, reason) => {
    let error: unknown;
    try {
      await collect(chunks(text));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect((error as UnreadableFileError).reason).toContain(reason);
  });

  it('is detected by its head', () => {
    const head = new TextEncoder().encode(buildAppleHealthExport().slice(0, 4096));
    expect(detectFormat(head, 'export.xml')).toBe('apple_health_xml');
  });
});

/** The records of `type` from `source` lying entirely inside `window`, in time order (by `at`). */
function inside(records: SampleRecord[], type: string, source: string, window: { startMs: number; endMs: number }, at: 'startMs' | 'endMs' = 'startMs') {
  return records
    .filter((r) => r.type === `HKQuantityTypeIdentifier${type}` && r.sourceName === source && r.startMs >= window.startMs && r.endMs <= window.endMs)
    .sort((x, y) => x[at] - y[at]);
}

const scalar = (activity: ImportedActivity, type: keyof ImportedActivity['streams']) => {
  const samples = activity.streams[type] as ScalarSamples | undefined;
  return samples ? { t: Array.from(samples.timestamps), v: Array.from(samples.values) } : undefined;
};

describe('parseAppleHealthExport: sample records', () => {
  const records = appleSampleRecords();

  it('brings every sample inside a workout into its streams, exactly, and none outside', async () => {
    const [run, treadmill, swim, walk, triathlon] = await collect(chunks(buildAppleHealthExport({ samples: true })));

    const hr = inside(records, 'HeartRate', WATCH, RUN_WINDOW);
    expect(hr.length).toBe(367);
    expect(scalar(run, 'heart_rate')).toEqual({ t: hr.map((r) => r.startMs), v: hr.map((r) => Number(r.value)) });
    expect(scalar(run, 'heart_rate')!.v).toContain(123.3);
    const power = inside(records, 'RunningPower', WATCH, RUN_WINDOW);
    expect(scalar(run, 'power')).toEqual({ t: power.map((r) => r.startMs), v: power.map((r) => Number(r.value)) });
    // Distance increments (km) summed into the cumulative stream (m) at each increment's end.
    const distance = inside(records, 'DistanceWalkingRunning', WATCH, RUN_WINDOW, 'endMs');
    let total = 0;
    expect(scalar(run, 'distance')).toEqual({ t: distance.map((r) => r.endMs), v: distance.map((r) => (total += Number(r.value) * 1000)) });
    expect(distance[0].startMs).toBe(RUN_WINDOW.startMs);
    // The route has speed: the watch's RunningSpeed records do not replace it. Step counts are no cadence.
    expect(Array.from((run.streams.speed as ScalarSamples).values)).toEqual(appleRoutePoints().map((p) => p.speedMS));
    expect(run.streams.cadence).toBeUndefined();
    expect(run.warnings).toEqual([
      `records: kept the 367 HeartRate samples of "${WATCH}"; left out 61 from "Polar Beat"`,
      `records: kept the 183 DistanceWalkingRunning samples of "${WATCH}"; left out 30 from "iPhone"`,
      "records: left out 12 RunningSpeed samples; the route's speed is kept",
    ]);
    // The summary still comes from the workout's statistics, not from the samples.
    expect([run.avgHeartRateBpm, run.maxHeartRateBpm, run.distanceM]).toEqual([151.2, 178, 5200]);

    // The treadmill run's records come after all workouts in the file.
    const treadmillHr = inside(records, 'HeartRate', WATCH, TREADMILL_WINDOW);
    expect(treadmillHr.length).toBe(241);
    expect(scalar(treadmill, 'heart_rate')).toEqual({ t: treadmillHr.map((r) => r.startMs), v: treadmillHr.map((r) => Number(r.value)) });
    const speed = inside(records, 'RunningSpeed', WATCH, TREADMILL_WINDOW);
    expect(scalar(treadmill, 'speed')).toEqual({ t: speed.map((r) => r.startMs), v: speed.map((r) => Number(r.value) / 3.6) });
    expect(Object.keys(treadmill.streams).sort()).toEqual(['heart_rate', 'speed']);
    expect(treadmill.warnings).toBeUndefined();
    // Without samples of its own, a workout's heart rate comes from its statistics.
    expect([treadmill.avgHeartRateBpm, treadmill.maxHeartRateBpm]).toEqual([Math.round(treadmillHr.reduce((a, r) => a + Number(r.value), 0) / treadmillHr.length), 159]);

    for (const other of [swim, walk, triathlon]) {
      expect(other.streams.heart_rate).toBeUndefined();
      expect(other.streams.distance).toBeUndefined();
    }
    // What lay outside both windows is in no stream: every kept sample is accounted for above.
    const kept = [run, treadmill].flatMap((w) => Object.values(w.streams)).reduce((n, samples) => n + samples.timestamps.length, 0);
    expect(kept).toBe(hr.length + power.length + distance.length + appleRoutePoints().length * 3 + treadmillHr.length + speed.length);
  });

  it('takes another source when the workout’s own wrote none, and the one with most samples', async () => {
    const w = RUN_WINDOW;
    const record = (source: string, ms: number, value: string) =>
      ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="${source}" unit="count/min" startDate="${appleDate(ms)}" endDate="${appleDate(ms)}" value="${value}"/>\n`;
    const text =
      `<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n` +
      ` <Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="10" durationUnit="min" sourceName="Zwift" startDate="${appleDate(w.startMs)}" endDate="${appleDate(w.startMs + 600_000)}">\n` +
      ` </Workout>\n` +
      // After the workout, with a power record in kcal/hr the unit table has no rule for, and a cadence.
      record('Apple Watch', w.startMs + 1000, '101') +
      record('Apple Watch', w.startMs + 2000, '102') +
      record('Strap', w.startMs + 1500, '99') +
      ` <Record type="HKQuantityTypeIdentifierCyclingPower" sourceName="Zwift" unit="kcal/hr" startDate="${appleDate(w.startMs)}" endDate="${appleDate(w.startMs)}" value="170"/>\n` +
      ` <Record type="HKQuantityTypeIdentifierCyclingCadence" sourceName="Zwift" unit="count/min" startDate="${appleDate(w.startMs + 3000)}" endDate="${appleDate(w.startMs + 3000)}" value="88"/>\n` +
      record('Apple Watch', w.startMs + 601_000, '140') +
      `</HealthData>\n`;
    const [ride] = await collect(chunks(text, 50));
    expect(scalar(ride, 'heart_rate')).toEqual({ t: [w.startMs + 1000, w.startMs + 2000], v: [101, 102] });
    expect(scalar(ride, 'cadence')).toEqual({ t: [w.startMs + 3000], v: [88] });
    expect(ride.streams.power).toBeUndefined();
    expect(ride.warnings).toEqual([
      'records: left out 1 CyclingPower in "kcal/hr", a unit with no conversion',
      'records: kept the 2 HeartRate samples of "Apple Watch"; left out 1 from "Strap"',
    ]);
  });
});

describe('the HealthKit type mapping the export shares with the sync mapper', () => {
  it('maps through the catalog with the indoor and swimming-location qualifiers', () => {
    const slug = (type: string, metadata?: Record<string, unknown>) => resolveHealthKitActivityType(type, metadata).activityType;
    expect(slug('HKWorkoutActivityTypeRunning')).toBe('running');
    expect(slug('HKWorkoutActivityTypeRunning', { HKIndoorWorkout: true })).toBe('treadmill_running');
    expect(slug('HKWorkoutActivityTypeSwimming', { HKSwimmingLocationType: 2 })).toBe('open_water_swimming');
    expect(slug('HKWorkoutActivityTypeCycling', { HKIndoorWorkout: true })).toBe('indoor_cycling');
    expect(slug('HKWorkoutActivityTypeSwimBikeRun')).toBe('triathlon');
    expect(resolveHealthKitActivityType('HKWorkoutActivityTypeFooBar')).toMatchObject({ activityType: 'other', known: false });
    expect(resolveHealthKitActivityType('HKWorkoutActivityTypeRunning')).toMatchObject({ activityType: 'running', known: true });
  });

  it('is what the export parser uses, qualifiers read from the workout metadata', async () => {
    const text = buildAppleHealthExport().replace(
      'workoutActivityType="HKWorkoutActivityTypeSwimming"',
      'workoutActivityType="HKWorkoutActivityTypeFooBar"',
    );
    const workouts = await collect(chunks(text));
    expect(workouts[2]).toMatchObject({ activityType: 'other', sourceActivityType: 'HKWorkoutActivityTypeFooBar' });
    expect(workouts[2].warnings).toEqual(['HealthKit type "HKWorkoutActivityTypeFooBar" is not in the catalog; imported as "other"']);
  });
});

describe('parseAppleDate', () => {
  it('reads the export’s local dates with their offset', () => {
    expect(parseAppleDate('2024-05-01 08:00:00 +0200')).toBe(Date.UTC(2024, 4, 1, 6, 0, 0));
    expect(parseAppleDate('2024-12-31 23:30:15 -0500')).toBe(Date.UTC(2025, 0, 1, 4, 30, 15));
    expect(parseAppleDate('2024-05-01T06:00:00Z')).toBe(Date.UTC(2024, 4, 1, 6, 0, 0));
    expect(parseAppleDate('yesterday')).toBeUndefined();
    // The export's fixed form (read by character codes) agrees with the general reading.
    for (const [text, utc] of [
      ['2024-02-29 23:59:59 +0530', Date.UTC(2024, 1, 29, 18, 29, 59)],
      ['2016-01-01 00:00:00 -1000', Date.UTC(2016, 0, 1, 10, 0, 0)],
      ['2023-10-29 02:30:00 +0100', Date.UTC(2023, 9, 29, 1, 30, 0)],
      ['2024-05-01 08:00:00 +0000', Date.UTC(2024, 4, 1, 8, 0, 0)],
    ] as const) {
      expect(parseAppleDate(text)).toBe(utc);
      expect(parseAppleDate(text.replace(' ', 'T'))).toBe(utc);
    }
    expect(parseAppleDate('2024-05-01 08:00:0x +0200')).toBeUndefined();
    expect(parseAppleDate('2024-05-01 08:00:00 *0200')).toBeUndefined();
  });
});
