/** Unit conversion at the edge (DATA-MODEL §9): everything stored is m, s, kcal, bpm, m/s, °C, W. */
import { MappingError } from './normalized.js';

type Path = (string | number)[];

const factor = (table: Record<string, number>, what: string) => (value: number, unit: string, path: Path) => {
  const f = table[unit.trim()];
  if (f === undefined) throw new MappingError(path, `unknown ${what} unit "${unit}"; expected one of ${Object.keys(table).join(', ')}`);
  return value * f;
};

/** HealthKit's HKUnit strings (and the usual spellings) for length, to metres. */
export const toMetres = factor(
  { m: 1, km: 1000, cm: 0.01, mm: 0.001, mi: 1609.344, yd: 0.9144, ft: 0.3048, in: 0.0254 },
  'length',
);

/** Energy to kilocalories; HealthKit's "Cal" is the food calorie (= kcal). */
export const toKcal = factor({ kcal: 1, Cal: 1, cal: 0.001, kJ: 1 / 4.184, J: 1 / 4184 }, 'energy');

export const toSeconds = factor({ s: 1, ms: 0.001, min: 60, hr: 3600, h: 3600 }, 'time');

export const toMetresPerSecond = factor(
  { 'm/s': 1, 'km/hr': 1 / 3.6, 'km/h': 1 / 3.6, 'mi/hr': 0.44704, 'mph': 0.44704 },
  'speed',
);

/** Heart rate and cadence: per minute. */
export const toPerMinute = factor({ 'count/min': 1, 'count/s': 60, bpm: 1, rpm: 1, spm: 1 }, 'rate');

export const toWatts = factor({ W: 1, kW: 1000 }, 'power');

export function toCelsius(value: number, unit: string, path: Path): number {
  switch (unit.trim()) {
    case 'degC':
    case '°C':
      return value;
    case 'degF':
    case '°F':
      return ((value - 32) * 5) / 9;
    case 'K':
      return value - 273.15;
    default:
      throw new MappingError(path, `unknown temperature unit "${unit}"; expected degC, degF or K`);
  }
}

/** HKAverageMETs: HealthKit writes "kcal/hr·kg"; stored as kcal/(kg·hr). */
export const toMets = factor({ 'kcal/hr·kg': 1, 'kcal/(kg·hr)': 1, 'kcal/(kg*hr)': 1, 'kcal/kg/hr': 1, 'kcal/hr*kg': 1 }, 'METs');

/**
 * A percentage (0–100). HealthKit's `%` quantities (HKWeatherHumidity) arrive as 0–100 from the
 * app; the Health app's export writes them ×100 ("5600 %"), so a value above 100 is read as that.
 */
export function toPercent(value: number, unit: string, path: Path): number {
  if (unit.trim() !== '%') throw new MappingError(path, `unknown percentage unit "${unit}"; expected %`);
  return value > 100 ? value / 100 : value;
}

/** Rounds away float noise from conversions (1609.344 × 3.1 = 4988.966400000001). */
export const tidy = (value: number): number => Math.round(value * 1e9) / 1e9;
