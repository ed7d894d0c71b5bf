/** Time zones from positions and recorded UTC offsets (docs/data-model.md §9, "Time zones"). */
import tzLookup from '@photostructure/tz-lookup';

/** IANA zone of a point, from the bundled offline boundaries; undefined when it cannot tell. */
export function timeZoneAt(latitude: number, longitude: number): string | undefined {
  try {
    return tzLookup(latitude, longitude);
  } catch {
    return undefined;
  }
}

/**
 * One formatter per zone: building an Intl.DateTimeFormat and formatting once took 91 µs a call,
 * formatting with a kept one 12 µs (warm, both). The zones come from the bundled boundaries
 * (timeZoneAt), a few hundred at most; the bound only guards against a caller with others.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    if (formatters.size < 1000) formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's UTC offset in seconds at an instant (positive east of Greenwich); undefined for a zone ICU does not know. */
export function offsetSecondsOf(timeZone: string, at: Date): number | undefined {
  try {
    const parts = formatterFor(timeZone).formatToParts(at);
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const localMs = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return Math.round((localMs - Math.floor(at.getTime() / 1000) * 1000) / 1000);
  } catch {
    return undefined;
  }
}

/**
 * The IANA zone for a recorded UTC offset: the zone at the first position when its offset at
 * that time agrees, else the fixed `Etc/GMT±h` zone for a whole-hour offset, else undefined
 * (unknown). An offset of 0 names no zone (docs/data-model.md §9, "Time zones"): it is also what
 * devices write when they do not know the local time, so only a position can tell the zone then.
 */
export function timeZoneForOffset(
  offsetS: number,
  at: Date,
  firstPosition?: { latitude: number; longitude: number },
): string | undefined {
  const zone = firstPosition ? timeZoneAt(firstPosition.latitude, firstPosition.longitude) : undefined;
  if (zone && (offsetS === 0 || offsetSecondsOf(zone, at) === offsetS)) return zone;
  if (offsetS === 0) return undefined;
  if (offsetS % 3600 !== 0 || Math.abs(offsetS) > 14 * 3600) return undefined;
  const hours = offsetS / 3600;
  // POSIX-style Etc zones have the inverted sign: UTC+2 is Etc/GMT-2.
  return `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
}
