import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { encodeStream } from '@unified-activity/parquet-streams';
import { prepareUpload } from './stream-tasks.js';
import type { ScalarSamples } from './stream-types.js';
import { INLINE_MAX_BYTES, INLINE_MAX_SAMPLES, READ_INLINE_MAX_SAMPLES, StreamWorkerPool } from './stream-worker-pool.js';

const T0 = Date.UTC(2026, 4, 1, 6);
const window = { startMs: T0, endMs: T0 + 10 * 3_600_000 };

function heartRate(count: number): ScalarSamples {
  return {
    timestamps: Float64Array.from({ length: count }, (_, i) => T0 + i * 100),
    values: Float64Array.from({ length: count }, (_, i) => 60 + (i % 97) + Math.abs(Math.sin(i)) / 3),
  };
}

describe('StreamWorkerPool', () => {
  const pool = new StreamWorkerPool({ threads: 1 });
  afterAll(() => pool.close());

  it('encodes a large stream in a worker thread, byte for byte as the inline codec does', async () => {
    const count = INLINE_MAX_SAMPLES * 5;
    const expected = await prepareUpload({ name: 'prepareUpload', type: 'heart_rate', window, source: { samples: heartRate(count) } });
    const result = await pool.prepareUpload({ type: 'heart_rate', window, source: { samples: heartRate(count) } });
    expect(pool.threadCount).toBe(1);
    if (!result.ok || !expected.ok) throw new Error(JSON.stringify(result));
    expect(createHash('sha256').update(result.value.bytes).digest('hex')).toBe(expected.value.checksumSha256);
    expect(result.value.checksumSha256).toBe(expected.value.checksumSha256);
    expect(result.value.summary).toEqual(expected.value.summary);
  });

  it('decodes and downsamples a large object in a worker thread, values bit-exact', async () => {
    const samples = heartRate(INLINE_MAX_SAMPLES * 5);
    const bytes = encodeStream('heart_rate', samples);
    expect(bytes.byteLength).toBeGreaterThan(INLINE_MAX_BYTES);
    const full = await pool.readSamples({ bytes: bytes.slice(), type: 'heart_rate' });
    if (!full.ok) throw new Error(JSON.stringify(full.error));
    expect(full.value.sampleCount).toBe(samples.timestamps.length);
    expect(Buffer.from((full.value.samples as ScalarSamples).values.buffer).equals(Buffer.from(samples.values.buffer))).toBe(true);
    const reduced = await pool.readSamples({ bytes: bytes.slice(), type: 'heart_rate', maxPoints: 1000 });
    if (!reduced.ok) throw new Error(JSON.stringify(reduced.error));
    expect(reduced.value.samples.timestamps.length).toBeLessThanOrEqual(1000);
    expect(reduced.value.sampleCount).toBe(samples.timestamps.length);
  });

  it('reads a small range of a long object on the event loop: only the overlapping row groups, bit-exact', async () => {
    const own = new StreamWorkerPool({ threads: 1 });
    try {
      const samples = heartRate(INLINE_MAX_SAMPLES * 5); // 100,000 samples: 16 row groups of 6,250
      const bytes = encodeStream('heart_rate', samples);
      const range = { fromMs: samples.timestamps[30_000]!, toMs: samples.timestamps[31_000]! };
      const slice = await own.readSamples({ bytes: bytes.slice(), type: 'heart_rate', range }, samples.timestamps.length);
      if (!slice.ok) throw new Error(JSON.stringify(slice.error));
      expect(own.threadCount).toBe(0);
      expect(slice.value.sampleCount).toBe(1000);
      expect(Array.from(slice.value.samples.timestamps)).toEqual(Array.from(samples.timestamps.subarray(30_000, 31_000)));
      expect(Buffer.from((slice.value.samples as ScalarSamples).values.buffer).equals(Buffer.from(samples.values.slice(30_000, 31_000).buffer))).toBe(true);
      // A range over most of it decodes most groups: off the event loop, as a full read.
      const wide = await own.readSamples({ bytes: bytes.slice(), type: 'heart_rate', range: { fromMs: T0, toMs: samples.timestamps[90_000]! } });
      if (!wide.ok) throw new Error(JSON.stringify(wide.error));
      expect(wide.value.sampleCount).toBe(90_000);
      expect(own.threadCount).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('reads a whole stream of up to READ_INLINE_MAX_SAMPLES rows on the event loop, however large its object', async () => {
    const own = new StreamWorkerPool({ threads: 1 });
    try {
      const samples = heartRate(READ_INLINE_MAX_SAMPLES);
      const bytes = encodeStream('heart_rate', samples);
      expect(bytes.byteLength).toBeGreaterThan(INLINE_MAX_BYTES);
      const full = await own.readSamples({ bytes: bytes.slice(), type: 'heart_rate' }, samples.timestamps.length);
      if (!full.ok) throw new Error(JSON.stringify(full.error));
      expect(own.threadCount).toBe(0);
      expect(Buffer.from((full.value.samples as ScalarSamples).values.buffer).equals(Buffer.from(samples.values.buffer))).toBe(true);
      // Without the caller's count, the footer's decides.
      const more = encodeStream('heart_rate', heartRate(READ_INLINE_MAX_SAMPLES + 1));
      const large = await own.readSamples({ bytes: more, type: 'heart_rate' });
      expect(large.ok).toBe(true);
      expect(own.threadCount).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('returns validation and codec failures as values across the thread boundary', async () => {
    const samples = heartRate(INLINE_MAX_SAMPLES * 2);
    samples.values[12_345] = 300;
    const invalid = await pool.prepareUpload({ type: 'heart_rate', window, source: { samples } });
    expect(invalid).toEqual({ ok: false, error: expect.objectContaining({ kind: 'invalid_samples', issues: [expect.objectContaining({ path: ['values', 12_345] })] }) });
    const garbage = new Uint8Array(INLINE_MAX_SAMPLES * 10).fill(7);
    const unreadable = await pool.readSamples({ bytes: garbage, type: 'heart_rate' });
    expect(unreadable).toEqual({ ok: false, error: expect.objectContaining({ kind: 'codec', code: 'INVALID_PARQUET' }) });
  });

  it('abandons a JSON body still arriving when the pool closes, instead of waiting for its client', async () => {
    const own = new StreamWorkerPool({ threads: 1 });
    const scan = own.scanJson();
    scan.write(Buffer.from('{"timestamps":[1777615200000,1777615201000'));
    await scan.ready();
    await own.close(); // would wait for the body's end forever without the abort
    await expect(scan.end()).rejects.toThrow('aborted');
    expect(own.threadCount).toBe(0);
  });
});
