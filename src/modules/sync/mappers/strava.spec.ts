import { describe, expect, it } from '@jest/globals';
import { activityTypes, inboundFallbacks } from '../../../../libs/seed-data/activity-types.js';
import { StravaActivitySchema } from '@unified-activity/contract';
import { STRAVA_SPORT_TYPES } from '../../../../test/fixtures/provider-enums.js';
import { stravaRide, stravaStreams } from '../../../../test/fixtures/sync-payloads.js';
import { mapStravaActivity, stravaActivityType, stravaProviderType, stravaTimeZone } from './strava.js';

const map = (payload: unknown) => mapStravaActivity(StravaActivitySchema.parse(payload));

describe('mapStravaActivity', () => {
  it('maps a DetailedActivity: sport_type wins over type, the zone comes out of "(GMT+01:00) Europe/Berlin"', () => {
    const ride = map(stravaRide());
    expect(ride).toMatchObject({
      externalId: '154504250376',
      activityType: 'mountain_biking',
      sourceActivityType: 'MountainBikeRide',
      isIndoor: false,
      timeZone: 'Europe/Berlin',
      durationS: 4410,
      movingTimeS: 4207,
      distanceM: 28099,
      elevationGainM: 516,
      avgSpeedMS: 6.679,
      maxSpeedMS: 18.5,
      avgHeartRateBpm: 140.3,
      activeEnergyKcal: 870.2,
      deviceName: 'Garmin Edge 1040',
      notes: 'Trail loop',
    });
    expect(ride.endTime.getTime() - ride.startTime.getTime()).toBe(4410_000);
    expect(ride.statistics).toEqual(
      expect.arrayContaining([
        { key: 'avg_power_w', value: 185.5, unit: 'W' },
        { key: 'normalized_power_w', value: 230, unit: 'W' },
        { key: 'work_kj', value: 780.5, unit: 'kJ' },
        { key: 'avg_cadence_rpm', value: 78.5, unit: 'rpm' },
      ]),
    );
    expect(ride.events).toHaveLength(2);
    expect(ride.events[0]).toMatchObject({ eventType: 'lap', metadata: { name: 'Lap 1', distanceM: 10000 } });
  });

  it('reads old payloads with only the legacy type, and the trainer flag', () => {
    const { sport_type: _s, ...legacy } = { ...stravaRide(), type: 'Run', trainer: true, average_cadence: 84 };
    const run = map(legacy);
    expect(run).toMatchObject({ activityType: 'treadmill_running', sourceActivityType: 'Run', isIndoor: true });
    // Strava counts running cadence per leg; stored as steps per minute.
    expect(run.statistics).toContainEqual({ key: 'avg_cadence_spm', value: 168, unit: 'steps/min' });
    expect(map({ ...stravaRide(), sport_type: 'Ride', trainer: true }).activityType).toBe('indoor_cycling');
    expect(map({ ...stravaRide(), sport_type: 'Quidditch' })).toMatchObject({ activityType: 'other', sourceActivityType: 'Quidditch' });
  });

  it('reads both stream forms, skipping null streams and null samples', () => {
    for (const form of ['array', 'keyed'] as const) {
      const ride = map({ ...stravaRide(), elapsed_time: 300, streams: stravaStreams(300, form) });
      expect(ride.streams.map((s) => s.type).sort()).toEqual(['altitude', 'heart_rate', 'position', 'power']);
      const power = ride.streams.find((s) => s.type === 'power')!.samples.timestamps;
      expect(power.length).toBe(300 - 4);
      expect(power[0]).toBe(Date.parse('2026-05-03T07:12:01Z'));
    }
  });

  it('handles a payload with nothing optional', () => {
    const bare = map({ id: '1', sport_type: 'Walk', start_date: '2026-05-01T06:00:00Z' });
    expect(bare).toMatchObject({ activityType: 'walking', durationS: null, timeZone: null, streams: [], events: [] });
  });

  it('keeps an unusable time zone out', () => {
    expect(stravaTimeZone('(GMT+00:00) Nowhere/Land')).toBeNull();
    expect(stravaTimeZone('(GMT-08:00) America/Los_Angeles')).toBe('America/Los_Angeles');
  });
});

describe('stravaActivityType round trip', () => {
  it('gives every Strava sport type back unchanged, with and without trainer', () => {
    const values = new Set([...STRAVA_SPORT_TYPES, ...activityTypes.map((t) => t.mappings.strava.sportType), ...inboundFallbacks.strava.map((f) => f.sportType)]);
    for (const sportType of values) {
      for (const trainer of [false, true]) {
        const mapped = stravaActivityType(sportType, trainer);
        expect([sportType, stravaProviderType(mapped.activityType, mapped.sourceActivityType).sportType]).toEqual([sportType, sportType]);
      }
    }
  });

  it('sends the trainer flag back for trainer types', () => {
    const mapped = stravaActivityType('Ride', true);
    expect(stravaProviderType(mapped.activityType, mapped.sourceActivityType)).toEqual({ sportType: 'Ride', trainer: true });
    expect(stravaProviderType('indoor_rowing', null)).toEqual({ sportType: 'Rowing', trainer: true });
  });
});
