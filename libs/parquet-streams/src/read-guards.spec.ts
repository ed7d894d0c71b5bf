import { describe, expect, it } from '@jest/globals';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { decodeStream, encodeStream, StreamCodecError } from './index.js';

const T0 = Date.UTC(2026, 4, 1, 6);
const TIMESTAMP: SchemaElement = {
  name: 'timestamp',
  type: 'INT64',
  repetition_type: 'REQUIRED',
  converted_type: 'TIMESTAMP_MILLIS',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StreamCodecError) return error.code;
    throw error;
  }
  return 'resolved';
}

function file(
  valueElement: SchemaElement,
  values: ArrayLike<number>,
  options: { kv?: { key: string; value: string }[]; gzip?: (input: Uint8Array) => Uint8Array; zstd?: (input: Uint8Array) => Uint8Array } = {},
) {
  const timestamps = Array.from(values, (_, i) => BigInt(T0 + i * 1000));
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'timestamp', data: timestamps },
        { name: valueElement.name, data: Array.from(values) },
      ],
      schema: [{ name: 'root', num_children: 2 }, TIMESTAMP, valueElement],
      codec: options.zstd ? 'ZSTD' : 'GZIP',
      compressors: options.zstd ? { ZSTD: options.zstd } : { GZIP: options.gzip ?? ((input) => gzipSync(input)) },
      kvMetadata: options.kv,
    }),
  );
}

describe('bounded decoding', () => {
  it('refuses a file whose footer declares more rows than allowed, before reading any column', async () => {
    const bytes = encodeStream('heart_rate', {
      timestamps: Float64Array.from({ length: 100 }, (_, i) => T0 + i),
      values: new Float64Array(100).fill(80),
    });
    expect(await codeOf(decodeStream(bytes, 'heart_rate', { maxRows: 99 }))).toBe('TOO_MANY_ROWS');
    expect((await decodeStream(bytes, 'heart_rate', { maxRows: 100 })).samples.timestamps.length).toBe(100);
  });

  it('refuses a page that inflates beyond the size its header declares (a decompression bomb)', async () => {
    // The writer records the page's real size; the compressed bytes carry 8 MiB of zeros more.
    const bomb = file({ name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, [80, 81, 82], {
      gzip: (input) => gzipSync(Buffer.concat([input, Buffer.alloc(8 * 2 ** 20)])),
    });
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    expect(await codeOf(decodeStream(bomb, 'heart_rate'))).toBe('TOO_LARGE');
  });

  it('refuses a ZSTD page that inflates beyond its declared size too (the default codec is capped like GZIP)', async () => {
    const bomb = file({ name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, [80, 81, 82], {
      zstd: (input) => zstdCompressSync(Buffer.concat([input, Buffer.alloc(8 * 2 ** 20)])),
    });
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    expect(await codeOf(decodeStream(bomb, 'heart_rate'))).toBe('TOO_LARGE');
    const honest = file({ name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, [80, 81, 82], { zstd: (input) => zstdCompressSync(input) });
    expect((await decodeStream(honest, 'heart_rate')).samples).toEqual({ timestamps: Float64Array.of(T0, T0 + 1000, T0 + 2000), values: Float64Array.of(80, 81, 82) });
  });

  it('reads schema-version-1 objects (INT32 value) as the same float64 numbers: the read-time upgrade', async () => {
    const v1 = file({ name: 'value', type: 'INT32', repetition_type: 'REQUIRED' }, [80, 95, 180], {
      kv: [
        { key: 'stream_type', value: 'heart_rate' },
        { key: 'schema_version', value: '1' },
      ],
    });
    const decoded = await decodeStream(v1, 'heart_rate');
    expect(decoded.schemaVersion).toBe(1);
    expect(decoded.samples).toEqual({ timestamps: Float64Array.of(T0, T0 + 1000, T0 + 2000), values: Float64Array.of(80, 95, 180) });
    // Re-encoded, it is the current schema with a DOUBLE value column, bit-exact.
    const upgraded = await decodeStream(encodeStream('heart_rate', decoded.samples), 'heart_rate');
    expect(upgraded.schemaVersion).toBe(3);
    expect(upgraded.samples).toEqual(decoded.samples);
  });
});
