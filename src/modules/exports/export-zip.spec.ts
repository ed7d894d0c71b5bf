import { describe, expect, it } from '@jest/globals';
import { manifestChunks } from './export-zip.js';

describe('manifestChunks', () => {
  it('writes one JSON document, the same as the object it lists, one item per line', () => {
    const head = { formatVersion: 1, exportedAt: new Date('2026-01-02T03:04:05.000Z'), athlete: { id: 'a', name: 'Ada "Quote" \u2028' }, counts: { activities: 2 } };
    const lists = {
      entries: [{ path: 'activities.ndjson', byteSize: 10, sha256: 'ab' }, { path: 'streams/x.parquet', byteSize: 3, sha256: 'cd' }],
      streams: [],
      originals: [{ path: 'originals/ff.fit', fileName: 'ride,1.fit', activityIds: ['x', 'y'] }],
    };
    const chunks = [...manifestChunks(head, lists)];
    const text = chunks.join('');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify({ ...head, ...lists })));
    // Streamed, not one string: a chunk per listed item at least.
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(text.split('\n').filter((line) => line.includes('"path"'))).toHaveLength(3);
    expect(text.endsWith('}\n')).toBe(true);
  });
});
