import type { PositionSamples, ScalarSamples } from './stream-types.js';

/**
 * A value is stored once (docs/data-model.md §10): the position stream keeps no `altitudeM` when the
 * altitude stream holds every fix's altitude at the fix's instant. Answers `position` itself when it
 * must keep its altitudes, else a copy without them.
 */
export function withoutRepeatedAltitude(position: PositionSamples, altitude: ScalarSamples | undefined): PositionSamples {
  if (position.altitudeM === null || altitude === undefined) return position;
  return holdsEveryAltitude(altitude, position.timestamps, position.altitudeM) ? { ...position, altitudeM: null } : position;
}

/**
 * Whether the altitude stream holds every fix's altitude at the fix's instant. Fixes are matched to
 * altitude samples per instant, in order: at an instant shared by several fixes (a route with
 * duplicate timestamps), the n-th fix that has an altitude pairs with the n-th altitude sample, so
 * the fixes with an altitude at that instant and the altitude samples there must be as many and
 * identical (bit for bit), in the same order. That pairing is how a reader puts the altitude back on
 * each fix, so nothing is lost. An instant where no fix has an altitude leaves the altitude samples
 * there to records without a fix. Any timestamp out of order answers false: nothing is dropped on a
 * doubt.
 */
export function holdsEveryAltitude(altitude: ScalarSamples, times: Float64Array, altitudes: Float64Array): boolean {
  const { timestamps, values } = altitude;
  let j = 0;
  for (let i = 0; i < times.length; ) {
    const t = times[i]!;
    // The fixes at instant t: [i, end).
    let end = i + 1;
    while (end < times.length && times[end] === t) end++;
    if (end < times.length && times[end]! < t) return false;
    // The altitude samples at instant t: [j, last).
    while (j < timestamps.length && timestamps[j]! < t) {
      if (j > 0 && timestamps[j]! < timestamps[j - 1]!) return false;
      j++;
    }
    let last = j;
    while (last < timestamps.length && timestamps[last] === t) last++;
    let k = j;
    for (let f = i; f < end; f++) {
      const value = altitudes[f]!;
      if (Number.isNaN(value)) continue;
      if (k === last || !Object.is(values[k], value)) return false;
      k++;
    }
    if (k !== j && k !== last) return false;
    j = last;
    i = end;
  }
  return true;
}
