import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('timeline cursor', () => {
  it('round-trips the keyset at microsecond precision and is opaque (base64url, no separators visible)', () => {
    const keyset = { startTimeMicros: 1_777_615_200_123_457n, id: '3f0c7a1e-9b2d-4c4e-8f00-0123456789ab' };
    const cursor = encodeCursor(keyset);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(keyset);
  });

  it('still accepts a cursor of the older millisecond form', () => {
    const legacy = Buffer.from('2026-05-01T06:00:00.123Z|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab').toString('base64url');
    expect(decodeCursor(legacy)).toEqual({ startTimeMicros: 1_777_615_200_123_000n, id: '3f0c7a1e-9b2d-4c4e-8f00-0123456789ab' });
  });

  it.each([
    '',
    'bm9wZQ',
    encodeCursor({ startTimeMicros: 0n, id: 'x' }),
    Buffer.from('not-a-date|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab').toString('base64url'),
    Buffer.from('999999999999999999|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab').toString('base64url'),
    ...['+099999-01-01T10:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-05-01T10:00:00'].map((time) =>
      Buffer.from(`${time}|3f0c7a1e-9b2d-4c4e-8f00-0123456789ab`).toString('base64url'),
    ),
  ])('rejects %j', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
