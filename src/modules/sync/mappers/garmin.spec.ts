import { describe, expect, it } from '@jest/globals';
import { GarminActivitySchema } from '@unified-activity/contract';
import { GARMIN_ACTIVITY_TYPES } from '../../../../test/fixtures/provider-enums.js';
import { garminMultisport, garminTreadmillRun } from '../../../../test/fixtures/sync-payloads.js';
import { garminActivityType, garminProviderType, garminTimeZone, mapGarminActivity } from './garmin.js';

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
