import { describe, expect, it } from '@jest/globals';
import { getHeapStatistics } from 'node:v8';
import { releaseMemory } from './release-memory.js';

/** ~64 MiB of objects, garbage once this returns; answers how much the heap grew meanwhile. */
function makeGarbage(): number {
  const before = getHeapStatistics().used_heap_size;
  const garbage = Array.from({ length: 64 }, () => Array.from({ length: 128 * 1024 }, (_, i) => i + 0.5));
  return getHeapStatistics().used_heap_size - before + garbage.length * 0;
}

describe('releaseMemory', () => {
  it('collects the garbage of the main heap and gives its pages back', () => {
    releaseMemory();
    const before = getHeapStatistics();
    expect(makeGarbage()).toBeGreaterThan(32 * 1024 * 1024);

    releaseMemory();
    const after = getHeapStatistics();
    expect(after.used_heap_size).toBeLessThan(before.used_heap_size + 16 * 1024 * 1024);
    expect(after.total_heap_size).toBeLessThan(before.total_heap_size + 16 * 1024 * 1024);
  });
});
