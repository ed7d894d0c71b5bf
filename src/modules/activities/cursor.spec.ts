import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('timeline cursor', () => {
  it('round-trips the keyset and is opaque (base64url, no separators visible)', () => {
    const keyset = { startTime: new Date('2026-05-01T06:00:00.123Z'), id: '3f0c7a1e-9b2d-4c4e-8f00-0123456789ab' };
    const cursor = encodeCursor(keyset);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(keyset);
  });

  it.each(['', 'bm9wZQ', encodeCursor({ startTime: new Date(0), id: 'x' } as never), Buffer.from('not-a-date|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab').toString('base64url'),
    ...['+099999-01-01T10:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-05-01T10:00:00'].map((time) => Buffer.from(`${time}|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab`).toString('base64url'))])(
    'rejects %j',
    (cursor) => {
      expect(decodeCursor(cursor)).toBeUndefined();
    },
  );
});
