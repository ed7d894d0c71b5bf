import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parquetMetadata, type FileMetaData } from 'hyparquet';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

import {
  decodeStream,
  encodeStream,
  MIN_ROW_GROUP_ROWS,
  ParquetStreamCodec,
  rowGroupRows,
  SCALAR_STREAM_TYPES,
  STREAM_SCHEMA_VERSION,
  StreamCodecError,
  type PositionSamples,
  type ScalarSamples,
  type ScalarStreamType,
  type StreamCodecErrorCode,
  type StreamSamples,
} from './index.js';
import { rng } from '../../testing/seeded-random.js';
import { gpsTrack } from '../../testing/synthetic-track.js';


const T0 = Date.UTC(2024, 4, 12, 7, 30, 0);

function regularTimestamps(count: number, stepMs = 1000): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => T0 + i * stepMs);
}

function irregularTimestamps(count: number, random: () => number): Float64Array {
  const out = new Float64Array(count);
  let t = T0 + 123;
  for (let i = 0; i < count; i++) {
    out[i] = t;
    t += 1000 + Math.floor(random() * 9001);
  }
  return out;
}

function heartRateWalk(count: number, random: () => number): Float64Array {
  const out = new Float64Array(count);
  let hr = 95;
  for (let i = 0; i < count; i++) {
    hr += Math.round((random() - 0.5) * 3);
    hr = Math.min(190, Math.max(60, hr));
    out[i] = hr;
  }
  return out;
}

function track(count: number, random: () => number, withOptional: boolean): PositionSamples {
  const { latitude, longitude, altitudeM, horizontalAccuracyM } = gpsTrack(count, random, { withAccuracy: true });
  return {
    timestamps: regularTimestamps(count),
    latitude,
    longitude,
    altitudeM: withOptional ? altitudeM : null,
    horizontalAccuracyM: withOptional ? horizontalAccuracyM : null,
  };
}

function bits(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Equality of the IEEE-754 bit patterns: tells -0 from 0 and catches any rounding. */
function expectBitExact(actual: Float64Array | null, expected: Float64Array | null): void {
  expect(actual === null).toBe(expected === null);
  if (actual === null || expected === null) return;
  expect(actual.length).toBe(expected.length);
  if (!bits(actual).equals(bits(expected))) {
    const at = actual.findIndex((v, i) => !Object.is(v, expected[i]));
    throw new Error(`first difference at ${at}: got ${actual[at]}, expected ${expected[at]}`);
  }
}

function expectSameSamples(actual: StreamSamples, expected: StreamSamples): void {
  expectBitExact(actual.timestamps, expected.timestamps);
  if ('latitude' in expected) {
    if (!('latitude' in actual)) throw new Error('expected position samples');
    expectBitExact(actual.latitude, expected.latitude);
    expectBitExact(actual.longitude, expected.longitude);
    expectBitExact(actual.altitudeM, expected.altitudeM);
    expectBitExact(actual.horizontalAccuracyM, expected.horizontalAccuracyM);
  } else {
    if (!('values' in actual)) throw new Error('expected scalar samples');
    expectBitExact(actual.values, expected.values);
  }
}

function columnMeta(metadata: FileMetaData, name: string): { type: string; encodings: string[] } {
  const chunk = metadata.row_groups[0]?.columns.find((c) => c.meta_data?.path_in_schema[0] === name)?.meta_data;
  if (chunk === undefined) throw new Error(`no column ${name}`);
  return { type: chunk.type, encodings: chunk.encodings };
}

async function expectCodecError(promise: Promise<unknown>, code: StreamCodecErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamCodecError);
  expect((error as StreamCodecError).code).toBe(code);
}

function expectEncodeError(run: () => unknown, code: StreamCodecErrorCode): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StreamCodecError);
  expect((caught as StreamCodecError).code).toBe(code);
}

const TIMESTAMP_MILLIS: SchemaElement = {
  name: 'timestamp',
  type: 'INT64',
  repetition_type: 'REQUIRED',
  converted_type: 'TIMESTAMP_MILLIS',
};

function foreignFile(
  columns: Array<{ element: SchemaElement; data: Parameters<typeof parquetWriteBuffer>[0]['columnData'][number]['data'] }>,
  kvMetadata: Array<{ key: string; value: string }> = [],
  codec: 'SNAPPY' | 'UNCOMPRESSED' = 'SNAPPY',
  statistics = true,
): Uint8Array {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: columns.map(({ element, data }) => ({ name: element.name, data })),
      schema: [{ name: 'root', num_children: columns.length }, ...columns.map((c) => c.element)],
      kvMetadata,
      codec,
      statistics,
    }),
  );
}

type DsnpField = { type: 'TIMESTAMP_MILLIS' | 'DOUBLE' | 'INT32'; optional?: boolean; compression?: 'GZIP' | 'SNAPPY' };

/**
 * Writes a file with @dsnp/parquetjs in a plain Node process: its thrift dependency
 * require()s the ESM-only uuid package, which Jest cannot load on Node 20.
 * JSON carries the doubles exactly (shortest round-trip form); fields left out are null.
 */
function writeWithDsnp(path: string, schema: Record<string, DsnpField>, rows: Array<Record<string, number>>): void {
  const script = `
    import { readFileSync } from 'node:fs';
    import parquetjs from '@dsnp/parquetjs';
    const { path, schema, rows } = JSON.parse(readFileSync(0, 'utf8'));
    const timestampFields = Object.keys(schema).filter((name) => schema[name].type === 'TIMESTAMP_MILLIS');
    const writer = await parquetjs.ParquetWriter.openFile(new parquetjs.ParquetSchema(schema), path);
    for (const row of rows) {
      for (const name of timestampFields) row[name] = new Date(row[name]);
      await writer.appendRow(row);
    }
    await writer.close();
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify({ path, schema, rows }),
    cwd: process.cwd(),
    env: { ...process.env, NODE_OPTIONS: '--no-warnings' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`@dsnp/parquetjs writer failed: ${result.stderr}`);
}

describe('parquet stream codec', () => {
  describe('pages compressed once per activity', () => {
    it('answers a page equal to a recent one with its compressed bytes: each object as a fresh codec writes it, the shared timestamps compressed once', () => {
      let calls = 0;
      const counting = (input: Uint8Array) => {
        calls++;
        return snappyCompress(input);
      };
      const fresh = () => new ParquetStreamCodec({ compression: 'SNAPPY', snappyCompress });
      const codec = new ParquetStreamCodec({ compression: 'SNAPPY', snappyCompress: counting });
      const random = rng(24);
      const timestamps = irregularTimestamps(2_000, random);
      const heartRate: ScalarSamples = { timestamps, values: Float64Array.from(timestamps, () => 90 + Math.round(random() * 80)) };
      const power: ScalarSamples = { timestamps: timestamps.slice(), values: Float64Array.from(timestamps, () => Math.round(random() * 400)) };
      const first = codec.encode('heart_rate', heartRate);
      const firstCalls = calls;
      calls = 0;
      const second = codec.encode('power', power);
      expect(first).toEqual(fresh().encode('heart_rate', heartRate));
      expect(second).toEqual(fresh().encode('power', power));
      // The timestamp pages were answered from memory: only the value pages were compressed.
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThan(firstCalls);
      // Other timestamps of the same length (the writer reuses its buffers) are compressed anew.
      const shifted: ScalarSamples = { timestamps: timestamps.map((t) => t + 1_000), values: power.values };
      expect(codec.encode('power', shifted)).toEqual(fresh().encode('power', shifted));
    });
  });

  describe('round trip', () => {
    it.each(SCALAR_STREAM_TYPES)('keeps every %s sample bit-exact, integral and fractional', async (type: ScalarStreamType) => {
      const random = rng(type.length * 7919);
      const count = 600;
      const integral: ScalarSamples = {
        timestamps: regularTimestamps(count),
        values: Float64Array.from({ length: count }, () => Math.round(random() * 200)),
      };
      const fractional: ScalarSamples = {
        timestamps: regularTimestamps(count),
        values: Float64Array.from({ length: count }, () => (random() - 0.3) * 300),
      };
      for (const samples of [integral, fractional]) {
        const decoded = await decodeStream(encodeStream(type, samples), type);
        expect(decoded.type).toBe(type);
        expect(decoded.schemaVersion).toBe(STREAM_SCHEMA_VERSION);
        expectSameSamples(decoded.samples, samples);
      }
    });

    it('keeps awkward doubles: 72.35, -0, subnormals, extremes', async () => {
      const values = Float64Array.of(72.35, -0, 0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1 + 0.2, -40.05, 1e-300);
      const samples: ScalarSamples = { timestamps: regularTimestamps(values.length), values };
      const bytes = encodeStream('temperature', samples);
      expect(columnMeta(parquetMetadata(bytes.slice().buffer), 'value').type).toBe('DOUBLE');
      const decoded = await decodeStream(bytes);
      expectSameSamples(decoded.samples, samples);
      expect(Object.is((decoded.samples as ScalarSamples).values[1], -0)).toBe(true);
    });

    it('stores -0 among whole numbers as DOUBLE, since INT32 would lose the sign', async () => {
      const samples: ScalarSamples = { timestamps: regularTimestamps(4), values: Float64Array.of(3, -0, 2, 1) };
      const bytes = encodeStream('temperature', samples);
      expect(columnMeta(parquetMetadata(bytes.slice().buffer), 'value').type).toBe('DOUBLE');
      expectSameSamples((await decodeStream(bytes)).samples, samples);
    });

    it('keeps -0 apart from 0 in a low-cardinality series, where a dictionary would merge them', async () => {
      const random = rng(17);
      const palette = [-0.2, -0.1, -0, 0, 0.1, 0.2];
      const values = Float64Array.from({ length: 3600 }, () => palette[Math.floor(random() * palette.length)]);
      const samples: ScalarSamples = { timestamps: regularTimestamps(3600), values };
      expectSameSamples((await decodeStream(encodeStream('temperature', samples))).samples, samples);
      // Without the -0, the same series is dictionary material: the guard is what keeps it off.
      const positiveZero = values.map((v) => (Object.is(v, -0) ? 0 : v));
      const metadata = parquetMetadata(encodeStream('temperature', { ...samples, values: positiveZero }).slice().buffer);
      expect(columnMeta(metadata, 'value').encodings).toContain('RLE_DICTIONARY');
    });

    it('stores whole numbers beyond int32 as DOUBLE without loss', async () => {
      const samples: ScalarSamples = { timestamps: regularTimestamps(3), values: Float64Array.of(2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1) };
      const bytes = encodeStream('distance', samples);
      expect(columnMeta(parquetMetadata(bytes.slice().buffer), 'value').type).toBe('DOUBLE');
      expectSameSamples((await decodeStream(bytes)).samples, samples);
    });

    it('stores integral heart rate as DOUBLE like every value column (schema 2), timestamps as delta-packed TIMESTAMP(MILLIS, UTC)', () => {
      const samples: ScalarSamples = { timestamps: regularTimestamps(3600), values: heartRateWalk(3600, rng(1)) };
      const metadata = parquetMetadata(encodeStream('heart_rate', samples).slice().buffer);
      expect(columnMeta(metadata, 'value').type).toBe('DOUBLE');
      expect(columnMeta(metadata, 'timestamp')).toEqual({ type: 'INT64', encodings: ['DELTA_BINARY_PACKED'] });
      const timestamp = metadata.schema.find((element) => element.name === 'timestamp');
      expect(timestamp?.repetition_type).toBe('REQUIRED');
      expect(timestamp?.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
      expect(metadata.key_value_metadata).toEqual(
        expect.arrayContaining([
          { key: 'stream_type', value: 'heart_rate' },
          { key: 'schema_version', value: '3' },
        ]),
      );
    });

    it('keeps irregular sampling (1–10 s gaps, odd milliseconds) exact', async () => {
      const random = rng(99);
      const timestamps = irregularTimestamps(5000, random);
      const samples: ScalarSamples = { timestamps, values: heartRateWalk(5000, random) };
      expectSameSamples((await decodeStream(encodeStream('heart_rate', samples))).samples, samples);
    });

    it('keeps duplicate timestamps and timestamps before 1970', async () => {
      const samples: ScalarSamples = {
        timestamps: Float64Array.of(-86_400_000, -1, 0, 0, 1, T0),
        values: Float64Array.of(1.5, 2, 3, 4, 5, 6),
      };
      expectSameSamples((await decodeStream(encodeStream('speed', samples))).samples, samples);
    });

    it('round-trips an empty stream', async () => {
      const samples: ScalarSamples = { timestamps: new Float64Array(0), values: new Float64Array(0) };
      const decoded = await decodeStream(encodeStream('power', samples));
      expect(decoded.type).toBe('power');
      expectSameSamples(decoded.samples, samples);
    });

    it('round-trips 2,000,000 samples bit-exact', async () => {
      const random = rng(2024);
      const count = 2_000_000;
      const timestamps = irregularTimestamps(count, random);
      const values = new Float64Array(count);
      let v = 180;
      for (let i = 0; i < count; i++) {
        v += (random() - 0.5) * 10;
        values[i] = i % 3 === 0 ? Math.round(v) : v;
      }
      const samples: ScalarSamples = { timestamps, values };
      const bytes = encodeStream('power', samples);
      expect(parquetMetadata(bytes.slice().buffer).num_rows).toBe(BigInt(count));
      const decoded = await decodeStream(bytes, 'power');
      expectSameSamples(decoded.samples, samples);
      // Takes ~2 s in plain Node but 10–40 s inside Jest's VM context on a busy 2-core machine.
    }, 180_000);

    it('round-trips positions with altitude and accuracy', async () => {
      const samples = track(3600, rng(5), true);
      const decoded = await decodeStream(encodeStream('position', samples));
      expect(decoded.type).toBe('position');
      expectSameSamples(decoded.samples, samples);
    });

    it('writes positions without the optional values with the same schema (all-null columns) and reads them back without them', async () => {
      const samples = track(1000, rng(6), false);
      const bytes = encodeStream('position', samples);
      const metadata = parquetMetadata(bytes.slice().buffer);
      const schema = metadata.schema.map(({ name, type, repetition_type: repetition }) => ({ name, type, repetition }));
      expect(schema).toEqual([
        { name: 'root', type: undefined, repetition: undefined },
        { name: 'timestamp', type: 'INT64', repetition: 'REQUIRED' },
        { name: 'latitude', type: 'DOUBLE', repetition: 'REQUIRED' },
        { name: 'longitude', type: 'DOUBLE', repetition: 'REQUIRED' },
        { name: 'altitude_m', type: 'DOUBLE', repetition: 'OPTIONAL' },
        { name: 'horizontal_accuracy_m', type: 'DOUBLE', repetition: 'OPTIONAL' },
      ]);
      // The same schema as a stream that has both: one physical schema per type (schema_version 3).
      const full = parquetMetadata(encodeStream('position', track(10, rng(7), true)).slice().buffer);
      expect(full.schema.map(({ name, type, repetition_type: repetition }) => ({ name, type, repetition }))).toEqual(schema);
      const decoded = await decodeStream(bytes, 'position');
      expectSameSamples(decoded.samples, samples);
      expect(decoded.samples).toMatchObject({ altitudeM: null, horizontalAccuracyM: null });
    });

    it('writes NaN in an optional position column as null and reads it back as NaN', async () => {
      const samples = track(50, rng(7), true);
      const altitude = samples.altitudeM ?? new Float64Array(0);
      altitude[3] = Number.NaN;
      altitude[40] = Number.NaN;
      const bytes = encodeStream('position', samples);
      const chunk = parquetMetadata(bytes.slice().buffer).row_groups[0]?.columns.find(
        (c) => c.meta_data?.path_in_schema[0] === 'altitude_m',
      );
      expect(chunk?.meta_data?.statistics?.null_count).toBe(2n);
      const decoded = (await decodeStream(bytes)).samples as PositionSamples;
      expect(Number.isNaN(decoded.altitudeM?.[3])).toBe(true);
      expect(Number.isNaN(decoded.altitudeM?.[40])).toBe(true);
      expectSameSamples(decoded, samples);
    });

    it('stores full-precision coordinates with BYTE_STREAM_SPLIT and compression', () => {
      const metadata = parquetMetadata(encodeStream('position', track(3600, rng(8), false)).slice().buffer);
      for (const name of ['latitude', 'longitude']) {
        expect(columnMeta(metadata, name)).toEqual({ type: 'DOUBLE', encodings: ['BYTE_STREAM_SPLIT'] });
        const chunk = metadata.row_groups[0]?.columns.find((c) => c.meta_data?.path_in_schema[0] === name);
        expect(chunk?.meta_data?.codec).toBe('ZSTD');
      }
    });

    it('gives the same bits with every compression option', async () => {
      const samples = track(2000, rng(9), true);
      for (const compression of ['ZSTD', 'GZIP', 'BROTLI', 'SNAPPY', 'UNCOMPRESSED'] as const) {
        for (const encodingStrategy of ['adaptive', 'fixed'] as const) {
          const codec = new ParquetStreamCodec({ compression, encodingStrategy, snappyCompress });
          expectSameSamples((await codec.decode(codec.encode('position', samples))).samples, samples);
        }
      }
    });

    it('refuses SNAPPY without a compressor (node:zlib has none; the server never writes it)', () => {
      expect(() => new ParquetStreamCodec({ compression: 'SNAPPY' })).toThrow(/snappyCompress/);
    });
  });

  describe('time ranges', () => {
    const count = 20_000;
    /** Row groups of 4,096 rows (the default keeps 20,000 samples in one). */
    const grouped = new ParquetStreamCodec({ rowGroupSize: 4096 });
    const random = rng(24);
    const samples: PositionSamples = {
      timestamps: regularTimestamps(count),
      latitude: Float64Array.from({ length: count }, (_, i) => 47.3 + i * 1e-5 + random() * 1e-7),
      longitude: Float64Array.from({ length: count }, (_, i) => 8.5 + i * 1e-5 + random() * 1e-7),
      altitudeM: Float64Array.from({ length: count }, () => 400 + random() * 10),
      horizontalAccuracyM: Float64Array.from({ length: count }, () => (random() < 0.1 ? Number.NaN : random() * 5)),
    };
    /** The samples with a timestamp in [from, to), sliced from the full samples. */
    const expectedSlice = (fromMs: number, toMs: number): PositionSamples => {
      const start = samples.timestamps.findIndex((t) => t >= fromMs);
      const endAt = samples.timestamps.findIndex((t) => t >= toMs);
      const [from, to] = [start < 0 ? count : start, endAt < 0 ? count : endAt];
      const slice = (column: Float64Array) => column.slice(from, Math.max(from, to));
      return {
        timestamps: slice(samples.timestamps),
        latitude: slice(samples.latitude),
        longitude: slice(samples.longitude),
        altitudeM: slice(samples.altitudeM!),
        horizontalAccuracyM: slice(samples.horizontalAccuracyM!),
      };
    };

    /** Each row group's bytes in the file: from its first page to the end of its last column chunk. */
    function groupSpans(metadata: FileMetaData): Array<[number, number]> {
      return metadata.row_groups.map((group) => {
        const starts = group.columns.map((column) => Number(column.meta_data!.dictionary_page_offset ?? column.meta_data!.data_page_offset));
        const ends = group.columns.map((column, i) => starts[i]! + Number(column.meta_data!.total_compressed_size));
        return [Math.min(...starts), Math.max(...ends)];
      });
    }

    it('splits long streams into row groups with timestamp statistics; short streams and small pages stay one group', () => {
      expect(rowGroupRows(3600, 1e9)).toBe(3600);
      expect(rowGroupRows(36_000, 300_000)).toBe(4000); // 9 groups
      expect(rowGroupRows(2_000_000, 1e7)).toBe(125_000); // 16 groups
      expect(rowGroupRows(40_000, 3000)).toBe(40_000); // pages too small to be worth a second group
      const long = 40_000;
      const walk = rng(7);
      let lat = 47.3;
      const track: PositionSamples = {
        timestamps: regularTimestamps(long),
        latitude: Float64Array.from({ length: long }, () => (lat += (walk() - 0.3) * 3e-5)),
        longitude: Float64Array.from({ length: long }, () => 8.5 + walk() * 1e-3),
        altitudeM: null,
        horizontalAccuracyM: null,
      };
      const grouped = parquetMetadata(encodeStream('position', track).slice().buffer);
      expect(grouped.row_groups.map((group) => Number(group.num_rows))).toEqual(Array.from({ length: 10 }, () => 4000));
      const flat = { timestamps: regularTimestamps(long), values: new Float64Array(long).fill(120) };
      expect(parquetMetadata(encodeStream('heart_rate', flat).slice().buffer).row_groups).toHaveLength(1);
      expect(parquetMetadata(encodeStream('position', samples).slice().buffer).row_groups).toHaveLength(1);
      expect(MIN_ROW_GROUP_ROWS).toBe(4096);
    });

    it('decodes only the row groups whose statistics overlap the range, bit-identical to a slice of the full read', async () => {
      const bytes = grouped.encode('position', samples);
      expect(parquetMetadata(bytes.slice().buffer).row_groups.map((group) => Number(group.num_rows))).toEqual([4096, 4096, 4096, 4096, 3616]);
      const spans = groupSpans(parquetMetadata(bytes.slice().buffer));
      // Rows 5000..6999 lie in group 1 (4096..8191) only.
      const fromMs = T0 + 5000 * 1000;
      const toMs = T0 + 7000 * 1000;
      const reads: Array<[number, number]> = [];
      const decoded = await decodeStream(bytes, 'position', { range: { fromMs, toMs }, onRead: (start, end) => reads.push([start, end]) });
      expectSameSamples(decoded.samples, expectedSlice(fromMs, toMs));
      expect(decoded.samples.timestamps).toHaveLength(2000);
      expect(reads.length).toBeGreaterThan(0);
      for (const [start, end] of reads) {
        expect(start).toBeGreaterThanOrEqual(spans[1]![0]);
        expect(end).toBeLessThanOrEqual(spans[1]![1]);
      }
      // A range across a group boundary reads both groups and nothing else.
      const across: Array<[number, number]> = [];
      const boundary = { fromMs: T0 + 8000 * 1000, toMs: T0 + 8300 * 1000 };
      const both = await decodeStream(bytes, 'position', { range: boundary, onRead: (start, end) => across.push([start, end]) });
      expectSameSamples(both.samples, expectedSlice(boundary.fromMs, boundary.toMs));
      for (const [start, end] of across) {
        expect(start).toBeGreaterThanOrEqual(spans[1]![0]);
        expect(end).toBeLessThanOrEqual(spans[2]![1]);
      }
      expect(across.some(([start]) => start >= spans[2]![0])).toBe(true);
    });

    it('answers half-open ranges: a sample at from is in, one at to is out; empty and outside ranges are empty', async () => {
      const bytes = grouped.encode('position', samples);
      const at = (row: number) => samples.timestamps[row]!;
      const exact = await decodeStream(bytes, 'position', { range: { fromMs: at(10), toMs: at(13) } });
      expect(Array.from(exact.samples.timestamps)).toEqual([at(10), at(11), at(12)]);
      for (const range of [
        { fromMs: at(10), toMs: at(10) },
        { fromMs: at(count - 1) + 1, toMs: at(count - 1) + 10_000 },
        { fromMs: T0 - 10_000, toMs: T0 },
      ]) {
        const reads: number[] = [];
        const empty = await decodeStream(bytes, 'position', { range, onRead: (start) => reads.push(start) });
        expect(empty.samples.timestamps).toHaveLength(0);
        expect(reads).toEqual([]);
      }
      const open = await decodeStream(bytes, 'position', { range: { fromMs: at(19_990), toMs: Number.POSITIVE_INFINITY } });
      expectSameSamples(open.samples, expectedSlice(at(19_990), Number.POSITIVE_INFINITY));
    });

    it('reads a range of an object of one row group (the layout before) and of a foreign unsorted file without statistics', async () => {
      const single = new ParquetStreamCodec({ rowGroupSize: 1 << 20 }).encode('position', samples);
      expect(parquetMetadata(single.slice().buffer).row_groups).toHaveLength(1);
      const range = { fromMs: T0 + 4000 * 1000, toMs: T0 + 4500 * 1000 };
      expectSameSamples((await decodeStream(single, 'position', { range })).samples, expectedSlice(range.fromMs, range.toMs));

      const shuffled = [T0 + 5000, T0, T0 + 3000, T0 + 1000, T0 + 4000, T0 + 2000];
      const foreign = foreignFile(
        [
          { element: TIMESTAMP_MILLIS, data: shuffled.map(BigInt) },
          { element: { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: shuffled.map((t) => (t - T0) / 1000 + 0.5) },
        ],
        [],
        'SNAPPY',
        false,
      );
      const decoded = await decodeStream(foreign, 'heart_rate', { range: { fromMs: T0 + 1000, toMs: T0 + 4000 } });
      expect(Array.from(decoded.samples.timestamps)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
      expect(Array.from((decoded.samples as ScalarSamples).values)).toEqual([1.5, 2.5, 3.5]);
    });
  });

  describe('size targets from the product issue', () => {
    it('stores 1 h of 1 Hz heart rate in under 0.66 bytes per sample (as DOUBLE; INT32 took < 0.5)', () => {
      const samples: ScalarSamples = { timestamps: regularTimestamps(3600), values: heartRateWalk(3600, rng(11)) };
      const bytesPerSample = encodeStream('heart_rate', samples).byteLength / 3600;
      expect(bytesPerSample).toBeLessThan(0.66);
    });

    it('stores 1 h of 1 Hz full-precision GPS in under 15.5 bytes per fix (≥16× below 248 B in Postgres)', () => {
      const samples = track(3600, rng(12), false);
      const bytesPerFix = encodeStream('position', samples).byteLength / 3600;
      expect(bytesPerFix).toBeLessThan(11);
    });

    it('picks a dictionary or PLAIN over BYTE_STREAM_SPLIT for coarsely quantised doubles', () => {
      const random = rng(13);
      let altitude = 300;
      const values = Float64Array.from({ length: 3600 }, () => {
        altitude += (random() - 0.5) * 0.6;
        return Math.round(altitude * 5) / 5;
      });
      const samples: ScalarSamples = { timestamps: regularTimestamps(3600), values };
      const adaptive = encodeStream('altitude', samples);
      const fixed = new ParquetStreamCodec({ encodingStrategy: 'fixed' }).encode('altitude', samples);
      expect(columnMeta(parquetMetadata(adaptive.slice().buffer), 'value').encodings).not.toContain('BYTE_STREAM_SPLIT');
      expect(adaptive.byteLength).toBeLessThan(fixed.byteLength * 0.8);
    });
  });

  describe('invalid input', () => {
    it.each([
      ['empty', new Uint8Array(0)],
      ['random bytes', Uint8Array.from({ length: 256 }, (_, i) => (i * 31 + 7) % 251)],
      ['magic only', new TextEncoder().encode('PAR1PAR1')],
      ['garbage footer', new TextEncoder().encode('PAR1 this is not a parquet footer \u0010\u0000\u0000\u0000PAR1')],
    ])('rejects %s with INVALID_PARQUET', async (_label, bytes) => {
      await expectCodecError(decodeStream(bytes), 'INVALID_PARQUET');
    });

    it('rejects a truncated file with INVALID_PARQUET', async () => {
      const bytes = encodeStream('heart_rate', { timestamps: regularTimestamps(100), values: heartRateWalk(100, rng(3)) });
      await expectCodecError(decodeStream(bytes.subarray(0, bytes.length - 30)), 'INVALID_PARQUET');
      await expectCodecError(decodeStream(bytes.subarray(20)), 'INVALID_PARQUET');
    });

    it('rejects corrupted page bytes with INVALID_PARQUET', async () => {
      const bytes = encodeStream('speed', { timestamps: regularTimestamps(500), values: Float64Array.from({ length: 500 }, (_, i) => Math.sin(i) * 3 + 4) });
      const corrupted = bytes.slice();
      for (let i = 8; i < 200; i++) corrupted[i] = 0xff;
      await expectCodecError(decodeStream(corrupted), 'INVALID_PARQUET');
    });

    it('rejects a file without the value column with MISSING_COLUMN', async () => {
      const bytes = foreignFile([
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0), BigInt(T0 + 1000)] },
        { element: { name: 'bpm', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [60, 61] },
      ]);
      await expectCodecError(decodeStream(bytes), 'MISSING_COLUMN');
      await expectCodecError(decodeStream(bytes, 'heart_rate'), 'MISSING_COLUMN');
    });

    it('rejects a position file without longitude, and one without timestamp, with MISSING_COLUMN', async () => {
      const noLongitude = foreignFile([
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0)] },
        { element: { name: 'latitude', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [47.1] },
      ]);
      await expectCodecError(decodeStream(noLongitude), 'MISSING_COLUMN');
      const noTimestamp = foreignFile([
        { element: { name: 'latitude', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [47.1] },
        { element: { name: 'longitude', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [8.5] },
      ]);
      await expectCodecError(decodeStream(noTimestamp, 'position'), 'MISSING_COLUMN');
    });

    it('rejects a text value column and a DATE timestamp with UNSUPPORTED_COLUMN_TYPE', async () => {
      const textValue = foreignFile([
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0)] },
        { element: { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' }, data: ['60'] },
      ]);
      await expectCodecError(decodeStream(textValue), 'UNSUPPORTED_COLUMN_TYPE');
      const dateTimestamp = foreignFile([
        { element: { name: 'timestamp', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' }, data: [19000] },
        { element: { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [1] },
      ]);
      await expectCodecError(decodeStream(dateTimestamp), 'UNSUPPORTED_COLUMN_TYPE');
    });

    it('rejects a codec it cannot decompress with UNSUPPORTED_COMPRESSION', async () => {
      // An identity "compressor" labelled LZ4: enough to produce the metadata under test.
      const bytes = new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'timestamp', data: [BigInt(T0)] },
            { name: 'value', data: [1.5] },
          ],
          schema: [{ name: 'root', num_children: 2 }, TIMESTAMP_MILLIS, { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }],
          codec: 'LZ4',
          compressors: { LZ4: (input: Uint8Array) => input },
        }),
      );
      await expectCodecError(decodeStream(bytes), 'UNSUPPORTED_COMPRESSION');
    });

    it('rejects a declared type that differs from the expected one with STREAM_TYPE_MISMATCH', async () => {
      const bytes = encodeStream('heart_rate', { timestamps: regularTimestamps(3), values: Float64Array.of(60, 61, 62) });
      await expectCodecError(decodeStream(bytes, 'power'), 'STREAM_TYPE_MISMATCH');
    });

    it('rejects a newer schema_version and an unknown stream_type', async () => {
      const columns = [
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0)] },
        { element: { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' } satisfies SchemaElement, data: [1] },
      ];
      await expectCodecError(decodeStream(foreignFile(columns, [{ key: 'schema_version', value: '4' }])), 'UNSUPPORTED_SCHEMA_VERSION');
      await expectCodecError(decodeStream(foreignFile(columns, [{ key: 'stream_type', value: 'blood_glucose' }])), 'UNKNOWN_STREAM_TYPE');
    });

    it('refuses to encode samples that break the invariants with INVALID_SAMPLES', () => {
      const timestamps = regularTimestamps(3);
      expectEncodeError(() => encodeStream('speed', { timestamps, values: Float64Array.of(1, 2) }), 'INVALID_SAMPLES');
      expectEncodeError(() => encodeStream('speed', { timestamps: Float64Array.of(T0, T0 + 0.5, T0 + 1), values: Float64Array.of(1, 2, 3) }), 'INVALID_SAMPLES');
      expectEncodeError(() => encodeStream('speed', { timestamps: Float64Array.of(T0, T0 - 1, T0 + 1), values: Float64Array.of(1, 2, 3) }), 'INVALID_SAMPLES');
      expectEncodeError(() => encodeStream('speed', { timestamps, values: Float64Array.of(1, Number.NaN, 3) }), 'INVALID_SAMPLES');
      expectEncodeError(() => encodeStream('speed', { timestamps, values: Float64Array.of(1, Number.POSITIVE_INFINITY, 3) }), 'INVALID_SAMPLES');
      expectEncodeError(() => encodeStream('position', { timestamps, values: Float64Array.of(1, 2, 3) }), 'INVALID_SAMPLES');
      expectEncodeError(() => encodeStream('speed', track(3, rng(1), false)), 'INVALID_SAMPLES');
      const badTrack = track(3, rng(1), true);
      if (badTrack.horizontalAccuracyM) badTrack.horizontalAccuracyM[1] = Number.POSITIVE_INFINITY;
      expectEncodeError(() => encodeStream('position', badTrack), 'INVALID_SAMPLES');
    });
  });

  describe('files written by other tools', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stream-codec-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads a @dsnp/parquetjs file with the documented scalar schema (TIMESTAMP_MILLIS + DOUBLE)', async () => {
      const path = join(dir, 'dsnp-speed.parquet');
      const timestamps = irregularTimestamps(500, rng(21));
      const values = Float64Array.from({ length: 500 }, (_, i) => 2.5 + Math.sin(i / 10) + i * 1e-9);
      writeWithDsnp(
        path,
        { timestamp: { type: 'TIMESTAMP_MILLIS' }, value: { type: 'DOUBLE' } },
        Array.from(timestamps, (timestamp, i) => ({ timestamp, value: values[i] })),
      );

      const decoded = await decodeStream(new Uint8Array(await readFile(path)), 'speed');
      expect(decoded.type).toBe('speed');
      expect(decoded.schemaVersion).toBeUndefined();
      expectSameSamples(decoded.samples, { timestamps, values });
    });

    it('reads a @dsnp/parquetjs position file with an optional column and GZIP v1 pages', async () => {
      const path = join(dir, 'dsnp-position.parquet');
      const samples = track(300, rng(22), true);
      const altitude = samples.altitudeM ?? new Float64Array(0);
      altitude[10] = Number.NaN;
      writeWithDsnp(
        path,
        {
          timestamp: { type: 'TIMESTAMP_MILLIS' },
          latitude: { type: 'DOUBLE', compression: 'GZIP' },
          longitude: { type: 'DOUBLE', compression: 'GZIP' },
          altitude_m: { type: 'DOUBLE', optional: true },
        },
        Array.from(samples.timestamps, (timestamp, i) => ({
          timestamp,
          latitude: samples.latitude[i],
          longitude: samples.longitude[i],
          ...(Number.isNaN(altitude[i]) ? {} : { altitude_m: altitude[i] }),
        })),
      );

      const decoded = await decodeStream(new Uint8Array(await readFile(path)));
      expect(decoded.type).toBe('position');
      expectSameSamples(decoded.samples, { ...samples, horizontalAccuracyM: null });
    });

    it('reads an INT32 value column written by @dsnp/parquetjs as the same float64 numbers', async () => {
      const path = join(dir, 'dsnp-hr.parquet');
      const values = heartRateWalk(200, rng(23));
      const timestamps = regularTimestamps(200);
      writeWithDsnp(
        path,
        { timestamp: { type: 'TIMESTAMP_MILLIS' }, value: { type: 'INT32' } },
        Array.from(timestamps, (timestamp, i) => ({ timestamp, value: values[i] })),
      );
      expectSameSamples((await decodeStream(new Uint8Array(await readFile(path)), 'heart_rate')).samples, { timestamps, values });
    });

    it('reads FLOAT and INT64 values, micro- and plain-millisecond timestamps', async () => {
      const ms = [T0, T0 + 1000, T0 + 2500];
      const floatValues = Float32Array.of(1.25, 36.6, -3.5);
      const cases: Array<{ timestamp: { element: SchemaElement; data: bigint[] }; value: { element: SchemaElement; data: number[] | bigint[] | Float32Array }; expected: number[] }> = [
        {
          timestamp: { element: { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'TIMESTAMP_MICROS' }, data: ms.map((t) => BigInt(t) * 1000n + 999n) },
          value: { element: { name: 'value', type: 'FLOAT', repetition_type: 'REQUIRED' }, data: floatValues },
          expected: Array.from(floatValues),
        },
        {
          timestamp: {
            element: { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' } },
            data: ms.map((t) => BigInt(t) * 1_000_000n),
          },
          value: { element: { name: 'value', type: 'INT64', repetition_type: 'REQUIRED' }, data: [120n, 250n, 0n] },
          expected: [120, 250, 0],
        },
        {
          timestamp: { element: { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED' }, data: ms.map((t) => BigInt(t)) },
          value: { element: { name: 'value', type: 'INT32', repetition_type: 'REQUIRED' }, data: [80, 90, 100] },
          expected: [80, 90, 100],
        },
      ];
      for (const { timestamp, value, expected } of cases) {
        const decoded = await decodeStream(foreignFile([timestamp, value]), 'cadence');
        expectSameSamples(decoded.samples, { timestamps: Float64Array.from(ms), values: Float64Array.from(expected) });
      }
    });

    it('drops rows whose value is null and sorts out-of-order rows by time', async () => {
      const bytes = foreignFile([
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0 + 3000), BigInt(T0), BigInt(T0 + 2000), BigInt(T0 + 1000)] },
        { element: { name: 'value', type: 'DOUBLE', repetition_type: 'OPTIONAL' }, data: [4, 1, null, 2] },
      ]);
      const decoded = await decodeStream(bytes, 'heart_rate');
      expectSameSamples(decoded.samples, { timestamps: Float64Array.of(T0, T0 + 1000, T0 + 3000), values: Float64Array.of(1, 2, 4) });
    });

    it('rejects an INT64 value beyond 2^53 with INVALID_VALUE rather than rounding it', async () => {
      const bytes = foreignFile([
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0)] },
        { element: { name: 'value', type: 'INT64', repetition_type: 'REQUIRED' }, data: [2n ** 60n] },
      ]);
      await expectCodecError(decodeStream(bytes), 'INVALID_VALUE');
    });

    it('reads INT64 values up to ±(2^53 − 1) exactly, from the two halves of each 64-bit word', async () => {
      const edge = [2n ** 53n - 1n, -(2n ** 53n - 1n), -1n, 0n, 2n ** 32n, -(2n ** 32n) - 1n];
      const bytes = foreignFile([
        { element: TIMESTAMP_MILLIS, data: edge.map((_, i) => BigInt(T0 + i)) },
        { element: { name: 'value', type: 'INT64', repetition_type: 'REQUIRED' }, data: edge },
      ]);
      const decoded = await decodeStream(bytes, 'power');
      expect(Array.from((decoded.samples as ScalarSamples).values)).toEqual(edge.map(Number));
    });

    it('rejects a timestamp beyond ±2^53 ms in the pages (no statistic to catch it first) with INVALID_VALUE', async () => {
      for (const beyond of [2n ** 53n + 1n, -(2n ** 53n)]) {
        const bytes = foreignFile(
          [
            { element: TIMESTAMP_MILLIS, data: [BigInt(T0), beyond] },
            { element: { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [1, 2] },
          ],
          [],
          'SNAPPY',
          false,
        );
        expect(parquetMetadata(bytes.slice().buffer).row_groups[0]!.columns[0]!.meta_data?.statistics?.max_value).toBeUndefined();
        await expectCodecError(decodeStream(bytes), 'INVALID_VALUE');
      }
    });

    it('rejects a timestamp beyond 2^53 ms with INVALID_VALUE rather than rounding it', async () => {
      const bytes = foreignFile([
        { element: TIMESTAMP_MILLIS, data: [BigInt(T0), 2n ** 53n + 1n] },
        { element: { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' }, data: [1, 2] },
      ]);
      await expectCodecError(decodeStream(bytes), 'INVALID_VALUE');
    });
  });
});
