import { describe, expect, it } from '@jest/globals';
import { isStatisticKey, STATISTIC_KEYS, statisticUnit } from './statistics.js';

/** The suffix a key must end in for its unit (DATA-MODEL §5: snake_case, unit-suffixed); null where a unit has none. */
const SUFFIX: Record<string, string | null> = {
  W: '_w',
  J: '_j',
  kJ: '_kj',
  kcal: '_kcal',
  m: '_m',
  mm: '_mm',
  s: '_s',
  ms: '_ms',
  bpm: '_bpm',
  rpm: '_rpm',
  'steps/min': '_spm',
  'breaths/min': '_brpm',
  '°C': '_c',
  '%': '_percent',
  count: null,
  score: null,
  ratio: null,
  'kcal/(kg·hr)': null,
};

describe('STATISTIC_KEYS', () => {
  it('lists each key once, snake_case, ending in its unit, with a meaning', () => {
    const keys = STATISTIC_KEYS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const { key, unit, meaning } of STATISTIC_KEYS) {
      expect([key, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(key)]).toEqual([key, true]);
      expect([key, unit in SUFFIX]).toEqual([key, true]);
      const suffix = SUFFIX[unit];
      if (suffix) expect([key, key.endsWith(suffix)]).toEqual([key, true]);
      expect(meaning.length).toBeGreaterThan(3);
    }
  });

  it('answers a listed key’s unit and nothing for an invented one', () => {
    expect(statisticUnit('avg_power_w')).toBe('W');
    expect(statisticUnit('avg_temperature_c')).toBe('°C');
    expect(isStatisticKey('weather_temperature_c')).toBe(false);
    expect(statisticUnit('total_distance_walking_running')).toBeUndefined();
  });
});
