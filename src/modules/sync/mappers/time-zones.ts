import { isTimeZone } from '@unified-activity/contract';

// Building an Intl.DateTimeFormat per check costs ~0.5 ms; a batch of 500 names a handful of zones.
const known = new Map<string, boolean>();

/** isTimeZone, memoised (bounded: an attacker sending endless invented zones cannot grow it forever). */
export function isKnownTimeZone(zone: string): boolean {
  let result = known.get(zone);
  if (result === undefined) {
    result = isTimeZone(zone);
    if (known.size < 10_000) known.set(zone, result);
  }
  return result;
}
