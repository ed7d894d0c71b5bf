import { parseDateTime } from '../../contract/common.js';
import type { Keyset } from './activities.repository.js';

/**
 * Opaque keyset cursor: the (startTime, id) of the last item of a page. A keyset, unlike an offset,
 * stays stable when activities are inserted while a client pages through the timeline.
 */
export function encodeCursor({ startTime, id }: Keyset): string {
  return Buffer.from(`${startTime.toISOString()}|${id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The keyset of a cursor, or undefined for anything this API did not hand out (a crafted date outside 1900–2200 too). */
export function decodeCursor(cursor: string): Keyset | undefined {
  const [time, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!time || !id || rest.length > 0 || !UUID.test(id)) return undefined;
  const ms = parseDateTime(time);
  return ms === undefined ? undefined : { startTime: new Date(ms), id };
}
