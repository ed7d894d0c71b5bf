import { describe, expect, it } from '@jest/globals';
import { CrcCalculator, Decoder, Stream } from '@garmin/fitsdk';
import {
  ALL_CHANNELS,
  buildFitActivity,
  buildFitMultisport,
  chainFitFiles,
  encodeFitMessages,
  fitActivityFixture,
  type ExpectedRecord,
  type ExpectedSession,
  type FitMessage,
} from '../../../../libs/testing/fit-builder.js';
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import { fitDamage, parseFit } from './fit.js';
import { parseFile } from './index.js';
import { UnreadableFileError, type ImportedActivity } from './types.js';

const START = new Date('2024-05-01T06:00:00Z');

function scalar(activity: ImportedActivity, type: keyof ImportedActivity['streams']): ScalarSamples {
  const samples = activity.streams[type];
  if (!samples) throw new Error(`no ${type} stream`);
  return samples as ScalarSamples;
}

/** Every sample of a scalar stream equals the encoded one, bit for bit, at the same time. */
function expectScalarStream(
  activity: ImportedActivity,
  type: keyof ImportedActivity['streams'],
  records: ExpectedRecord[],
  pick: (r: ExpectedRecord) => number | undefined,
): void {
  const expected = records.filter((r) => pick(r) !== undefined);
  expect(expected.length).toBeGreaterThan(0);
  const samples = scalar(activity, type);
  expect(Array.from(samples.timestamps)).toEqual(expected.map((r) => r.timestampMs));
  expect(Array.from(samples.values)).toEqual(expected.map((r) => pick(r)!));
}

function expectPositionStream(activity: ImportedActivity, records: ExpectedRecord[]): void {
  const expected = records.filter((r) => r.latitudeDeg !== undefined);
  const position = activity.streams.position as PositionSamples;
  expect(Array.from(position.timestamps)).toEqual(expected.map((r) => r.timestampMs));
  expect(Array.from(position.latitude)).toEqual(expected.map((r) => r.latitudeDeg));
  expect(Array.from(position.longitude)).toEqual(expected.map((r) => r.longitudeDeg));
  // A record's altitude is stored once, in the altitude stream (compared sample for sample by the callers).
  if (expected[0].altitudeM !== undefined) expect(position.altitudeM).toBeNull();
}

function expectLaps(activity: ImportedActivity, session: ExpectedSession): void {
  const laps = activity.events.filter((e) => e.eventType === 'lap');
  expect(laps).toHaveLength(session.laps.length);
  laps.forEach((lap, i) => {
    const expected = session.laps[i];
    expect(lap.startTime.getTime()).toBe(expected.startTimeMs);
    expect(lap.endTime?.getTime()).toBe(expected.endTimeMs);
    expect(lap.metadata).toMatchObject({
      index: i,
      duration_s: expected.totalElapsedTimeS,
      timer_time_s: expected.totalTimerTimeS,
      ...(expected.totalDistanceM !== undefined ? { distance_m: expected.totalDistanceM } : {}),
      ...(expected.avgHeartRateBpm !== undefined ? { avg_heart_rate_bpm: expected.avgHeartRateBpm, max_heart_rate_bpm: expected.maxHeartRateBpm } : {}),
    });
  });
}

function statistic(activity: ImportedActivity, key: string): number | undefined {
  return activity.statistics.find((s) => s.key === key)?.value;
}

describe('parseFit', () => {
  it('imports a trail run with heart rate and GPS: every sample, lap, pause and the local time zone', () => {
    const fixture = fitActivityFixture({
      sport: 'running',
      subSport: 'trail',
      startTime: START,
      seconds: 1800,
      channels: { heartRate: true, position: true, altitude: true, speed: true, distance: true, cadence: true, temperature: true },
      laps: 3,
      pauses: [{ atS: 600, durationS: 45 }],
      timeZoneOffsetS: 7200,
      productName: 'Forerunner 965',
    });
    const result = parseFit(fixture.bytes);
    expect(result.format).toBe('fit');
    expect(result.warnings).toEqual([]);
    expect(result.activities).toHaveLength(1);
    const [run] = result.activities;
    const [session] = fixture.sessions;

    expect(run.activityType).toBe('trail_running');
    expect(run.sourceActivityType).toBe('fit:running/trail');
    expect(run.startTime.getTime()).toBe(session.startTimeMs);
    expect(run.endTime.getTime()).toBe(session.endTimeMs);
    expect(run.timeZone).toBe('Europe/Zurich');
    expect(run.deviceName).toBe('Forerunner 965');
    expect(run.isIndoor).toBe(false);
    expect(run.durationS).toBe(1800);
    expect(run.movingTimeS).toBe(session.totalTimerTimeS);
    expect(run.distanceM).toBe(session.session.totalDistance);
    expect(run.avgHeartRateBpm).toBe(session.session.avgHeartRate);
    expect(run.maxHeartRateBpm).toBe(session.session.maxHeartRate);
    expect(run.elevationGainM).toBe(120);
    expect(run.avgSpeedMS).toBe(session.session.enhancedAvgSpeed);

    expectScalarStream(run, 'heart_rate', session.records, (r) => r.heartRateBpm);
    expectPositionStream(run, session.records);
    expectScalarStream(run, 'altitude', session.records, (r) => r.altitudeM);
    expectScalarStream(run, 'speed', session.records, (r) => r.speedMS);
    expectScalarStream(run, 'distance', session.records, (r) => r.distanceM);
    expectScalarStream(run, 'temperature', session.records, (r) => r.temperatureC);
    // FIT running cadence counts strides; §9 wants steps per minute.
    expectScalarStream(run, 'cadence', session.records, (r) => (r.cadenceRpm === undefined ? undefined : r.cadenceRpm * 2));
    expect(run.streams.power).toBeUndefined();
    // No records while paused.
    expect(scalar(run, 'heart_rate').timestamps.length).toBe(1800 - 45 + 1);

    expectLaps(run, session);
    const pauses = run.events.filter((e) => e.eventType === 'pause' || e.eventType === 'resume');
    expect(pauses.map((e) => [e.eventType, e.startTime.getTime()])).toEqual([
      ['pause', session.pauses[0].stopMs],
      ['resume', session.pauses[0].startMs],
    ]);
    expect(run.sourceData.session).toMatchObject({ sport: 'running', subSport: 'trail', totalElapsedTime: 1800 });
    expect(JSON.parse(JSON.stringify(run.sourceData))).toEqual(run.sourceData);
  });

  it('imports a road ride with power and its training statistics; the zone comes from the first position', () => {
    const fixture = fitActivityFixture({
      sport: 'cycling',
      subSport: 'road',
      startTime: START,
      seconds: 1200,
      channels: ALL_CHANNELS,
      laps: 2,
    });
    const [ride] = parseFit(fixture.bytes).activities;
    const [session] = fixture.sessions;
    expect(ride.activityType).toBe('road_cycling');
    expect(ride.timeZone).toBe('Europe/Zurich');
    expectScalarStream(ride, 'power', session.records, (r) => r.powerW);
    expectScalarStream(ride, 'cadence', session.records, (r) => r.cadenceRpm);
    expectScalarStream(ride, 'heart_rate', session.records, (r) => r.heartRateBpm);
    expectPositionStream(ride, session.records);
    expectLaps(ride, session);
    expect(statistic(ride, 'normalized_power_w')).toBe(session.session.normalizedPower);
    expect(statistic(ride, 'avg_power_w')).toBe(session.session.avgPower);
    expect(statistic(ride, 'training_stress_score')).toBe(84.3);
    expect(statistic(ride, 'intensity_factor')).toBe(0.812);
    expect(statistic(ride, 'total_training_effect')).toBe(3.1);
    expect(ride.activeEnergyKcal).toBe(200);
  });

  it('expands the 16-bit speed and altitude of older devices into the same values', () => {
    const fixture = fitActivityFixture({
      sport: 'cycling',
      startTime: START,
      seconds: 300,
      channels: { speed: true, altitude: true },
      legacySpeedAltitude: true,
    });
    const [ride] = parseFit(fixture.bytes).activities;
    expect(ride.activityType).toBe('cycling');
    expectScalarStream(ride, 'speed', fixture.sessions[0].records, (r) => r.speedMS);
    expectScalarStream(ride, 'altitude', fixture.sessions[0].records, (r) => r.altitudeM);
  });

  it('imports a triathlon as a parent with one child per leg, transitions included', () => {
    const fixture = buildFitMultisport({
      startTime: START,
      timeZoneOffsetS: 7200,
      legs: [
        { sport: 'swimming', subSport: 'openWater', seconds: 600, channels: { heartRate: true, position: true, distance: true } },
        { sport: 'transition', subSport: 'swimToBikeTransition', seconds: 90, channels: { heartRate: true } },
        { sport: 'cycling', subSport: 'road', seconds: 1200, channels: { heartRate: true, position: true, power: true, speed: true, distance: true }, laps: 2 },
        { sport: 'transition', subSport: 'bikeToRunTransition', seconds: 60, channels: { heartRate: true } },
        { sport: 'running', seconds: 900, channels: { heartRate: true, position: true, speed: true, distance: true }, laps: 3 },
      ],
    });
    const result = parseFit(fixture.bytes);
    expect(result.warnings).toEqual([]);
    expect(result.activities).toHaveLength(1);
    const [parent] = result.activities;
    expect(parent.activityType).toBe('triathlon');
    expect(parent.sourceActivityType).toBe('fit:multisport/triathlon');
    expect(parent.children.map((c) => c.activityType)).toEqual(['open_water_swimming', 'transition', 'road_cycling', 'transition', 'running']);
    expect(parent.startTime.getTime()).toBe(START.getTime());
    expect(parent.endTime.getTime()).toBe(fixture.sessions.at(-1)!.endTimeMs);
    expect(parent.timeZone).toBe('Europe/Zurich');
    expect(parent.streams).toEqual({});
    parent.children.forEach((child, i) => {
      const session = fixture.sessions[i];
      expect(child.children).toEqual([]);
      expect(child.timeZone).toBe('Europe/Zurich');
      expect(child.startTime.getTime()).toBe(session.startTimeMs);
      expect(child.endTime.getTime()).toBe(session.endTimeMs);
      expectScalarStream(child, 'heart_rate', session.records, (r) => r.heartRateBpm);
      if (session.records[0].latitudeDeg !== undefined) expectPositionStream(child, session.records);
      if (session.records[0].powerW !== undefined) expectScalarStream(child, 'power', session.records, (r) => r.powerW);
      expectLaps(child, session);
    });
    expect(parent.distanceM).toBe(parent.children.reduce((sum, c) => sum + (c.distanceM ?? 0), 0));
  });

  it('imports a pool swim with its lengths as segment events and the swim statistics', () => {
    const fixture = fitActivityFixture({
      sport: 'swimming',
      subSport: 'lapSwimming',
      startTime: START,
      seconds: 0,
      channels: { heartRate: true },
      pool: { lengthM: 25, lengths: 40, secondsPerLength: 30, strokesPerLength: 14 },
      laps: 4,
    });
    const [swim] = parseFit(fixture.bytes).activities;
    const [session] = fixture.sessions;
    expect(swim.activityType).toBe('pool_swimming');
    expect(swim.sourceActivityType).toBe('fit:swimming/lap_swimming');
    expect(swim.isIndoor).toBe(true);
    expect(swim.distanceM).toBe(1000);
    expect(statistic(swim, 'pool_length_m')).toBe(25);
    expect(statistic(swim, 'num_lengths')).toBe(40);
    expect(statistic(swim, 'total_strokes')).toBe(session.lengths.reduce((s, l) => s + l.totalStrokes, 0));
    const lengths = swim.events.filter((e) => e.eventType === 'segment');
    expect(lengths).toHaveLength(40);
    lengths.forEach((event, i) => {
      expect(event.metadata).toMatchObject({
        kind: 'length',
        index: i,
        length_type: 'active',
        swim_stroke: 'freestyle',
        total_strokes: session.lengths[i].totalStrokes,
        avg_speed_m_s: session.lengths[i].avgSpeedMS,
      });
      expect(event.startTime.getTime()).toBe(session.lengths[i].startTimeMs);
      expect(event.endTime?.getTime()).toBe(session.lengths[i].endTimeMs);
    });
    expectLaps(swim, session);
    expectScalarStream(swim, 'heart_rate', session.records, (r) => r.heartRateBpm);
  });

  it('merges heart rate from hr messages (swim strap) into the heart_rate stream', () => {
    const fixture = fitActivityFixture({
      sport: 'swimming',
      subSport: 'lapSwimming',
      startTime: START,
      seconds: 0,
      channels: { heartRate: true, distance: true },
      heartRateIn: 'hr_messages',
      pool: { lengthM: 50, lengths: 10, secondsPerLength: 45, strokesPerLength: 20 },
    });
    const fileHasHrInRecords = fixture.messages.some((m) => m.mesgNum === 20 && m.heartRate !== undefined);
    expect(fileHasHrInRecords).toBe(false);
    const [swim] = parseFit(fixture.bytes).activities;
    expectScalarStream(swim, 'heart_rate', fixture.sessions[0].records, (r) => r.heartRateBpm);
    expect(swim.avgHeartRateBpm).toBe(fixture.sessions[0].session.avgHeartRate);
  });

  it('maps a developer field that stands in for a native one, with or without an application id', () => {
    for (const withoutApplicationId of [false, true]) {
      const fixture = fitActivityFixture({
        sport: 'running',
        startTime: START,
        seconds: 120,
        channels: { heartRate: true },
        developerField: { withoutApplicationId },
      });
      const result = parseFit(fixture.bytes);
      expect(result.warnings).toEqual([]);
      const [run] = result.activities;
      expectScalarStream(run, 'heart_rate', fixture.sessions[0].records, (r) => r.heartRateBpm);
      expect(run.sourceData.fieldDescriptions).toEqual([expect.objectContaining({ fieldName: 'form_power', units: 'watts' })]);
      const ids = run.sourceData.developerDataIds as Record<string, unknown>[];
      expect('applicationId' in ids[0]).toBe(!withoutApplicationId);
    }
  });

  it('stores a developer field declared a stand-in for a native record field as that stream, and only where the record has none', () => {
    // form_power declared native field 7 (power): a running pod's power, on a watch that records none.
    const standIn = fitActivityFixture({ sport: 'running', startTime: START, seconds: 120, channels: { heartRate: true }, developerField: { nativeFieldNum: 7 } });
    const [run] = parseFit(standIn.bytes).activities;
    expectScalarStream(run, 'power', standIn.sessions[0].records, (r) => r.formPowerW);
    expectScalarStream(run, 'heart_rate', standIn.sessions[0].records, (r) => r.heartRateBpm);
    // The record's own power wins over the stand-in.
    const both = fitActivityFixture({ sport: 'cycling', startTime: START, seconds: 120, channels: { power: true }, developerField: { nativeFieldNum: 7 } });
    const [ride] = parseFit(both.bytes).activities;
    expectScalarStream(ride, 'power', both.sessions[0].records, (r) => r.powerW);
    // Undeclared, it is kept in sourceData only.
    const undeclared = fitActivityFixture({ sport: 'running', startTime: START, seconds: 120, channels: { heartRate: true }, developerField: {} });
    expect(parseFit(undeclared.bytes).activities[0].streams.power).toBeUndefined();
  });

  it('reads chained FIT files as one activity each', () => {
    const first = buildFitActivity({ sport: 'running', startTime: START, seconds: 300, channels: { heartRate: true } });
    const second = buildFitActivity({ sport: 'cycling', startTime: new Date(START.getTime() + 3600_000), seconds: 600, channels: { power: true } });
    const result = parseFit(chainFitFiles(first, second));
    expect(result.activities.map((a) => a.activityType)).toEqual(['running', 'cycling']);
    expect(scalar(result.activities[1], 'power').values).toHaveLength(601);
    expect(result.warnings).toEqual(['chained FIT file: 2 files one after the other']);
  });

  it('drops records whose time jumps backwards or decodes to 2085, and says so', () => {
    const fixture = fitActivityFixture({ sport: 'running', startTime: START, seconds: 200, channels: { heartRate: true } });
    const messages: FitMessage[] = [];
    for (const m of fixture.messages) {
      messages.push(m);
      const t = m.mesgNum === 20 ? (m.timestamp as Date).getTime() : 0;
      if (t === START.getTime() + 100_000) {
        messages.push({ mesgNum: 20, timestamp: new Date(START.getTime() + 50_000), heartRate: 99 });
        messages.push({ mesgNum: 20, timestamp: new Date('2085-03-01T00:00:00Z'), heartRate: 98 });
      }
    }
    const result = parseFit(encodeFitMessages(messages));
    const [run] = result.activities;
    expectScalarStream(run, 'heart_rate', fixture.sessions[0].records, (r) => r.heartRateBpm);
    expect(result.warnings).toEqual([
      "file: dropped 1 records with an implausible timestamp (2085-03-01T00:00:00.000Z), more than a day away from the activity's records",
      'file: dropped 1 records whose timestamp jumps backwards',
    ]);
  });

  it('widens the activity to records just before the session start, so every stream lies inside it', () => {
    const fixture = fitActivityFixture({ sport: 'running', startTime: START, seconds: 60, channels: { heartRate: true } });
    const firstRecord = fixture.messages.findIndex((m) => m.mesgNum === 20);
    const early: FitMessage = { mesgNum: 20, timestamp: new Date(START.getTime() - 120_000), heartRate: 90 };
    const messages = [...fixture.messages.slice(0, firstRecord), early, ...fixture.messages.slice(firstRecord)];
    const [run] = parseFit(encodeFitMessages(messages)).activities;
    expect(run.startTime.getTime()).toBe(START.getTime() - 120_000);
    expect(run.endTime.getTime()).toBe(START.getTime() + 60_000);
    expect(scalar(run, 'heart_rate').values[0]).toBe(90);
  });

  it('derives the activity from the records of a CRC-valid file without a session', () => {
    const fixture = fitActivityFixture({
      sport: 'running',
      startTime: START,
      seconds: 600,
      channels: { heartRate: true, position: true, distance: true, altitude: true },
      omitSession: true,
    });
    const result = parseFit(fixture.bytes);
    expect(result.warnings).toEqual(['file: no session message; the summary is derived from the records']);
    const [run] = result.activities;
    const records = fixture.sessions[0].records;
    const bpm = records.map((r) => r.heartRateBpm!);
    expect(run.activityType).toBe('running');
    expect(run.startTime.getTime()).toBe(START.getTime());
    expect(run.endTime.getTime()).toBe(START.getTime() + 600_000);
    expect(run.durationS).toBe(600);
    expect(run.distanceM).toBe(records.at(-1)!.distanceM);
    expect(run.avgHeartRateBpm).toBe(Math.round(bpm.reduce((a, b) => a + b, 0) / bpm.length));
    expect(run.maxHeartRateBpm).toBe(Math.max(...bpm));
    expect(run.elevationGainM).toBeGreaterThan(0);
    expectScalarStream(run, 'heart_rate', records, (r) => r.heartRateBpm);
  });

  it('derives the average heart rate from the records when the session lacks it', () => {
    const fixture = fitActivityFixture({ sport: 'cycling', startTime: START, seconds: 300, channels: { heartRate: true }, omitSessionHeartRate: true });
    const result = parseFit(fixture.bytes);
    const bpm = fixture.sessions[0].records.map((r) => r.heartRateBpm!);
    expect(result.activities[0].avgHeartRateBpm).toBe(Math.round(bpm.reduce((a, b) => a + b, 0) / bpm.length));
    expect(result.activities[0].maxHeartRateBpm).toBe(Math.max(...bpm));
    expect(result.warnings).toEqual(['file: session has no average heart rate; derived from the records']);
  });

  it('imports what precedes the damage of a truncated file, with a warning', () => {
    const fixture = fitActivityFixture({ sport: 'running', startTime: START, seconds: 1000, channels: { heartRate: true, position: true } });
    const truncated = fixture.bytes.slice(0, Math.floor(fixture.bytes.length * 0.6));
    const result = parseFit(truncated);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^FIT file damaged \(.+\); imported the messages before the damage$/),
      'file: no session message; the summary is derived from the records',
    ]);
    const [run] = result.activities;
    const hr = scalar(run, 'heart_rate');
    expect(hr.values.length).toBeGreaterThan(400);
    expect(hr.values.length).toBeLessThan(1001);
    // What was kept is exact.
    const records = fixture.sessions[0].records.slice(0, hr.values.length);
    expectScalarStream({ ...run, streams: { heart_rate: hr } }, 'heart_rate', records, (r) => r.heartRateBpm);
  });

  it('merges hr messages even when the file is damaged after them', () => {
    const fixture = fitActivityFixture({
      sport: 'swimming',
      subSport: 'lapSwimming',
      startTime: START,
      seconds: 0,
      channels: { heartRate: true },
      heartRateIn: 'hr_messages',
      pool: { lengthM: 25, lengths: 4, secondsPerLength: 30, strokesPerLength: 14 },
    });
    const corrupt = fixture.bytes.slice();
    corrupt[corrupt.length - 1] ^= 0xff; // CRC error at the very end
    const result = parseFit(corrupt);
    expect(result.warnings[0]).toMatch(/CRC/);
    expectScalarStream(result.activities[0], 'heart_rate', fixture.sessions[0].records, (r) => r.heartRateBpm);
  });

  it('reads a definition that declares a 1-byte uint32 field and stops at an undefined local message', () => {
    // Hand-written FIT bytes: the SDK's encoder would never write these.
    const ts = Math.round((START.getTime() - 631_065_600_000) / 1000);
    const body: number[] = [];
    // Definition, local 0: record (20) with timestamp (253, uint32), heart_rate (3, uint8), distance (5, uint32 in 1 byte).
    body.push(0x40, 0, 0, 20, 0, 3, 253, 4, 0x86, 3, 1, 0x02, 5, 1, 0x86);
    for (let i = 0; i < 5; i++) body.push(0x00, ...le32(ts + i), 120 + i, 7);
    body.push(0x03, 1, 2, 3); // data message for local 3, never defined
    const bytes = fitFile(body);
    const result = parseFit(bytes);
    const [activity] = result.activities;
    expect(Array.from(scalar(activity, 'heart_rate').values)).toEqual([120, 121, 122, 123, 124]);
    expect(activity.streams.distance).toBeUndefined();
    // The bytes are intact (CRC valid): the decoder stopping is not called damage.
    expect(result.warnings[0]).toBe('FIT decoder failure on an intact file (CRC valid): at byte 65: a message the decoder cannot read; imported the messages decoded before the failure');
    expect(result.decoderErrors).toEqual([expect.stringMatching(/^FIT decoder failure on an intact file \(CRC valid\)/)]);
  });

  it.each([
    ['an empty file', new Uint8Array(0), 'empty file'],
    ['random bytes', Uint8Array.from({ length: 500 }, (_, i) => (i * 7919) % 251), 'not a FIT file'],
    ['a GPX document', new TextEncoder().encode('<?xml version="1.0"?><gpx></gpx>'), 'not a FIT file'],
    ['a FIT header with garbage after it', fitFile([0xff, 0xff, 0xff, 0xff]), 'unreadable FIT file'],
    ['a FIT settings file', fitFile([0x40, 0, 0, 0, 0, 1, 0, 1, 0x00, 0x00, 2]), 'holds no activity'],
  ])('rejects %s with a reason', (_, bytes, reason) => {
    let error: unknown;
    try {
      parseFit(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect((error as UnreadableFileError).reason).toContain(reason);
  });

  it('never fails with anything but UnreadableFileError on damaged bytes', () => {
    const fixture = fitActivityFixture({
      sport: 'swimming',
      subSport: 'lapSwimming',
      startTime: START,
      seconds: 0,
      channels: { heartRate: true, distance: true },
      heartRateIn: 'hr_messages',
      pool: { lengthM: 25, lengths: 4, secondsPerLength: 20, strokesPerLength: 10 },
      laps: 2,
      developerField: {},
      timeZoneOffsetS: 3600,
    });
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let imported = 0;
    for (let round = 0; round < 300; round++) {
      const bytes = fixture.bytes.slice(0, round % 3 === 0 ? Math.floor(random() * fixture.bytes.length) : fixture.bytes.length);
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) bytes[14 + Math.floor(random() * (bytes.length - 14))] = Math.floor(random() * 256);
      try {
        const result = parseFit(bytes);
        imported++;
        for (const activity of result.activities) expect(activity.endTime.getTime()).toBeGreaterThanOrEqual(activity.startTime.getTime());
      } catch (error) {
        if (!(error instanceof UnreadableFileError)) throw error;
      }
    }
    expect(imported).toBeGreaterThan(0);
  });

  it('is what parseFile picks for FIT bytes, whatever the name', () => {
    const bytes = buildFitActivity({ sport: 'walking', startTime: START, seconds: 60, channels: { heartRate: true } });
    expect(parseFile(bytes, 'upload.bin').activities[0].activityType).toBe('walking');
    expect(() => parseFile(new TextEncoder().encode('hello'), 'x.fit')).toThrow(UnreadableFileError);
  });
});

describe('every valid FIT decodes whole (patched @garmin/fitsdk, patches/)', () => {
  /** Record messages with a running cycle count: `cycles` (8 bits, field 18) and its accumulated `total_cycles` (field 19). */
  function withCycles(messages: FitMessage[]): FitMessage[] {
    let total = 0;
    return messages.map((m) => {
      if (m.mesgNum !== 20) return m;
      total += 3;
      return { ...m, cycles: total & 0xff, totalCycles: total };
    });
  }
  const SUMMARY_MESGS = new Set([18, 19, 34]); // session, lap, activity

  it.each([
    ['first', (summaries: FitMessage[], rest: FitMessage[]) => [rest[0], ...summaries, ...rest.slice(1)]],
    ['last', (summaries: FitMessage[], rest: FitMessage[]) => [...rest, ...summaries]],
  ])('a multisport file whose records carry cycles, summaries %s: every record is in its leg', (_, order) => {
    const fixture = buildFitMultisport({
      startTime: START,
      legs: [
        { sport: 'swimming', subSport: 'openWater', seconds: 300, channels: { heartRate: true, position: true, distance: true } },
        { sport: 'transition', subSport: 'swimToBikeTransition', seconds: 60, channels: { heartRate: true } },
        { sport: 'cycling', subSport: 'road', seconds: 600, channels: { heartRate: true, power: true, cadence: true, distance: true }, laps: 2 },
        { sport: 'running', seconds: 600, channels: { heartRate: true, position: true, cadence: true, distance: true } },
      ],
    });
    const messages = withCycles(fixture.messages);
    const bytes = encodeFitMessages(order(messages.filter((m) => SUMMARY_MESGS.has(m.mesgNum)), messages.filter((m) => !SUMMARY_MESGS.has(m.mesgNum))));
    expect(fitDamage(bytes)).toBeUndefined();

    const result = parseFit(bytes);
    expect(result.warnings).toEqual([]);
    expect(result.decoderErrors).toBeUndefined();
    const [parent] = result.activities;
    expect(parent.children).toHaveLength(4);
    parent.children.forEach((child, i) => {
      const session = fixture.sessions[i];
      expectScalarStream(child, 'heart_rate', session.records, (r) => r.heartRateBpm);
      if (session.records[0].distanceM !== undefined) expectScalarStream(child, 'distance', session.records, (r) => r.distanceM);
      if (session.records[0].latitudeDeg !== undefined) expectPositionStream(child, session.records);
      expectLaps(child, session);
    });
    const stored = parent.children.reduce((n, child) => n + scalar(child, 'heart_rate').timestamps.length, 0);
    expect(stored).toBe(messages.filter((m) => m.mesgNum === 20).length);
  });

  it('the decoder accumulates total_cycles over the 8-bit cycles, from the last total_cycles a record carried', () => {
    const records: FitMessage[] = [
      { cycles: 250 },
      { cycles: 4 }, // 256 + 4: rolled over
      { cycles: 1000 & 0xff, totalCycles: 1000 }, // resets the accumulator (threw a TypeError before the patch)
      { cycles: (1000 + 10) & 0xff },
      { cycles: (1000 + 300) & 0xff }, // 290 more: more than one roll-over is not visible in 8 bits
    ].map((fields, i) => ({ mesgNum: 20, timestamp: new Date(START.getTime() + i * 1000), ...fields }));
    const { messages, errors } = new Decoder(Stream.fromByteArray(encodeFitMessages(records))).read();
    expect(errors).toEqual([]);
    expect((messages.recordMesgs ?? []).map((r) => r.totalCycles)).toEqual([250, 260, 1000, 1010, 1000 + 300 - 256]);
  });

  it('the decoder continues a record distance with compressed_speed_distance in the component units (1/16 m)', () => {
    const ts = Math.round((START.getTime() - 631_065_600_000) / 1000);
    const body: number[] = [];
    // local 0: record with timestamp and distance (uint32, 1/100 m); local 1: record with timestamp and compressed_speed_distance (3 bytes).
    body.push(0x40, 0, 0, 20, 0, 2, 253, 4, 0x86, 5, 4, 0x86);
    body.push(0x41, 0, 0, 20, 0, 2, 253, 4, 0x86, 8, 3, 0x0d);
    body.push(0x00, ...le32(ts), ...le32(10_000)); // 100.00 m
    const compressed = (speed: number, distance16: number) => [speed & 0xff, ((speed >> 8) & 0x0f) | ((distance16 & 0x0f) << 4), (distance16 >> 4) & 0xff];
    body.push(0x01, ...le32(ts + 1), ...compressed(300, (100 * 16 + 40) & 0xfff)); // + 2.5 m
    body.push(0x01, ...le32(ts + 2), ...compressed(310, (100 * 16 + 40 + 4090) & 0xfff)); // + 255.625 m, over the 12-bit roll-over
    const { messages, errors } = new Decoder(Stream.fromByteArray(fitFile(body))).read();
    expect(errors).toEqual([]);
    expect((messages.recordMesgs ?? []).map((r) => r.distance)).toEqual([100, 102.5, 358.125]);
    expect((messages.recordMesgs ?? []).map((r) => r.speed)).toEqual([undefined, 3, 3.1]);
  });

  it('reads compressed-timestamp record headers: the last full timestamp rolled forward to the 5-bit offset', () => {
    const t0 = Math.round((START.getTime() - 631_065_600_000) / 1000);
    const t = t0 - (t0 & 0x1f) + 30; // offset 30: the next roll-over comes soon
    const body: number[] = [];
    body.push(0x40, 0, 0, 20, 0, 2, 253, 4, 0x86, 3, 1, 0x02); // local 0: record, timestamp + heart_rate
    body.push(0x41, 0, 0, 20, 0, 1, 3, 1, 0x02); // local 1: record, heart_rate only (sent with compressed headers)
    const compressed = (offset: number, bpm: number) => [0x80 | (1 << 5) | (offset & 0x1f), bpm];
    body.push(0x00, ...le32(t), 100);
    body.push(...compressed(t + 1, 101)); // offset 31
    body.push(...compressed(t + 3, 102)); // offset 1: rolled over
    body.push(...compressed(t + 7, 103));
    body.push(0x00, ...le32(t + 40), 104); // a full timestamp again
    body.push(...compressed(t + 42, 105));
    const result = parseFit(fitFile(body));
    expect(result.warnings).toEqual(['file: no session message; the summary is derived from the records']);
    const hr = scalar(result.activities[0], 'heart_rate');
    const ms = (s: number) => 631_065_600_000 + s * 1000;
    expect(Array.from(hr.timestamps)).toEqual([t, t + 1, t + 3, t + 7, t + 40, t + 42].map(ms));
    expect(Array.from(hr.values)).toEqual([100, 101, 102, 103, 104, 105]);
  });

  it('a compressed-timestamp header before any full timestamp stops the read (a decoder failure, not damage)', () => {
    const body = [0x40, 0, 0, 20, 0, 1, 3, 1, 0x02, 0x80 | 5, 120];
    let error: unknown;
    try {
      parseFit(fitFile(body));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect((error as UnreadableFileError).reason).toBe(
      'unreadable FIT file: FIT decoder failure on an intact file (CRC valid): at byte 24 compressed timestamp message before any timestamp',
    );
    expect((error as UnreadableFileError).decoderError).toMatch(/^FIT decoder failure/);
  });

  it('says "damaged" only of damaged bytes: CRC, header, truncation, bytes after the data', () => {
    const bytes = buildFitActivity({ sport: 'running', startTime: START, seconds: 120, channels: { heartRate: true } });
    expect(fitDamage(bytes)).toBeUndefined();
    expect(fitDamage(chainFitFiles(bytes, bytes))).toBeUndefined();
    const flipped = bytes.slice();
    flipped[100] ^= 0x01;
    expect(fitDamage(flipped)).toBe('CRC mismatch');
    const header = bytes.slice();
    header[4] ^= 0x01; // data size, covered by the header CRC
    expect(fitDamage(header)).toBe('header CRC mismatch');
    expect(fitDamage(bytes.slice(0, bytes.length - 10))).toBe('the file ends 10 bytes before its declared end (truncated)');
    expect(fitDamage(chainFitFiles(bytes, new Uint8Array([0, 0, 0])))).toBe('3 bytes after the end of the FIT data');

    const damaged = parseFit(flipped);
    expect(damaged.warnings[0]).toMatch(/^FIT file damaged \(CRC mismatch; .+\); imported the messages before the damage$/);
    expect(damaged.decoderErrors).toBeUndefined();
    // A valid file never gets "damaged", whatever else it is told.
    for (const valid of [bytes, chainFitFiles(bytes, buildFitActivity({ sport: 'cycling', startTime: new Date(START.getTime() + 3600_000), seconds: 60 }))]) {
      expect(parseFit(valid).warnings.join('\n')).not.toMatch(/damaged/i);
    }
  });

  it('reports a wrong header CRC on a file the decoder reads cleanly (its data CRCs are checked once, by the decoder)', () => {
    const bytes = buildFitActivity({ sport: 'running', startTime: START, seconds: 120, channels: { heartRate: true } });
    const header = bytes.slice();
    header[12] ^= 0x01; // the header's own CRC, which the decoder does not check…
    const fileCrc = CrcCalculator.calculateCRC(header, 0, header.length - 2); // …under a file CRC that matches again
    header[header.length - 2] = fileCrc & 0xff;
    header[header.length - 1] = fileCrc >> 8;
    const parsed = parseFit(header);
    expect(parsed.warnings[0]).toBe('FIT file damaged (header CRC mismatch); every message decoded');
    expect(parsed.activities[0]!.streams.heart_rate?.timestamps.length).toBe(121);
    // Told that the decoder verified the data CRCs, only what it does not verify is looked at.
    const flipped = bytes.slice();
    flipped[100] ^= 0x01;
    expect(fitDamage(flipped, { dataCrcVerified: true })).toBeUndefined();
    expect(fitDamage(header, { dataCrcVerified: true })).toBe('header CRC mismatch');
  });

  it('keeps the contiguous records past the end a session claims, widens the activity and says so', () => {
    const fixture = fitActivityFixture({ sport: 'running', startTime: START, seconds: 600, channels: { heartRate: true, distance: true } });
    // The session claims 5 minutes of a 10-minute recording (as big_activity.fit's does).
    const messages = fixture.messages.map((m) =>
      m.mesgNum === 18 ? { ...m, timestamp: new Date(START.getTime() + 300_000), totalElapsedTime: 300, totalTimerTime: 300 } : m,
    );
    const result = parseFit(encodeFitMessages(messages));
    const [run] = result.activities;
    expectScalarStream(run, 'heart_rate', fixture.sessions[0].records, (r) => r.heartRateBpm);
    expect(run.startTime.getTime()).toBe(START.getTime());
    expect(run.endTime.getTime()).toBe(START.getTime() + 600_000);
    expect(run.durationS).toBe(300); // the session's own figure, not rewritten
    expect(result.warnings).toEqual([
      "file: kept 240 records outside the session's time (2024-05-01T06:00:00.000Z – 2024-05-01T06:05:00.000Z); the activity now spans 2024-05-01T06:00:00.000Z – 2024-05-01T06:10:00.000Z",
    ]);
  });

  it('drops isolated clock glitches (power-on time, 2085) but not a long run of records', () => {
    const fixture = fitActivityFixture({ sport: 'cycling', startTime: START, seconds: 300, channels: { heartRate: true } });
    const firstRecord = fixture.messages.findIndex((m) => m.mesgNum === 20);
    const glitch = (timestamp: Date): FitMessage => ({ mesgNum: 20, timestamp, heartRate: 77 });
    const messages = [
      ...fixture.messages.slice(0, firstRecord),
      glitch(new Date(631_065_600_000 + 1000 * 1000)), // power-on time, before the clock was set
      ...fixture.messages.slice(firstRecord),
    ];
    messages.splice(messages.length - 2, 0, glitch(new Date('2085-03-01T00:00:00Z')));
    const result = parseFit(encodeFitMessages(messages));
    expectScalarStream(result.activities[0], 'heart_rate', fixture.sessions[0].records, (r) => r.heartRateBpm);
    expect(result.warnings).toEqual([
      "file: dropped 2 records with an implausible timestamp (1989-12-31T00:16:40.000Z, …), more than a day away from the activity's records",
    ]);
  });

  it('a record in the gap between two legs goes to the nearer leg; one before the first leg to the first', () => {
    const fixture = buildFitMultisport({
      startTime: START,
      legs: [
        { sport: 'cycling', seconds: 120, channels: { heartRate: true } },
        { sport: 'running', seconds: 120, channels: { heartRate: true } },
      ],
    });
    // Leg 2 starts 10 minutes after leg 1 ends.
    const shift = 600_000;
    const bikeEnd = fixture.sessions[0].endTimeMs;
    const shifted = fixture.messages.map((m) => {
      const moved = { ...m };
      for (const key of ['timestamp', 'startTime'] as const) {
        const value = m[key];
        if (value instanceof Date && value.getTime() > bikeEnd) moved[key] = new Date(value.getTime() + shift);
      }
      return moved;
    });
    const extra = (ms: number, heartRate: number): FitMessage => ({ mesgNum: 20, timestamp: new Date(ms), heartRate });
    const firstRecord = shifted.findIndex((m) => m.mesgNum === 20);
    const bikeLast = shifted.findIndex((m) => m.mesgNum === 18);
    const messages = [
      ...shifted.slice(0, firstRecord),
      extra(START.getTime() - 30_000, 91),
      ...shifted.slice(firstRecord, bikeLast),
      extra(bikeEnd + 100_000, 92), // nearer the bike's end
      extra(bikeEnd + 500_000, 93), // nearer the run's start
      ...shifted.slice(bikeLast),
    ];
    const result = parseFit(encodeFitMessages(messages));
    const [bike, run] = result.activities[0].children;
    const bikeHr = Array.from(scalar(bike, 'heart_rate').values);
    const runHr = Array.from(scalar(run, 'heart_rate').values);
    expect(bikeHr[0]).toBe(91);
    expect(bikeHr.at(-1)).toBe(92);
    expect(runHr[0]).toBe(93);
    expect(bikeHr.length + runHr.length).toBe(fixture.sessions[0].records.length + fixture.sessions[1].records.length + 3);
    expect(bike.endTime.getTime()).toBe(bikeEnd + 100_000);
    expect(run.startTime.getTime()).toBe(bikeEnd + 500_000);
  });
});

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A FIT file around raw record bytes: 14-byte header with CRC, data, file CRC. */
function fitFile(body: number[]): Uint8Array {
  const header = [14, 0x20, ...[0x08, 0x52].slice(0, 2), ...le32(body.length), 0x2e, 0x46, 0x49, 0x54];
  const headerCrc = CrcCalculator.calculateCRC(Uint8Array.from(header), 0, 12);
  const bytes = [...header, headerCrc & 0xff, headerCrc >> 8, ...body];
  const crc = CrcCalculator.calculateCRC(Uint8Array.from(bytes), 0, bytes.length);
  return Uint8Array.from([...bytes, crc & 0xff, crc >> 8]);
}
