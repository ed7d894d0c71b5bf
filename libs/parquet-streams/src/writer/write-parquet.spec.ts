import { gzipSync } from 'node:zlib';

import { describe, expect, it } from '@jest/globals';
import { parquetMetadata } from 'hyparquet';

import {
  chooseDoubleEncoding,
  decodeStream,
  encodeStream,
  isPositionSamples,
  PAGE_ROWS,
  SCHEMA_VERSION_METADATA_KEY,
  STREAM_TYPE_METADATA_KEY,
  writeParquet,
  type DoubleEncoding,
  type WriterColumn,
} from '../index.js';
import { rng } from '../../../testing/seeded-random.js';
import { gpsTrack } from '../../../testing/synthetic-track.js';

const T0 = Date.UTC(2024, 4, 12, 7, 30, 0);
const ENCODINGS: DoubleEncoding[] = ['PLAIN', 'BYTE_STREAM_SPLIT', 'RLE_DICTIONARY'];
const gzip = (input: Uint8Array) => gzipSync(input);

function bits(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function expectBitExact(actual: Float64Array | null, expected: Float64Array): void {
  expect(actual).not.toBeNull();
  expect(actual!.length).toBe(expected.length);
  if (!bits(actual!).equals(bits(expected))) {
    const at = actual!.findIndex((v, i) => !Object.is(v, expected[i]));
    throw new Error(`first difference at ${at}: got ${actual![at]}, expected ${expected[at]}`);
  }
}

/** A position file: required latitude/longitude and optional altitude_m, each with its own encoding. */
function positionFile(
  timestamps: Float64Array,
  columns: { latitude: Float64Array; longitude: Float64Array; altitude: Float64Array },
  encoding: DoubleEncoding,
  options: { codec?: 'GZIP' | 'UNCOMPRESSED'; rowGroupSize?: number } = {},
): Uint8Array {
  const writerColumns: WriterColumn[] = [
    { kind: 'timestamp', name: 'timestamp', values: timestamps },
    { kind: 'double', name: 'latitude', optional: false, values: columns.latitude, encoding },
    { kind: 'double', name: 'longitude', optional: false, values: columns.longitude, encoding },
    { kind: 'double', name: 'altitude_m', optional: true, values: columns.altitude, encoding },
  ];
  const codec = options.codec ?? 'GZIP';
  return writeParquet({
    columns: writerColumns,
    codec,
    compress: codec === 'GZIP' ? gzip : undefined,
    rowGroupSize: options.rowGroupSize ?? 1 << 20,
    keyValueMetadata: [
      { key: STREAM_TYPE_METADATA_KEY, value: 'position' },
      { key: SCHEMA_VERSION_METADATA_KEY, value: '2' },
    ],
  });
}

/** Values that exercise every path: -0, the smallest subnormal, runs (RLE), and NaN (NULL) in the optional column. */
function awkwardColumns(count: number, distinct: number, random: () => number) {
  const pick = () => Math.floor(random() * distinct) * 0.25 - 7;
  const latitude = Float64Array.from({ length: count }, (_, i) => (i % 50 < 12 ? 3.5 : pick()));
  const longitude = Float64Array.from({ length: count }, pick);
  const altitude = Float64Array.from({ length: count }, (_, i) => (i % 7 === 3 || (i > 20 && i < 40) ? Number.NaN : pick()));
  if (count > 3) {
    latitude[0] = -0;
    longitude[1] = -0;
    altitude[2] = -0;
    longitude[3] = 5e-324;
  }
  return { latitude, longitude, altitude };
}

function metadataOf(bytes: Uint8Array) {
  return parquetMetadata(bytes.slice().buffer);
}

describe('the stream Parquet writer', () => {
  describe.each(ENCODINGS)('%s', (encoding) => {
    it.each([1, 2, 9, 300, 5000])('gives back %i rows bit-exact, with NULLs where the optional column held NaN', async (count) => {
      const random = rng(count);
      const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000 + (i % 3 === 0 ? 7 : 0));
      const columns = awkwardColumns(count, 40, random);
      const decoded = await decodeStream(positionFile(timestamps, columns, encoding), 'position');
      expect(isPositionSamples(decoded.samples)).toBe(true);
      if (!isPositionSamples(decoded.samples)) return;
      expectBitExact(decoded.samples.timestamps, timestamps);
      expectBitExact(decoded.samples.latitude, columns.latitude);
      expectBitExact(decoded.samples.longitude, columns.longitude);
      expectBitExact(decoded.samples.altitudeM, columns.altitude);
    });

    it('splits a long column into pages and several row groups', async () => {
      const count = PAGE_ROWS * 2 + 77;
      const random = rng(7);
      const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 200);
      const columns = awkwardColumns(count, 200, random);
      const bytes = positionFile(timestamps, columns, encoding, { rowGroupSize: PAGE_ROWS + 1000 });
      const groups = metadataOf(bytes).row_groups;
      // Two groups, the first longer than a page.
      expect(groups.map((group) => group.num_rows)).toEqual([BigInt(PAGE_ROWS + 1000), BigInt(PAGE_ROWS + 77 - 1000)]);
      const decoded = await decodeStream(bytes, 'position');
      if (!isPositionSamples(decoded.samples)) throw new Error('not a position stream');
      expectBitExact(decoded.samples.timestamps, timestamps);
      expectBitExact(decoded.samples.longitude, columns.longitude);
      expectBitExact(decoded.samples.altitudeM, columns.altitude);
    });
  });

  it('writes a dictionary of more than 256 values with 16-bit indices', async () => {
    const count = 20_000;
    const random = rng(3);
    const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
    const columns = awkwardColumns(count, 3000, random);
    const bytes = positionFile(timestamps, columns, 'RLE_DICTIONARY');
    const longitude = metadataOf(bytes).row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === 'longitude');
    expect(longitude?.meta_data?.encodings).toEqual(['PLAIN', 'RLE_DICTIONARY']);
    const decoded = await decodeStream(bytes, 'position');
    if (!isPositionSamples(decoded.samples)) throw new Error('not a position stream');
    expectBitExact(decoded.samples.longitude, columns.longitude);
    expectBitExact(decoded.samples.altitudeM, columns.altitude);
  });

  it('delta-packs timestamps with large, irregular and zero gaps, before 1970 too', async () => {
    const random = rng(5);
    const count = 1000;
    const timestamps = new Float64Array(count);
    let t = Date.UTC(1965, 0, 1);
    for (let i = 0; i < count; i++) {
      timestamps[i] = t;
      const r = random();
      t += r < 0.1 ? 0 : r < 0.2 ? Math.floor(random() * 2 ** 40) : 1000 + Math.floor(random() * 50);
    }
    const values = Float64Array.from({ length: count }, () => random());
    const bytes = encodeStream('speed', { timestamps, values });
    const decoded = await decodeStream(bytes, 'speed');
    expectBitExact(decoded.samples.timestamps, timestamps);
  });

  it('packs an hour of regular 1 Hz timestamps into a few dozen bytes and gives them back', async () => {
    const timestamps = Float64Array.from({ length: 3601 }, (_, i) => T0 + i * 1000);
    const bytes = encodeStream('cadence', { timestamps, values: Float64Array.from({ length: 3601 }, (_, i) => 80 + (i % 5)) });
    const chunk = metadataOf(bytes).row_groups[0]!.columns[0]!.meta_data!;
    expect(chunk.encodings).toEqual(['DELTA_BINARY_PACKED']);
    expect(Number(chunk.total_compressed_size)).toBeLessThan(48);
    expectBitExact((await decodeStream(bytes, 'cadence')).samples.timestamps, timestamps);
  });

  it('stores a chunk that compression does not shrink uncompressed, and says so', async () => {
    const timestamps = Float64Array.from({ length: 3 }, (_, i) => T0 + i * 1000);
    const bytes = encodeStream('heart_rate', { timestamps, values: Float64Array.of(61, 62, 63) });
    const codecs = metadataOf(bytes).row_groups[0]!.columns.map((c) => c.meta_data?.codec);
    expect(codecs).toContain('UNCOMPRESSED');
    expectBitExact((await decodeStream(bytes, 'heart_rate')).samples.timestamps, timestamps);
  });

  it('writes chunk statistics (a zero minimum as -0) and no created_by', () => {
    const timestamps = Float64Array.from({ length: 100 }, (_, i) => T0 + i * 1000);
    const values = Float64Array.from({ length: 100 }, (_, i) => (i === 50 ? 0 : i + 0.5));
    const metadata = metadataOf(encodeStream('speed', { timestamps, values }));
    expect(metadata.created_by).toBeUndefined();
    const [time, value] = metadata.row_groups[0]!.columns.map((c) => c.meta_data?.statistics);
    expect(time?.min_value).toEqual(new Date(T0));
    expect(time?.max_value).toEqual(new Date(T0 + 99_000));
    expect(Object.is(value?.min_value, -0)).toBe(true);
    expect(value?.max_value).toBe(99.5);
    expect(value?.null_count).toBe(0n);
  });
});

describe('choosing a double column encoding from its statistics', () => {
  const count = 3600;
  const random = rng(21);
  let hr = 100;
  const heartRate = Float64Array.from({ length: count }, () => (hr = Math.min(190, Math.max(60, hr + Math.round((random() - 0.5) * 3)))));
  let speed = 8;
  const speedMmS = Float64Array.from({ length: count }, () => Math.round((speed = Math.min(16, Math.max(0, speed + (random() - 0.5) * 0.4))) * 1000) / 1000);
  const { latitude } = gpsTrack(count, random);
  const semicircle = 180 / 2 ** 31;
  const fitLatitude = latitude.map((v) => Math.round(v / semicircle) * semicircle);
  let cm = 0;
  const distanceCm = Float64Array.from({ length: count }, () => (cm += 200 + Math.floor(random() * 250)) / 100);

  it('takes a dictionary (or BYTE_STREAM_SPLIT, tried against it) for few whole numbers', () => {
    expect(chooseDoubleEncoding(heartRate, false)).toEqual(['RLE_DICTIONARY', 'BYTE_STREAM_SPLIT']);
  });

  it('stores decimal values that keep coming back (FIT speed in mm/s) as PLAIN', () => {
    const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
    const metadata = metadataOf(encodeStream('speed', { timestamps, values: speedMmS }));
    expect(metadata.row_groups[0]!.columns[1]!.meta_data?.encodings).toEqual(['PLAIN']);
  });

  it('stores a cumulative decimal column (FIT distance, centimetres as metres) as PLAIN', () => {
    expect(chooseDoubleEncoding(distanceCm, false)).toBe('PLAIN');
  });

  it('takes BYTE_STREAM_SPLIT for full-precision GPS and for FIT semicircle coordinates', () => {
    expect(chooseDoubleEncoding(latitude, false)).toBe('BYTE_STREAM_SPLIT');
    expect(chooseDoubleEncoding(fitLatitude, false)).toBe('BYTE_STREAM_SPLIT');
  });

  it('never loses to the encodings it passed over by more than a few percent', () => {
    const timestamps = Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
    for (const values of [heartRate, speedMmS, latitude, fitLatitude, distanceCm]) {
      const size = (encoding: DoubleEncoding | readonly DoubleEncoding[]) =>
        writeParquet({
          columns: [
            { kind: 'timestamp', name: 'timestamp', values: timestamps },
            { kind: 'double', name: 'value', optional: false, values, encoding },
          ],
          codec: 'GZIP',
          compress: gzip,
          rowGroupSize: count,
          keyValueMetadata: [],
        }).byteLength;
      const chosen = size(chooseDoubleEncoding(values, false));
      const best = Math.min(...ENCODINGS.map(size));
      expect(chosen).toBeLessThanOrEqual(best * 1.05);
    }
  });
});
