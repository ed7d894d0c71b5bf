import { describe, expect, it } from '@jest/globals';
import { conformActivities } from './conform.js';
import type { ImportedActivity } from './types.js';

describe('conformActivities', () => {
  const base = (): ImportedActivity => ({
    activityType: 'running',
    sourceActivityType: null,
    startTime: new Date('2024-01-01T00:00:00Z'),
    endTime: new Date('2024-01-01T01:00:00Z'),
    statistics: [],
    events: [],
    streams: {},
    sourceData: {},
    children: [],
  });

  it('leaves out implausible values and a maximum below its average, with warnings', () => {
    const a = { ...base(), avgHeartRateBpm: 0, maxHeartRateBpm: 170, distanceM: -5, avgSpeedMS: 3, maxSpeedMS: 2.5, timeZone: 'Mars/Olympus' };
    const warnings: string[] = [];
    conformActivities([a], warnings);
    expect(a).toMatchObject({ avgHeartRateBpm: null, maxHeartRateBpm: 170, distanceM: null, avgSpeedMS: 3, maxSpeedMS: null, timeZone: null });
    expect(warnings).toEqual([
      'activity: implausible distanceM -5 left out',
      'activity: implausible avgHeartRateBpm 0 left out',
      'activity: maxSpeedMS 2.5 is below avgSpeedMS 3; left out',
    ]);
  });

  it('never lets a moving time exceed the elapsed time: up to 1 s is clamped (rounding), more is left out with a warning', () => {
    const rounding = { ...base(), durationS: 3600, movingTimeS: 3600.4 };
    const contradicted = { ...base(), durationS: 1410, movingTimeS: 2283 };
    const fine = { ...base(), durationS: 3600, movingTimeS: 3300 };
    const warnings: string[] = [];
    conformActivities([rounding, contradicted, fine], warnings);
    expect(rounding.movingTimeS).toBe(3600);
    expect(contradicted.movingTimeS).toBeNull();
    expect(fine.movingTimeS).toBe(3300);
    expect(warnings).toEqual(['activity 2: movingTimeS 2283 s is longer than the elapsed durationS 1410 s; left out']);
  });

  it('keeps pauses and laps first when there are more events than an activity may have', () => {
    const a = base();
    const at = (s: number) => new Date(a.startTime.getTime() + s * 1000);
    a.events = [
      ...Array.from({ length: 6000 }, (_, i) => ({ eventType: 'segment', startTime: at(i % 3600) })),
      { eventType: 'pause', startTime: at(100) },
      { eventType: 'resume', startTime: at(200) },
      { eventType: 'lap', startTime: at(0), endTime: at(3600) },
    ];
    const warnings: string[] = [];
    conformActivities([a], warnings);
    expect(a.events).toHaveLength(5000);
    expect(a.events.filter((e) => e.eventType !== 'segment').map((e) => e.eventType)).toEqual(['pause', 'resume', 'lap']);
    expect(warnings).toEqual(['activity: 6003 events; kept 5000, dropping segments and markers first']);
  });
});
