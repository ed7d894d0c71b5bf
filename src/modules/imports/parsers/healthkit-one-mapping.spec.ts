/**
 * One HealthKit mapping (docs/data-model.md §5): the same workout, once in an Apple Health
 * export.xml and once as the HealthKit sync payload the app sends, maps to the same activity,
 * the same statistics (keys and units) and the same streams.
 */
import { describe, expect, it } from '@jest/globals';
import { statisticUnit, type HealthKitWorkout } from '@unified-activity/contract';
import { APPLE_START_MS, appleDate, appleHealthRoutes, appleInlineLocations, buildAppleHealthExport } from '../../../../test/fixtures/imports/apple-health-builder.js';
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import { mapHealthKitWorkout } from '../../sync/mappers/healthkit.js';
import { parseAppleHealthExport } from './apple-health.js';
import type { ImportedActivity } from './types.js';

const S = APPLE_START_MS;
const END = S + 1_800_000;
const POINTS = Array.from({ length: 30 }, (_, i) => ({ timeMs: S + i * 60_000, latitude: 47.3769 + i * 0.001, longitude: 8.5417 + i * 0.001, horizontalAccuracyM: 4 + (i % 3) }));
const HEART = Array.from({ length: 60 }, (_, i) => ({ ms: S + 1000 + i * 30_000, bpm: 120 + (i % 25) }));
const SOURCE = 'Jörg’s Apple Watch';
const DEVICE = '&lt;&lt;HKDevice: 0x283a6c0a0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.4&gt;';

/** The workout as the Health app exports it (quantities with units in MetadataEntry values, all in non-SI units). */
function exportXml(): string {
  const stat = (type: string, attributes: string) =>
    `  <WorkoutStatistics type="HKQuantityTypeIdentifier${type}" startDate="${appleDate(S)}" endDate="${appleDate(END)}" ${attributes}/>\n`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="de_CH">\n` +
    HEART.map(
      (h) => ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="${SOURCE}" unit="count/min" startDate="${appleDate(h.ms)}" endDate="${appleDate(h.ms)}" value="${h.bpm}"/>\n`,
    ).join('') +
    ` <Workout workoutActivityType="HKWorkoutActivityTypeRunning" totalDistance="3.1" totalDistanceUnit="mi" totalEnergyBurned="1200" totalEnergyBurnedUnit="kJ" sourceName="${SOURCE}" device="${DEVICE}" startDate="${appleDate(S)}" endDate="${appleDate(END)}">\n` +
    `  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n` +
    `  <MetadataEntry key="HKTimeZone" value="Europe/Zurich"/>\n` +
    `  <MetadataEntry key="HKWorkoutBrandName" value="Morning run"/>\n` +
    `  <MetadataEntry key="HKElevationAscended" value="4500 cm"/>\n` +
    `  <MetadataEntry key="HKElevationDescended" value="4200 cm"/>\n` +
    `  <MetadataEntry key="HKAverageSpeed" value="10.8 km/hr"/>\n` +
    `  <MetadataEntry key="HKMaximumSpeed" value="16.2 km/hr"/>\n` +
    `  <MetadataEntry key="HKWeatherTemperature" value="68 degF"/>\n` +
    `  <MetadataEntry key="HKWeatherHumidity" value="5600 %"/>\n` +
    `  <MetadataEntry key="HKAverageMETs" value="9.81 kcal/hr·kg"/>\n` +
    `  <WorkoutEvent type="HKWorkoutEventTypeLap" date="${appleDate(S + 600_000)}" duration="0" durationUnit="min"/>\n` +
    `  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="${appleDate(S)}" duration="10" durationUnit="min"/>\n` +
    stat('HeartRate', 'average="151.2" minimum="98" maximum="178" unit="count/min"') +
    stat('RunningPower', 'average="251" maximum="402" unit="W"') +
    stat('StepCount', 'sum="5123" unit="count"') +
    stat('BasalEnergyBurned', 'sum="40" unit="kcal"') +
    stat('RunningStrideLength', 'average="112" unit="cm"') +
    stat('RunningVerticalOscillation', 'average="8.7" unit="cm"') +
    stat('RunningGroundContactTime', 'average="248" unit="ms"') +
    `  <WorkoutRoute sourceName="${SOURCE}" startDate="${appleDate(S)}" endDate="${appleDate(END)}">\n${appleInlineLocations(POINTS)}  </WorkoutRoute>\n` +
    ` </Workout>\n</HealthData>\n`
  );
}

/** The same workout as the app's HealthKit sync payload (HealthKitWorkoutSchema). */
function syncPayload(): HealthKitWorkout {
  const q = (value: number, unit: string) => ({ value, unit });
  const stat = (type: string, aggregates: Record<string, { value: number; unit: string }>) => ({ quantityType: `HKQuantityTypeIdentifier${type}`, ...aggregates });
  return {
    uuid: '8A0C1F2E-0000-4000-8000-000000000001',
    workoutActivityType: 'HKWorkoutActivityTypeRunning',
    startDate: new Date(S),
    endDate: new Date(END),
    totalDistance: q(3.1, 'mi'),
    totalEnergyBurned: q(1200, 'kJ'),
    metadata: {
      HKIndoorWorkout: false,
      HKTimeZone: 'Europe/Zurich',
      HKWorkoutBrandName: 'Morning run',
      HKElevationAscended: q(4500, 'cm'),
      HKElevationDescended: q(4200, 'cm'),
      HKAverageSpeed: q(10.8, 'km/hr'),
      HKMaximumSpeed: q(16.2, 'km/hr'),
      HKWeatherTemperature: q(68, 'degF'),
      HKWeatherHumidity: q(56, '%'),
      HKAverageMETs: q(9.81, 'kcal/hr·kg'),
    },
    workoutEvents: [
      { type: 'lap', startDate: new Date(S + 600_000), metadata: { source_type: 'HKWorkoutEventTypeLap' } },
      { type: 7, startDate: new Date(S), endDate: new Date(S + 600_000), metadata: { source_type: 'HKWorkoutEventTypeSegment', duration_s: 600 } },
    ],
    statistics: [
      stat('HeartRate', { average: q(151.2, 'count/min'), minimum: q(98, 'count/min'), maximum: q(178, 'count/min') }),
      stat('RunningPower', { average: q(251, 'W'), maximum: q(402, 'W') }),
      stat('StepCount', { sum: q(5123, 'count') }),
      stat('BasalEnergyBurned', { sum: q(40, 'kcal') }),
      stat('RunningStrideLength', { average: q(112, 'cm') }),
      stat('RunningVerticalOscillation', { average: q(8.7, 'cm') }),
      stat('RunningGroundContactTime', { average: q(248, 'ms') }),
    ],
    route: POINTS.map((p) => ({ timestamp: new Date(p.timeMs), latitude: p.latitude, longitude: p.longitude, horizontalAccuracy: p.horizontalAccuracyM })),
    heartRateSamples: HEART.map((h) => ({ startDate: new Date(h.ms), value: h.bpm, unit: 'count/min' })),
    device: { name: 'Apple Watch' },
  };
}

const PROMOTED = [
  'activityType',
  'sourceActivityType',
  'name',
  'startTime',
  'endTime',
  'timeZone',
  'durationS',
  'distanceM',
  'activeEnergyKcal',
  'avgHeartRateBpm',
  'maxHeartRateBpm',
  'elevationGainM',
  'elevationLossM',
  'avgSpeedMS',
  'maxSpeedMS',
  'isIndoor',
  'deviceName',
] as const;

/** Every activity the export reader yields for an export.xml text (route files from `readRoute`). */
async function parseExport(xml: string, readRoute: (path: string) => Promise<Uint8Array | undefined> = async () => undefined): Promise<ImportedActivity[]> {
  const bytes = new TextEncoder().encode(xml);
  const out: ImportedActivity[] = [];
  for await (const activity of parseAppleHealthExport(async function* () {
    yield bytes;
  }, readRoute)) {
    out.push(activity);
  }
  return out;
}

async function imported(): Promise<ImportedActivity> {
  const out = await parseExport(exportXml());
  expect(out).toHaveLength(1);
  return out[0];
}

const byKey = <T extends { key: string }>(list: T[]) => [...list].sort((a, b) => a.key.localeCompare(b.key));

describe('one HealthKit mapping: export.xml and sync payload', () => {
  it('give the same promoted fields, statistics (keys and units), events and streams', async () => {
    const fromFile = await imported();
    const fromSync = mapHealthKitWorkout(syncPayload());

    for (const field of PROMOTED) expect([field, fromFile[field]]).toEqual([field, fromSync[field]]);
    expect(fromFile.activityType).toBe('running');
    expect(fromFile.distanceM).toBeCloseTo(4988.9664, 4);
    expect(fromFile.elevationLossM).toBe(42);

    expect(byKey(fromFile.statistics)).toEqual(byKey(fromSync.statistics));
    expect(byKey(fromFile.statistics).map((s) => [s.key, s.unit])).toEqual([
      ['avg_ground_contact_time_ms', 'ms'],
      ['avg_mets', 'kcal/(kg·hr)'],
      ['avg_power_w', 'W'],
      ['avg_stride_length_m', 'm'],
      ['avg_temperature_c', '°C'],
      ['avg_vertical_oscillation_mm', 'mm'],
      ['basal_energy_kcal', 'kcal'],
      ['max_power_w', 'W'],
      ['min_heart_rate_bpm', 'bpm'],
      ['total_steps', 'count'],
      ['weather_humidity_percent', '%'],
    ]);
    for (const s of fromFile.statistics) expect([s.key, s.unit]).toEqual([s.key, statisticUnit(s.key)]);

    expect(fromFile.events).toEqual(fromSync.events);

    const syncStreams = Object.fromEntries(fromSync.streams.map((s) => [s.type, s.samples]));
    expect(Object.keys(fromFile.streams).sort()).toEqual(Object.keys(syncStreams).sort());
    const [filePosition, syncPosition] = [fromFile.streams.position as PositionSamples, syncStreams.position as PositionSamples];
    expect(filePosition).toEqual(syncPosition);
    expect(filePosition.timestamps).toHaveLength(POINTS.length);
    expect(fromFile.streams.heart_rate as ScalarSamples).toEqual(syncStreams.heart_rate as ScalarSamples);
    expect(Array.from((fromFile.streams.heart_rate as ScalarSamples).values)).toEqual(HEART.map((h) => h.bpm));
  });

  it('leaves out a value in a unit the table does not know with a warning on import, where sync refuses the item', async () => {
    const xml = exportXml().replace('average="251" maximum="402" unit="W"', 'average="251" maximum="402" unit="hp"');
    const [run] = await parseExport(xml);
    expect(run.statistics.map((s) => s.key)).not.toContain('avg_power_w');
    expect(run.statistics.map((s) => s.key)).not.toContain('max_power_w');
    expect(run.statistics.map((s) => s.key)).toContain('total_steps');
    expect(run.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^statistics\.1\.average\.unit: unknown power unit "hp".*; left out$/)]));

    const payload = syncPayload();
    payload.statistics![1].average = { value: 251, unit: 'hp' };
    expect(() => mapHealthKitWorkout(payload)).toThrow(/unknown power unit "hp"/);
  });

  it('give the same legs for a multisport workout (types as the export reader infers them)', async () => {
    const routes = appleHealthRoutes();
    const workouts = await parseExport(buildAppleHealthExport(), async (path) => routes.get(path));
    const triathlon = workouts.find((w) => w.activityType === 'triathlon')!;
    const y = S + 4 * 86_400_000;
    const leg = (fromS: number, toS: number, type: string, distance?: [string, number, string]) => ({
      workoutConfiguration: { activityType: `HKWorkoutActivityType${type}` },
      startDate: new Date(y + fromS * 1000),
      endDate: new Date(y + toS * 1000),
      statistics: distance ? [{ quantityType: `HKQuantityTypeIdentifier${distance[0]}`, sum: { value: distance[1], unit: distance[2] } }] : [],
      metadata: { HKIndoorWorkout: false },
    });
    const fromSync = mapHealthKitWorkout({
      uuid: '8A0C1F2E-0000-4000-8000-000000000002',
      workoutActivityType: 'HKWorkoutActivityTypeSwimBikeRun',
      startDate: new Date(y),
      endDate: new Date(y + 7_200_000),
      workoutActivities: [
        leg(0, 1800, 'Swimming', ['DistanceSwimming', 1500, 'm']),
        leg(1800, 1980, 'Transition'),
        leg(1980, 5400, 'Cycling', ['DistanceCycling', 40, 'km']),
        leg(5400, 5520, 'Transition'),
        leg(5520, 7200, 'Running', ['DistanceWalkingRunning', 10, 'km']),
      ],
      sourceRevision: { source: { name: SOURCE } },
    });
    for (const field of PROMOTED) expect([field, triathlon[field]]).toEqual([field, fromSync[field]]);
    expect(triathlon.children).toHaveLength(5);
    const legFields = ['activityType', 'startTime', 'endTime', 'durationS', 'distanceM', 'isIndoor', 'statistics', 'events'] as const;
    const pick = (a: object) => Object.fromEntries(legFields.map((f) => [f, (a as Record<string, unknown>)[f]]));
    expect(triathlon.children.map(pick)).toEqual(fromSync.children.map(pick));
    expect(triathlon.children.map((c) => c.activityType)).toEqual(['swimming', 'transition', 'cycling', 'transition', 'running']);
  });
});
