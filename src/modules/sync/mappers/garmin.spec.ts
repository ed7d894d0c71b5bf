import { describe, expect, it } from '@jest/globals';
import { GarminActivitySchema, PROVIDER_PAYLOAD_SCHEMAS } from '@unified-activity/contract';
import { GARMIN_ACTIVITY_TYPES } from '../../../../test/fixtures/provider-enums.js';
import { garminActivityDetails, garminDaily, garminEpoch, garminMoveIq, garminMultisport, garminTreadmillRun } from '../../../../test/fixtures/sync-payloads.js';
import { garminActivityType, garminNotAWorkout, garminProviderType, garminTimeZone, mapGarminActivity, mapGarminPayload } from './garmin.js';

const map = (payload: unknown) => mapGarminActivity(GarminActivitySchema.parse(payload));

describe('mapGarminActivity', () => {
  it('maps a summary push: epoch seconds, offset → fixed zone, Garmin keys through the catalog', () => {
    const run = map(garminTreadmillRun());
    expect(run).toMatchObject({
      externalId: '5001968355',
      activityType: 'treadmill_running',
      sourceActivityType: 'TREADMILL_RUNNING',
      isIndoor: true,
      timeZone: 'Etc/GMT+5',
      durationS: 1800,
      distanceM: 5012.3,
      activeEnergyKcal: 402,
      avgHeartRateBpm: 149,
      deviceName: 'forerunner965',
    });
    expect(run.startTime.toISOString()).toBe('2026-05-01T06:00:00.000Z');
    expect(run.endTime.toISOString()).toBe('2026-05-01T06:30:00.000Z');
    expect(run.statistics).toEqual(expect.arrayContaining([{ key: 'avg_cadence_spm', value: 168, unit: 'steps/min' }, { key: 'total_steps', value: 5040, unit: 'count' }]));
    expect(run.events.map((e) => e.eventType)).toEqual(['lap', 'lap']);
    expect(run.streams.map((s) => s.type).sort()).toEqual(['distance', 'heart_rate', 'speed']);
  });

  it('names the parent of a multisport leg', () => {
    const [parent, leg] = garminMultisport().map(map);
    expect(parent).toMatchObject({ activityType: 'multisport', parentExternalId: null, timeZone: 'Etc/GMT-2' });
    expect(leg).toMatchObject({ activityType: 'open_water_swimming', parentExternalId: '7000-parent' });
  });

  it('keeps a key Garmin adds later as other, never an error; a half-hour offset leaves the zone to the athlete', () => {
    expect(map({ ...garminTreadmillRun(), activityType: 'PADDLE_TENNIS_2030', startTimeOffsetInSeconds: 19800 })).toMatchObject({
      activityType: 'other',
      sourceActivityType: 'PADDLE_TENNIS_2030',
      timeZone: null,
    });
    // Offset 0 is also what an unknown offset looks like: unknown, never 'UTC' (docs/data-model.md §9).
    expect(garminTimeZone(0)).toBeNull();
    expect(map({ ...garminTreadmillRun(), startTimeOffsetInSeconds: 0 }).timeZone).toBeNull();
    expect(garminTimeZone(7200)).toBe('Etc/GMT-2');
  });
});

describe('garminActivityType round trip', () => {
  it('gives every Garmin key back unchanged (provider → canonical → provider)', () => {
    for (const key of GARMIN_ACTIVITY_TYPES) {
      const mapped = garminActivityType(key);
      expect(mapped.activityType).not.toBe(undefined);
      expect([key, garminProviderType(mapped.activityType, mapped.sourceActivityType)]).toEqual([key, key]);
    }
  });

  it('sends the catalog key when there is no stored original', () => {
    expect(garminProviderType('pool_swimming', null)).toBe('LAP_SWIMMING');
    expect(garminProviderType('road_cycling', null)).toBe('ROAD_BIKING');
  });
});

describe('Garmin activity details in Garmin’s own nesting', () => {
  const mapPayload = (payload: unknown) => mapGarminPayload(PROVIDER_PAYLOAD_SCHEMAS.garmin.parse(payload) as never);

  it('maps the nested summary, the samples as streams and the laps as lap events', () => {
    const ride = mapPayload(garminActivityDetails());
    expect(ride).toMatchObject({
      externalId: '5001968355',
      activityType: 'road_cycling',
      sourceActivityType: 'ROAD_BIKING',
      timeZone: 'Etc/GMT-2',
      durationS: 120,
      distanceM: 960,
      avgHeartRateBpm: 131,
      deviceName: 'edge1040',
    });
    const byType = new Map(ride.streams.map((s) => [s.type, s.samples]));
    expect([...byType.keys()].sort()).toEqual(['altitude', 'cadence', 'distance', 'heart_rate', 'position', 'power', 'speed', 'temperature']);
    // Cadence from the bike field: stepsPerMinute is 0 in every sample (no such sensor on a ride).
    expect(Array.from((byType.get('cadence') as { values: Float64Array }).values.slice(0, 3))).toEqual([85, 86, 87]);
    const position = byType.get('position') as { timestamps: Float64Array; latitude: Float64Array; altitudeM: Float64Array | null };
    expect(position.timestamps).toHaveLength(120);
    expect(position.timestamps[0]).toBe(1777615200_000);
    expect(position.altitudeM).toBeNull(); // the elevation is in the altitude stream, stored once
    expect(ride.events.map((e) => [e.eventType, e.startTime.toISOString()])).toEqual([
      ['lap', '2026-05-01T06:00:00.000Z'],
      ['lap', '2026-05-01T06:01:00.000Z'],
    ]);
  });

  it('drops only a sensor that is 0 in every sample; a 0 among values is kept', () => {
    const details = garminActivityDetails();
    details.samples[3]!.powerInWatts = 0;
    for (const sample of details.samples) sample.heartRate = 0;
    const ride = mapPayload(details);
    expect(ride.streams.map((s) => s.type)).not.toContain('heart_rate');
    expect((ride.streams.find((s) => s.type === 'power')!.samples as { values: Float64Array }).values[3]).toBe(0);
  });

  it('keeps a details summaryId without the -detail suffix as it is, and explains a missing summary field at its path', () => {
    expect(mapPayload(garminActivityDetails('777')).externalId).toBe('777');
    const { durationInSeconds: _missing, ...summary } = garminActivityDetails().summary;
    const parsed = PROVIDER_PAYLOAD_SCHEMAS.garmin.safeParse({ ...garminActivityDetails(), summary });
    expect(parsed.success).toBe(false);
  });
});

describe('garminNotAWorkout', () => {
  it('never takes a wellness summary for a workout, under its push key or bare', () => {
    for (const [item, type] of [
      [garminDaily(), 'dailies'],
      [garminEpoch(), 'epochs'],
      [garminMoveIq(), 'moveIQActivities'],
    ] as const) {
      expect(garminNotAWorkout(item, type)).toMatchObject({ itemType: type, externalId: item.summaryId });
      expect(garminNotAWorkout(item, 'activities')).toMatchObject({ itemType: type });
    }
    expect(garminNotAWorkout({ summaryId: 's-1', calendarDate: '2026-05-01', deepSleepDurationInSeconds: 3600 }, 'activities')).toMatchObject({ itemType: 'sleeps' });
    expect(garminNotAWorkout({ summaryId: 'u-1', calendarDate: '2026-05-01', vo2Max: 48 }, 'userMetrics')!.reason).toContain('not a workout');
  });

  it('lets activity summaries and details through', () => {
    expect(garminNotAWorkout(garminTreadmillRun(), 'activities')).toBeUndefined();
    expect(garminNotAWorkout(garminTreadmillRun(), 'manuallyUpdatedActivities')).toBeUndefined();
    expect(garminNotAWorkout(garminActivityDetails(), 'activities')).toBeUndefined();
    expect(garminNotAWorkout(garminActivityDetails(), 'activityDetails')).toBeUndefined();
    for (const leg of garminMultisport()) expect(garminNotAWorkout(leg, 'activities')).toBeUndefined();
    // An item that is neither (a misspelt summary) is not ignored: the schema answers it 422 at its field.
    expect(garminNotAWorkout({ summaryID: 'typo', startTimeInSeconds: 1 }, 'activities')).toBeUndefined();
  });
});
