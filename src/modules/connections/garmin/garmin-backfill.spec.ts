import { describe, expect, it } from '@jest/globals';
import { GARMIN_WINDOW_S, garminWindows } from './garmin-backfill.js';
import { PushRateLimit } from './push-rate-limit.js';

describe('garminWindows', () => {
  const connectedAt = new Date('2026-12-06T12:00:00.500Z');
  const end = Math.floor(connectedAt.getTime() / 1000);

  it('covers the days back from the connect time in contiguous windows of at most 90 days, newest first', () => {
    for (const days of [1, 89, 90, 91, 180, 365, 730, 1825]) {
      const windows = garminWindows(connectedAt, days);
      expect(windows.length).toBe(Math.ceil(days / 90));
      expect(windows[0]!.end).toBe(end);
      expect(windows.at(-1)!.start).toBe(end - days * 86_400);
      for (const [i, w] of windows.entries()) {
        expect(w.end - w.start).toBeGreaterThan(0);
        expect(w.end - w.start).toBeLessThanOrEqual(GARMIN_WINDOW_S);
        if (i > 0) expect(w.end).toBe(windows[i - 1]!.start);
      }
    }
  });

  it('has no window for 0 days', () => {
    expect(garminWindows(connectedAt, 0)).toEqual([]);
  });
});

describe('PushRateLimit', () => {
  it('lets `perMinute` requests of one address through per minute, counts addresses apart, and starts again the next minute', () => {
    let now = Date.parse('2026-12-06T12:00:05Z');
    const limit = new PushRateLimit(3, () => now);
    expect([1, 2, 3, 4].map(() => limit.take('10.0.0.1'))).toEqual([true, true, true, false]);
    expect(limit.take('10.0.0.2')).toBe(true);
    now += 30_000;
    expect(limit.take('10.0.0.1')).toBe(false);
    now += 30_000;
    expect(limit.take('10.0.0.1')).toBe(true);
  });
});
