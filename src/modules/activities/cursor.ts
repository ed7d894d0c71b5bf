import { MAX_INSTANT_MS, MIN_INSTANT_MS, parseDateTime } from '@unified-activity/contract';
import type { Keyset } from './activity-timeline.query.js';

/**
 * Opaque keyset cursor: the (start_time, id) of the last item of a page. A keyset, unlike an offset,
 * stays stable when activities are inserted while a client pages through the timeline.
 *
 * start_time travels as whole microseconds since the epoch — the column's full precision. A JS Date
 * (milliseconds) would round a row written outside the API with sub-millisecond time, and the next
 * page would then skip or repeat rows around it (docs/data-model.md, "Timeline").
 */
export function encodeCursor({ startTimeMicros, id }: Keyset): string {
  return Buffer.from(`${startTimeMicros}|${id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MICROS = /^-?\d{1,17}$/;
// The contract's date range (1900–2200), in microseconds: a crafted cursor outside it is refused.
const MIN_MICROS = BigInt(MIN_INSTANT_MS) * 1000n;
const MAX_MICROS = BigInt(MAX_INSTANT_MS) * 1000n + 999n;

/** The keyset of a cursor, or undefined for anything this API did not hand out (a crafted date outside 1900–2200 too). */
export function decodeCursor(cursor: string): Keyset | undefined {
  const [time, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!time || !id || rest.length > 0 || !UUID.test(id)) return undefined;
  if (MICROS.test(time)) {
    const startTimeMicros = BigInt(time);
    return startTimeMicros >= MIN_MICROS && startTimeMicros <= MAX_MICROS ? { startTimeMicros, id } : undefined;
  }
  // Cursors handed out before microsecond cursors carried an ISO date (milliseconds).
  const ms = parseDateTime(time);
  return ms === undefined ? undefined : { startTimeMicros: BigInt(ms) * 1000n, id };
}
