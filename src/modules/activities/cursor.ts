import type { Keyset } from './activities.repository.js';

/**
 * Opaque keyset cursor: the (startTime, id) of the last item of a page. A keyset, unlike an offset,
 * stays stable when activities are inserted while a client pages through the timeline.
 */
export function encodeCursor({ startTime, id }: Keyset): string {
  return Buffer.from(`${startTime.toISOString()}|${id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): Keyset | undefined {
  const [time, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!time || !id || rest.length > 0 || !UUID.test(id)) return undefined;
  const startTime = new Date(time);
  return Number.isNaN(startTime.getTime()) ? undefined : { startTime, id };
}
