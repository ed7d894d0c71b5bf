import { describe, expect, it } from '@jest/globals';
import { getHeapStatistics } from 'node:v8';
import { releaseMemory } from './release-memory.js';

describe('releaseMemory', () => {
  it('collects the garbage of the main heap and gives its pages back', () => {
    releaseMemory();
    const before = getHeapStatistics();
    // ~64 MiB of objects that are garbage as soon as this block ends.
    let garbage: number[][] | undefined = Array.from({ length: 64 }, () => Array.from({ length: 128 * 1024 }, (_, i) => i + 0.5));
    expect(getHeapStatistics().used_heap_size - before.used_heap_size).toBeGreaterThan(32 * 1024 * 1024);
    garbage = undefined;
    expect(garbage).toBeUndefined();

    releaseMemory();
    const after = getHeapStatistics();
    expect(after.used_heap_size).toBeLessThan(before.used_heap_size + 16 * 1024 * 1024);
    expect(after.total_heap_size).toBeLessThan(before.total_heap_size + 16 * 1024 * 1024);
  });
});
