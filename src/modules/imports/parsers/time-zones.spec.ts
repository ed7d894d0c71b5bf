import { describe, expect, it } from '@jest/globals';
import { timeZoneForOffset } from './time-zones.js';

describe('timeZoneForOffset', () => {
  const summer = new Date('2024-07-01T10:00:00Z');
  it('names the zone at the first position when its offset agrees', () => {
    expect(timeZoneForOffset(7200, summer, { latitude: 47.37, longitude: 8.54 })).toBe('Europe/Zurich');
    expect(timeZoneForOffset(19_800, summer, { latitude: 19.07, longitude: 72.87 })).toBe('Asia/Kolkata');
  });
  it('falls back to a fixed Etc zone for a whole-hour offset, and to nothing otherwise', () => {
    expect(timeZoneForOffset(3600, summer, { latitude: 47.37, longitude: 8.54 })).toBe('Etc/GMT-1');
    expect(timeZoneForOffset(-18_000, summer)).toBe('Etc/GMT+5');
    expect(timeZoneForOffset(19_800, summer)).toBeUndefined();
  });
  it('takes an offset of 0 for unknown: the position tells the zone, else there is none (never UTC)', () => {
    expect(timeZoneForOffset(0, summer)).toBeUndefined();
    expect(timeZoneForOffset(0, summer, { latitude: 47.37, longitude: 8.54 })).toBe('Europe/Zurich');
    expect(timeZoneForOffset(0, new Date('2024-01-15T10:00:00Z'), { latitude: 51.5, longitude: -0.12 })).toBe('Europe/London');
  });
});
