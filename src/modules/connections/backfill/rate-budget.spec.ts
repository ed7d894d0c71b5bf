import { describe, expect, it } from '@jest/globals';
import { stravaReportedUsage } from './rate-budget.js';
import { retryDelayMs } from './provider-sync.service.js';

const headers = (values: Record<string, string>) => new Headers(values);

describe('stravaReportedUsage', () => {
  it('reads the overall pair alone', () => {
    expect(stravaReportedUsage(headers({ 'X-RateLimit-Limit': '200,2000', 'X-RateLimit-Usage': '12,340' }))).toEqual({ limit: [200, 2000], usage: [12, 340] });
  });

  it('takes the smaller headroom of the overall and read pairs, per window', () => {
    // Overall: 50 left of 200 in the window, 1,660 of 2,000 in the day; read: 80 of 100, 990 of 1,000.
    const reported = stravaReportedUsage(
      headers({ 'X-RateLimit-Limit': '200,2000', 'X-RateLimit-Usage': '150,340', 'X-ReadRateLimit-Limit': '100,1000', 'X-ReadRateLimit-Usage': '20,10' }),
    );
    expect(reported).toEqual({ limit: [100, 1000], usage: [50, 10] });
    expect(reported!.limit[0] - reported!.usage[0]).toBe(50);
    expect(reported!.limit[1] - reported!.usage[1]).toBe(990);
  });

  it('ignores missing or malformed headers', () => {
    expect(stravaReportedUsage(headers({}))).toBeUndefined();
    expect(stravaReportedUsage(headers({ 'X-RateLimit-Limit': 'lots', 'X-RateLimit-Usage': '1,2' }))).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('doubles from 5 s and stops at an hour', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(30)).toBe(3_600_000);
  });
});
