import { describe, expect, it } from '@jest/globals';
import { HealthConnectSessionSchema } from '@unified-activity/contract';
import { HEALTH_CONNECT_EXERCISE_TYPES } from '../../../../test/fixtures/provider-enums.js';
import { healthConnectRun } from '../../../../test/fixtures/sync-payloads.js';
import { healthConnectActivityType, healthConnectProviderType, mapHealthConnectSession, zoneFromOffset } from './health-connect.js';

const map = (payload: unknown) => mapHealthConnectSession(HealthConnectSessionSchema.parse(payload));

describe('mapHealthConnectSession', () => {
  it('maps an ExerciseSessionRecord: metadata.id is the external id, laps and segments are events', () => {
    const run = map(healthConnectRun());
    expect(run).toMatchObject({
      externalId: 'a7f2c1e0-1111-4aaa-8bbb-0c0d0e0f0a0b',
      activityType: 'treadmill_running',
      sourceActivityType: '57',
      isIndoor: true,
      name: 'Treadmill intervals',
      notes: 'Felt good',
      timeZone: 'Etc/GMT-2',
      durationS: 2400,
      distanceM: 7800,
      avgHeartRateBpm: 136,
      maxHeartRateBpm: 162,
      deviceName: 'Google Pixel Watch 3',
    });
    expect(run.events.map((e) => e.eventType)).toEqual(['lap', 'segment']);
    expect(run.events[0]!.metadata).toEqual({ distanceM: 4000 });
    expect(run.streams.map((s) => s.type)).toEqual(['heart_rate']);
  });

  it('reads the zone offset as a string or in seconds, and an exercise type by name', () => {
    expect(zoneFromOffset(-18000)).toBe('Etc/GMT+5');
    expect(zoneFromOffset('+05:30')).toBeNull();
    // Offset 0 does not prove UTC: unknown (docs/data-model.md §9).
    expect(zoneFromOffset('Z')).toBeNull();
    expect(zoneFromOffset('+00:00')).toBeNull();
    expect(zoneFromOffset(0)).toBeNull();
    expect(map({ ...healthConnectRun(), exerciseType: 'EXERCISE_TYPE_SWIMMING_POOL' }).activityType).toBe('pool_swimming');
    expect(map({ ...healthConnectRun(), exerciseType: 999 })).toMatchObject({ activityType: 'other', sourceActivityType: '999' });
  });

  it('builds a position stream from exerciseRoute', () => {
    const withRoute = {
      ...healthConnectRun(),
      exerciseType: 56,
      exerciseRoute: { route: [{ time: '2026-05-04T05:31:00Z', latitude: 48.1, longitude: 11.5, altitude: { inMeters: 520 }, horizontalAccuracy: { inMeters: 3 } }] },
    };
    const position = map(withRoute).streams.find((s) => s.type === 'position')!.samples as { altitudeM: Float64Array };
    expect(Array.from(position.altitudeM)).toEqual([520]);
  });
});

describe('healthConnectActivityType round trip', () => {
  it('gives every constant back unchanged, by value and by name', () => {
    for (const { constant, value } of HEALTH_CONNECT_EXERCISE_TYPES) {
      for (const sent of [value, constant]) {
        const mapped = healthConnectActivityType(sent);
        expect([sent, healthConnectProviderType(mapped.activityType, mapped.sourceActivityType)]).toEqual([sent, sent]);
      }
    }
  });
});
