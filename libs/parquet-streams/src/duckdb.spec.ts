import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { gzipSync as gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

import {
  encodeStream,
  PAGE_ROWS,
  ParquetStreamCodec,
  SCHEMA_VERSION_METADATA_KEY,
  STREAM_TYPE_METADATA_KEY,
  writeParquet,
  type DoubleEncoding,
  SCALAR_STREAM_TYPES,
  type PositionSamples,
  type ScalarSamples,
  type StreamSamples,
  type StreamType,
} from './index.js';
import { rng } from '../../testing/seeded-random.js';


const T0 = Date.UTC(2024, 4, 12, 7, 30, 0);

function irregularTimestamps(count: number, random: () => number): Float64Array {
  const out = new Float64Array(count);
  let t = T0 + 7;
  for (let i = 0; i < count; i++) {
    out[i] = t;
    t += 1000 + Math.floor(random() * 9001);
  }
  return out;
}

function bits(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function expectBitExact(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  if (!bits(actual).equals(bits(expected))) {
    const at = actual.findIndex((v, i) => !Object.is(v, expected[i]));
    throw new Error(`first difference at ${at}: got ${actual[at]}, expected ${expected[at]}`);
  }
}

/** DuckDB hands NULL back as null; the samples model it as NaN. */
function numbers(column: unknown[]): Float64Array {
  return Float64Array.from(column, (value) => {
    if (value === null) return Number.NaN;
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    throw new Error(`unexpected DuckDB value ${String(value)}`);
  });
}

describe('stream files in DuckDB', () => {
  let dir: string;
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stream-duckdb-'));
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });

  afterAll(async () => {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  async function store(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, `${name}.parquet`);
    await writeFile(path, bytes);
    return path.replaceAll("'", "''");
  }

  /** Columns in file order; file_row_number keeps DuckDB's parallel scan from reordering rows. */
  async function readColumns(path: string, columns: string[]): Promise<unknown[][]> {
    const select = columns.map((column) => (column === 'timestamp' ? 'epoch_ms("timestamp")' : `"${column}"`)).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT ${select} FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`,
    );
    return reader.getColumnsJS();
  }

  async function columnTypes(path: string): Promise<Record<string, string>> {
    const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    const types: Record<string, string> = {};
    for (const row of reader.getRowObjectsJS()) types[String(row.column_name)] = String(row.column_type);
    return types;
  }

  async function expectScalarFile(name: string, type: StreamType, samples: ScalarSamples, bytes = encodeStream(type, samples)): Promise<string> {
    const path = await store(name, bytes);
    const [timestamps = [], values = []] = await readColumns(path, ['timestamp', 'value']);
    expectBitExact(numbers(timestamps), samples.timestamps);
    expectBitExact(numbers(values), samples.values);
    return path;
  }

  it('reads integral heart rate (DOUBLE, like every value column) with exact values and TIMESTAMPTZ instants', async () => {
    const random = rng(1);
    let hr = 100;
    const count = 3600;
    const samples: ScalarSamples = {
      timestamps: irregularTimestamps(count, random),
      values: Float64Array.from({ length: count }, () => (hr = Math.min(190, Math.max(60, hr + Math.round((random() - 0.5) * 3))))),
    };
    const path = await expectScalarFile('heart_rate', 'heart_rate', samples);
    expect(await columnTypes(path)).toEqual({ timestamp: 'TIMESTAMP WITH TIME ZONE', value: 'DOUBLE' });

    const kv = await connection.runAndReadAll(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${path}') ORDER BY key`);
    expect(kv.getRowObjectsJS()).toEqual([
      { key: 'schema_version', value: '3' },
      { key: 'stream_type', value: 'heart_rate' },
    ]);
  });

  it('reads full-precision doubles, -0 and 72.35 bit-exact', async () => {
    const random = rng(2);
    const count = 5000;
    const values = Float64Array.from({ length: count }, (_, i) => Math.abs(Math.sin(i / 50)) * 6 + random() * 0.01);
    values[0] = 72.35;
    values[1] = -0;
    values[2] = 5e-324;
    const samples: ScalarSamples = { timestamps: irregularTimestamps(count, random), values };
    const path = await expectScalarFile('speed', 'speed', samples);
    expect(await columnTypes(path)).toEqual({ timestamp: 'TIMESTAMP WITH TIME ZONE', value: 'DOUBLE' });
  });

  it('reads quantised doubles the adaptive strategy stores with a dictionary or PLAIN', async () => {
    const random = rng(3);
    let altitude = 250;
    const count = 3600;
    const values = Float64Array.from({ length: count }, () => Math.round((altitude += (random() - 0.5) * 0.6) * 5) / 5);
    await expectScalarFile('altitude', 'altitude', { timestamps: irregularTimestamps(count, random), values });
  });

  it('reads regular 1 Hz timestamps, delta-packed in blocks of 4,096', async () => {
    const count = 10_000;
    const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
    const values = Float64Array.from({ length: count }, (_, i) => 120 + (i % 17));
    const path = await expectScalarFile('regular', 'heart_rate', { timestamps, values });
    const sizes = await connection.runAndReadAll(`SELECT total_compressed_size::INTEGER AS n FROM parquet_metadata('${path}') WHERE path_in_schema = 'timestamp'`);
    expect((sizes.getRowObjectsJS()[0] as { n: number }).n).toBeLessThan(60);
  });

  it('reads a file with more than one row group', async () => {
    const random = rng(4);
    const count = 120_000;
    const samples: ScalarSamples = {
      timestamps: irregularTimestamps(count, random),
      values: Float64Array.from({ length: count }, () => Math.floor(random() * 400)),
    };
    const codec = new ParquetStreamCodec({ rowGroupSize: 50_000 });
    const path = await expectScalarFile('power', 'power', samples, codec.encode('power', samples));
    const groups = await connection.runAndReadAll(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${path}')`);
    expect(groups.getRowObjectsJS()).toEqual([{ n: 3 }]);
  });

  it('reads BROTLI and SNAPPY variants too', async () => {
    const random = rng(5);
    const count = 2000;
    const samples: ScalarSamples = {
      timestamps: irregularTimestamps(count, random),
      values: Float64Array.from({ length: count }, () => 20 + random() * 5),
    };
    for (const compression of ['BROTLI', 'SNAPPY'] as const) {
      const codec = new ParquetStreamCodec({ compression, snappyCompress });
      await expectScalarFile(`temperature-${compression}`, 'temperature', samples, codec.encode('temperature', samples));
    }
  });

  it('reads positions with optional columns, nulls where the samples hold NaN', async () => {
    const random = rng(6);
    const count = 3600;
    let lat = -33.856784;
    let lng = 151.215297;
    const samples: PositionSamples = {
      timestamps: irregularTimestamps(count, random),
      latitude: new Float64Array(count),
      longitude: new Float64Array(count),
      altitudeM: new Float64Array(count),
      horizontalAccuracyM: new Float64Array(count),
    };
    for (let i = 0; i < count; i++) {
      lat += (random() - 0.4) * 3e-5;
      lng += (random() - 0.4) * 3e-5;
      samples.latitude[i] = lat;
      samples.longitude[i] = lng;
      (samples.altitudeM ?? [])[i] = i % 97 === 5 ? Number.NaN : 12 + random() * 30;
      (samples.horizontalAccuracyM ?? [])[i] = 3 + random() * 10;
    }
    const path = await store('position', encodeStream('position', samples));
    expect(await columnTypes(path)).toEqual({
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      latitude: 'DOUBLE',
      longitude: 'DOUBLE',
      altitude_m: 'DOUBLE',
      horizontal_accuracy_m: 'DOUBLE',
    });
    const [timestamps = [], latitude = [], longitude = [], altitude = [], accuracy = []] = await readColumns(path, [
      'timestamp',
      'latitude',
      'longitude',
      'altitude_m',
      'horizontal_accuracy_m',
    ]);
    expectBitExact(numbers(timestamps), samples.timestamps);
    expectBitExact(numbers(latitude), samples.latitude);
    expectBitExact(numbers(longitude), samples.longitude);
    expect(altitude.filter((value) => value === null)).toHaveLength(Math.ceil((count - 5) / 97));
    expectBitExact(numbers(altitude), samples.altitudeM ?? new Float64Array(0));
    expectBitExact(numbers(accuracy), samples.horizontalAccuracyM ?? new Float64Array(0));
  });

  it.each(['PLAIN', 'BYTE_STREAM_SPLIT', 'RLE_DICTIONARY'] as DoubleEncoding[])(
    'reads %s pages of every layout the writer produces (several pages and groups, NULLs, -0, 16-bit dictionaries) bit-exact',
    async (encoding) => {
      const random = rng(7);
      const count = PAGE_ROWS + 5000;
      const timestamps = irregularTimestamps(count, random);
      const pick = (distinct: number) => Math.floor(random() * distinct) * 0.125 - 3;
      const latitude = Float64Array.from({ length: count }, (_, i) => (i % 40 < 10 ? 1.5 : pick(100)));
      const longitude = Float64Array.from({ length: count }, () => pick(2000));
      const altitude = Float64Array.from({ length: count }, (_, i) => (i % 11 === 4 ? Number.NaN : pick(50)));
      latitude[0] = -0;
      altitude[1] = -0;
      const gzip = (input: Uint8Array) => new Uint8Array(gzipSync(input));
      const bytes = writeParquet({
        columns: [
          { kind: 'timestamp', name: 'timestamp', values: timestamps },
          { kind: 'double', name: 'latitude', optional: false, values: latitude, encoding },
          { kind: 'double', name: 'longitude', optional: false, values: longitude, encoding },
          { kind: 'double', name: 'altitude_m', optional: true, values: altitude, encoding },
        ],
        codec: 'GZIP',
        compress: gzip,
        rowGroupSize: PAGE_ROWS + 1000,
        keyValueMetadata: [
          { key: STREAM_TYPE_METADATA_KEY, value: 'position' },
          { key: SCHEMA_VERSION_METADATA_KEY, value: '2' },
        ],
      });
      const path = await store(`layout-${encoding}`, bytes);
      const [ts = [], lat = [], lng = [], alt = []] = await readColumns(path, ['timestamp', 'latitude', 'longitude', 'altitude_m']);
      expectBitExact(numbers(ts), timestamps);
      expectBitExact(numbers(lat), latitude);
      expectBitExact(numbers(lng), longitude);
      expectBitExact(numbers(alt), altitude);
      const encodings = await connection.runAndReadAll(
        `SELECT DISTINCT path_in_schema AS name, encodings FROM parquet_metadata('${path}') ORDER BY name`,
      );
      const expected = encoding === 'RLE_DICTIONARY' ? 'PLAIN, RLE_DICTIONARY' : encoding;
      expect(encodings.getRowObjectsJS()).toEqual([
        { name: 'altitude_m', encodings: expected },
        { name: 'latitude', encodings: expected },
        { name: 'longitude', encodings: expected },
        { name: 'timestamp', encodings: 'DELTA_BINARY_PACKED' },
      ]);
    },
  );
  describe('a glob over one stream type, objects written before and after issue 24', () => {
    // Before: GZIP pages, decimal-valued doubles as BYTE_STREAM_SPLIT (what the 'fixed' strategy
    // writes). After: the default, ZSTD pages and PLAIN for decimal values.
    const before = new ParquetStreamCodec({ compression: 'GZIP', encodingStrategy: 'fixed' });
    const after = new ParquetStreamCodec();

    function samplesFor(type: StreamType, seed: number): StreamSamples {
      const random = rng(seed);
      const count = 2000;
      const timestamps = irregularTimestamps(count, random);
      if (type === 'position') {
        const semicircles = (start: number) => {
          let s = start;
          return Float64Array.from({ length: count }, () => (s += Math.floor(random() * 400)) * (180 / 2 ** 31));
        };
        const altitudeM = Float64Array.from({ length: count }, (_, i) => (i % 13 === 0 ? Number.NaN : Math.round(random() * 5000) / 5));
        return { timestamps, latitude: semicircles(550_000_000), longitude: semicircles(90_000_000), altitudeM, horizontalAccuracyM: null };
      }
      // Centimetres as metres: the decimal shape that is PLAIN after issue 24 (and -0, a fraction).
      let cm = 0;
      const values = Float64Array.from({ length: count }, () => (cm += Math.floor(random() * 900)) / 100);
      values[1] = -0;
      values[2] = 72.35000000000001;
      return { timestamps, values };
    }

    it.each([...SCALAR_STREAM_TYPES, 'position'] as StreamType[])('%s: one schema, every value of both objects bit-exact', async (type) => {
      const folder = join(dir, 'lake', `stream_type=${type}`);
      await mkdir(folder, { recursive: true });
      const old = samplesFor(type, 40);
      const current = samplesFor(type, 41);
      await writeFile(join(folder, 'v=1.parquet'), before.encode(type, old));
      await writeFile(join(folder, 'v=2.parquet'), after.encode(type, current));
      const glob = join(folder, '*.parquet').replaceAll("'", "''");

      const codecs = await connection.runAndReadAll(
        `SELECT DISTINCT regexp_extract(file_name, 'v=([0-9])', 1) AS v, compression FROM parquet_metadata('${glob}') WHERE path_in_schema IN ('value', 'latitude') ORDER BY v`,
      );
      expect(codecs.getRowObjectsJS()).toEqual([
        { v: '1', compression: 'GZIP' },
        { v: '2', compression: 'ZSTD' },
      ]);
      // One schema for the glob, no union_by_name: the same columns and types as each object alone.
      const described = await columnTypes(glob);
      expect(described).toEqual(await columnTypes(join(folder, 'v=1.parquet').replaceAll("'", "''")));
      expect(described.timestamp).toBe('TIMESTAMP WITH TIME ZONE');
      const columns = type === 'position' ? ['latitude', 'longitude', 'altitude_m', 'horizontal_accuracy_m'] : ['value'];
      for (const column of columns) expect(described[column]).toBe('DOUBLE');

      const select = ['epoch_ms("timestamp")', ...columns.map((c) => `"${c}"`)].join(', ');
      for (const [file, samples] of [['v=1', old], ['v=2', current]] as const) {
        const reader = await connection.runAndReadAll(
          `SELECT ${select} FROM read_parquet('${glob}', filename = true, file_row_number = true) WHERE filename LIKE '%${file}.parquet' ORDER BY file_row_number`,
        );
        const [timestamps = [], ...values] = reader.getColumnsJS();
        expectBitExact(numbers(timestamps), samples.timestamps);
        if ('values' in samples) expectBitExact(numbers(values[0]!), samples.values);
        else {
          expectBitExact(numbers(values[0]!), samples.latitude);
          expectBitExact(numbers(values[1]!), samples.longitude);
          expectBitExact(numbers(values[2]!), samples.altitudeM!);
          expect(values[3]!.every((v) => v === null)).toBe(true);
        }
      }
    });
  });
});
