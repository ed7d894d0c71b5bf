/**
 * Moving time is part of the elapsed time (docs/data-model.md §5). Every source passes through this
 * one rule, file imports (parsers' conform) and provider sync alike:
 * - up to a second more is the two clocks' rounding (FIT's timer and elapsed times are separate
 *   fields): clamped to the elapsed time, silently;
 * - more is a claim the source itself contradicts (a TCX lap sum of 2283 s in a 1410 s activity):
 *   left out rather than stored or replaced by a guess, with a warning; the source's own value stays
 *   in its source data.
 * Returns the warning, or undefined when nothing was said.
 */
export function keepMovingTimeWithinElapsed(fields: { movingTimeS?: number | null; durationS?: number | null }): string | undefined {
  const { movingTimeS, durationS } = fields;
  if (movingTimeS == null || durationS == null || movingTimeS <= durationS) return undefined;
  if (movingTimeS - durationS <= ROUNDING_S) {
    fields.movingTimeS = durationS;
    return undefined;
  }
  fields.movingTimeS = null;
  return `movingTimeS ${round3(movingTimeS)} s is longer than the elapsed durationS ${round3(durationS)} s; left out`;
}

const ROUNDING_S = 1;
const round3 = (value: number) => Math.round(value * 1000) / 1000;
