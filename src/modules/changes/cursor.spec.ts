import { describe, expect, it } from '@jest/globals';
import { compareChangePositions, decodeChangeCursor, encodeChangeCursor } from './change-cursor.js';

describe('change feed cursor', () => {
  it('round-trips positions up to 2^53', () => {
    for (const position of [
      { pos: 0, seq: 0 },
      { pos: 757, seq: 12 },
      { pos: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER },
    ]) {
      expect(decodeChangeCursor(encodeChangeCursor(position))).toEqual(position);
    }
  });

  it('refuses text it did not write', () => {
    for (const text of ['', 'c1.', 'c2.MS4x', 'c1.!!', `c1.${Buffer.from('1.-1').toString('base64url')}`, `c1.${Buffer.from('99999999999999999.1').toString('base64url')}`]) {
      expect(decodeChangeCursor(text)).toBeUndefined();
    }
  });

  it('orders by pos, then seq', () => {
    expect(compareChangePositions({ pos: 1, seq: 9 }, { pos: 2, seq: 1 })).toBeLessThan(0);
    expect(compareChangePositions({ pos: 2, seq: 2 }, { pos: 2, seq: 1 })).toBeGreaterThan(0);
    expect(compareChangePositions({ pos: 2, seq: 1 }, { pos: 2, seq: 1 })).toBe(0);
  });
});
