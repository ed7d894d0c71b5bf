import { describe, expect, it } from '@jest/globals';
import { HealthConnectSessionSchema } from '@unified-activity/contract';
import { HEALTH_CONNECT_EXERCISE_TYPES } from '../../../../test/fixtures/provider-enums.js';
import { healthConnectRun, rnHealthConnectDistance, rnHealthConnectSession } from '../../../../test/fixtures/sync-payloads.js';
import { healthConnectActivityType, healthConnectNotASession, healthConnectProviderType, mapHealthConnectSession, zoneFromOffset } from './health-connect.js';

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

describe('react-native-health-connect’s record shape', () => {
  it('maps a session as the library serialises it: package-name origin, device object, {id, totalSeconds} offsets', () => {
    const run = map(rnHealthConnectSession());
    expect(run).toMatchObject({
      externalId: '0f0e3c1a-5b7d-4e57-9d8f-2b6c1f0a9e11',
      activityType: 'running',
      sourceActivityType: '56',
      name: 'Evening run',
      timeZone: 'Etc/GMT-2',
      durationS: 1800,
      deviceName: 'Google Pixel Watch 2',
    });
    // The library writes 0 m for a missing Length: no lap distance, no accuracy, no placeholder altitude.
    expect(run.events.find((e) => e.eventType === 'lap')!.metadata).toBeNull();
    const position = run.streams.find((s) => s.type === 'position')!.samples as { latitude: Float64Array; altitudeM: unknown; horizontalAccuracyM: unknown };
    expect(position.latitude).toHaveLength(3);
    expect(position.altitudeM).toBeNull();
    expect(position.horizontalAccuracyM).toBeNull();
  });

  it('reads the older library’s device number and the model repeated in metadata', () => {
    const session = rnHealthConnectSession();
    const older = { ...session, metadata: { ...session.metadata, device: 6 } };
    expect(map(older).deviceName).toBe('Google Pixel Watch 2');
    const { manufacturer: _m, model: _mo, ...bare } = older.metadata;
    expect(map({ ...older, metadata: bare }).deviceName).toBeNull();
  });

  it('keeps a real altitude of 0 m when a vertical accuracy says it was measured', () => {
    const session = rnHealthConnectSession();
    session.exerciseRoute.route[0]!.verticalAccuracy = { ...session.exerciseRoute.route[0]!.verticalAccuracy, inMeters: 3 };
    const position = map(session).streams.find((s) => s.type === 'position')!.samples as { altitudeM: Float64Array };
    expect(Array.from(position.altitudeM)).toEqual([0, 0, 0]);
  });

  it('recognises other records by recordType, or by their value field without one', () => {
    expect(healthConnectNotASession(rnHealthConnectDistance())).toEqual({
      externalId: '7c1d2e3f-0000-4000-8000-00000000d157',
      itemType: 'Distance',
      reason: 'a Distance record, not an exercise session',
    });
    expect(healthConnectNotASession({ ...rnHealthConnectDistance(), recordType: 'StepsRecord' })!.itemType).toBe('Steps');
    const { recordType: _r, ...bare } = rnHealthConnectDistance();
    expect(healthConnectNotASession(bare)!.itemType).toBe('Distance');
    expect(healthConnectNotASession(rnHealthConnectSession())).toBeUndefined();
    expect(healthConnectNotASession(healthConnectRun())).toBeUndefined();
    // A session missing its exerciseType is a broken session (422 at its path), not another record.
    const { exerciseType: _e, ...noType } = healthConnectRun();
    expect(healthConnectNotASession(noType)).toBeUndefined();
  });
});
