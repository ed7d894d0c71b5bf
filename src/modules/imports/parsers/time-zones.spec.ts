import { describe, expect, it } from '@jest/globals';
import { offsetSecondsOf, timeZoneForOffset } from './time-zones.js';

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

describe('offsetSecondsOf', () => {
  it("reads each instant's own offset from a zone's formatter used before (summer time, then winter, then summer)", () => {
    expect(offsetSecondsOf('Europe/Zurich', new Date('2024-07-01T10:00:00Z'))).toBe(7200);
    expect(offsetSecondsOf('Europe/Zurich', new Date('2024-01-15T10:00:00Z'))).toBe(3600);
    expect(offsetSecondsOf('Europe/Zurich', new Date('2024-03-31T01:00:00Z'))).toBe(7200); // the hour the clocks went forward
    expect(offsetSecondsOf('America/St_Johns', new Date('2024-01-15T10:00:00Z'))).toBe(-12_600);
    expect(offsetSecondsOf('Asia/Kathmandu', new Date('2024-01-15T10:00:00Z'))).toBe(20_700);
  });
  it('answers undefined for a zone ICU does not know, every time', () => {
    expect(offsetSecondsOf('Mars/Olympus_Mons', new Date('2024-01-15T10:00:00Z'))).toBeUndefined();
    expect(offsetSecondsOf('Mars/Olympus_Mons', new Date('2024-07-01T10:00:00Z'))).toBeUndefined();
  });
});
