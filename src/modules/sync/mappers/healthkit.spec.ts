import { describe, expect, it } from '@jest/globals';
import { activityTypes, inboundFallbacks } from '../../../../libs/seed-data/activity-types.js';
import { HealthKitWorkoutSchema } from '@unified-activity/contract';
import { healthKitPoolSwim, healthKitRun, healthKitTriathlon } from '../../../../test/fixtures/sync-payloads.js';
import { healthKitActivityType, healthKitProviderType, mapHealthKitWorkout } from './healthkit.js';
import { MappingError } from './normalized.js';

const map = (payload: unknown) => mapHealthKitWorkout(HealthKitWorkoutSchema.parse(payload));

describe('mapHealthKitWorkout', () => {
  it('converts units at the edge: kJ → kcal, mi → m, cm → m, km/h → m/s, °F → °C', () => {
    const run = map(healthKitRun());
    expect(run).toMatchObject({
      externalId: 'C5B0E0E2-8F4B-4C43-9D4A-6E7F3E2B1A01',
      activityType: 'running',
      sourceActivityType: '37',
      isIndoor: false,
      timeZone: 'Europe/Berlin',
      durationS: 2940,
      distanceM: 9977.9328,
      elevationGainM: 84.5,
      avgHeartRateBpm: 152,
      maxHeartRateBpm: 181,
      deviceName: 'Apple Watch',
      name: 'Morning Run',
    });
    expect(run.activeEnergyKcal).toBeCloseTo(600, 6);
    expect(run.avgSpeedMS).toBeCloseTo(3.1667, 4);
    expect(run.startTime.toISOString()).toBe('2026-05-01T04:00:00.000Z');
    expect(run.statistics).toEqual(
      expect.arrayContaining([
        { key: 'min_heart_rate_bpm', value: 96, unit: 'bpm' },
        { key: 'avg_power_w', value: 262, unit: 'W' },
        { key: 'max_power_w', value: 410, unit: 'W' },
        { key: 'total_steps', value: 8123, unit: 'count' },
        { key: 'avg_ground_contact_time_ms', value: 248, unit: 'ms' },
        { key: 'avg_temperature_c', value: 15, unit: '°C' },
      ]),
    );
  });

  it('maps every HKWorkoutEventType, keeps lap spans, and drops pause-or-resume requests', () => {
    const run = map({ ...healthKitRun(), workoutEvents: [...healthKitRun().workoutEvents, { type: 8, startDate: '2026-05-01T04:10:00Z' }] });
    expect(run.events.map((e) => e.eventType)).toEqual(['pause', 'resume', 'lap', 'motion_paused', 'motion_resumed', 'segment']);
    const lap = run.events[2]!;
    expect(lap.endTime!.getTime() - lap.startTime.getTime()).toBe(1500_000);
    expect(lap.metadata).toEqual({ HKLapLength: { value: 5, unit: 'km' } });
  });

  it('turns the route and heart-rate samples into streams, sorted, count/s converted, invalid accuracy dropped', () => {
    const run = map(healthKitRun());
    const hr = run.streams.find((s) => s.type === 'heart_rate')!.samples as { values: Float64Array; timestamps: Float64Array };
    expect(Array.from(hr.values)).toEqual([101, 138, 148]);
    const route = run.streams.find((s) => s.type === 'position')!.samples as { horizontalAccuracyM: Float64Array; altitudeM: Float64Array };
    expect(Array.from(route.horizontalAccuracyM)).toEqual([4.5, 4.5, Number.NaN]);
    expect(Array.from(route.altitudeM)).toEqual([34, 35, 36]);
  });

  it('reads the swimming-location qualifier and converts a lap length in yards', () => {
    const swim = map(healthKitPoolSwim());
    expect(swim).toMatchObject({ activityType: 'pool_swimming', sourceActivityType: 'swimming', distanceM: 1508.76, timeZone: null });
    expect(swim.statistics).toEqual(expect.arrayContaining([{ key: 'pool_length_m', value: 22.86, unit: 'm' }, { key: 'total_strokes', value: 912, unit: 'count' }]));
    expect(map({ ...healthKitPoolSwim(), metadata: { HKSwimmingLocationType: 2 } }).activityType).toBe('open_water_swimming');
  });

  it('reads the indoor qualifier: an indoor run is a treadmill run, an indoor ride indoor cycling', () => {
    expect(map({ ...healthKitRun(), metadata: { HKIndoorWorkout: true } })).toMatchObject({ activityType: 'treadmill_running', isIndoor: true });
    expect(map({ ...healthKitPoolSwim(), workoutActivityType: 'cycling', metadata: { HKIndoorWorkout: 1 } }).activityType).toBe('indoor_cycling');
  });

  it('makes iOS 16+ workoutActivities children, with their own qualifiers', () => {
    const tri = map(healthKitTriathlon());
    expect(tri.activityType).toBe('triathlon');
    expect(tri.children.map((c) => [c.activityType, c.distanceM, c.isIndoor])).toEqual([
      ['open_water_swimming', 1500, null],
      ['transition', null, null],
      ['cycling', 40000, false],
      ['running', null, null],
    ]);
    expect(tri.children[3]).toMatchObject({ avgHeartRateBpm: 161, maxHeartRateBpm: 178 });
  });

  it('accepts missing optional fields; unknown types become other with the original kept', () => {
    const minimal = map({ uuid: 'u', workoutActivityType: 9999, startDate: '2026-05-01T00:00:00Z', endDate: '2026-05-01T00:10:00Z' });
    expect(minimal).toMatchObject({ activityType: 'other', sourceActivityType: '9999', durationS: 600, distanceM: null, events: [], streams: [], children: [] });
  });

  it('refuses an unknown unit and an end before the start at their paths', () => {
    const badUnit = () => map({ ...healthKitPoolSwim(), totalDistance: { value: 1, unit: 'furlong' } });
    expect(badUnit).toThrow(MappingError);
    expect(() => badUnit()).toThrow(expect.objectContaining({ path: ['totalDistance', 'unit'] }));
    expect(() => map({ ...healthKitPoolSwim(), endDate: '2026-05-02T17:00:00Z' })).toThrow(expect.objectContaining({ path: ['endDate'] }));
    expect(() => map({ ...healthKitPoolSwim(), metadata: { HKTimeZone: 'Mars/Olympus' } })).toThrow(expect.objectContaining({ path: ['metadata', 'HKTimeZone'] }));
  });
});

describe('healthKitActivityType round trip', () => {
  const values = [
    ...activityTypes.map((t) => ({ case: t.mappings.healthkit.case, rawValue: t.mappings.healthkit.rawValue, qualifier: t.mappings.healthkit.qualifier })),
    ...inboundFallbacks.healthkit.map((f) => ({ case: f.case, rawValue: f.rawValue, qualifier: undefined })),
  ];

  it('gives every catalog value back unchanged, in each spelling (provider → canonical → provider)', () => {
    for (const value of values) {
      const metadata = value.qualifier === 'indoor' ? { HKIndoorWorkout: true } : value.qualifier ? { HKSwimmingLocationType: value.qualifier === 'pool' ? 1 : 2 } : {};
      const objc = `HKWorkoutActivityType${value.case[0]!.toUpperCase()}${value.case.slice(1)}`;
      for (const sent of [value.case, value.rawValue, objc]) {
        const mapped = healthKitActivityType(sent, metadata);
        expect([sent, healthKitProviderType(mapped.activityType, mapped.sourceActivityType)]).toEqual([sent, sent]);
      }
    }
  });

  it('sends the catalog value for an activity without a stored original', () => {
    expect(healthKitProviderType('treadmill_running', null)).toBe('running');
  });
});
