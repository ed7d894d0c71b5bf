/**
 * Benchmark: Parquet libraries and encodings on our stream shapes (not a test).
 * Results and the choice they support: docs/parquet-codecs.md. From the repository root:
 *
 *   npm run bench:parquet -- [--reps 5] [--only 1h|10h]
 *
 * (which builds, then runs node dist/libs/parquet-streams/bench/parquet-codecs.js). Snappy is the
 * benchmark's own (hyparquet-writer's compressor, a devDependency): the codec has none built in.
 *
 * Everything stays in memory: writers target a buffer or an in-memory stream, readers get
 * the bytes, so disk speed does not enter the timings. Each variant's round trip is checked
 * bit for bit; "lossy" in the table means the library changed at least one value.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';

import dsnp from '@dsnp/parquetjs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

import { decodeStream, ParquetStreamCodec, type PositionSamples, type ScalarSamples, type StreamSamples, type StreamType } from '@unified-activity/parquet-streams';
import { rng } from '../../testing/seeded-random.js';
import { gpsTrack } from '../../testing/synthetic-track.js';

// ---------------------------------------------------------------------------------------
// parquetjs-lite ships no type declarations; this is the part of its API the bench uses.

interface LiteCursor {
  next(): Promise<Record<string, unknown> | null>;
}
interface LiteReader {
  getCursor(): LiteCursor;
  close(): Promise<void>;
}
interface LiteWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
interface LiteModule {
  ParquetSchema: new (fields: Record<string, LiteField>) => object;
  ParquetWriter: { openStream(schema: object, stream: Writable): Promise<LiteWriter> };
  ParquetReader: { openBuffer(buffer: Buffer): Promise<LiteReader> };
}
interface LiteField {
  type: string;
  optional?: boolean;
  compression?: string;
}

const require = createRequire(import.meta.url);
const lite = require('parquetjs-lite') as LiteModule;

// ---------------------------------------------------------------------------------------
// Data shaped like our streams, from a seeded generator so every run sees the same bytes.


const T0 = Date.UTC(2024, 4, 12, 7, 30, 0);

function timestamps(count: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => T0 + i * 1000);
}

function heartRate(count: number, random: () => number): ScalarSamples {
  let hr = 95;
  const values = Float64Array.from({ length: count }, () => {
    hr = Math.min(190, Math.max(60, hr + Math.round((random() - 0.5) * 3)));
    return hr;
  });
  return { timestamps: timestamps(count), values };
}

function power(count: number, random: () => number): ScalarSamples {
  let target = 210;
  let coasting = 0;
  const values = Float64Array.from({ length: count }, () => {
    if (coasting > 0) {
      coasting--;
      return 0;
    }
    if (random() < 0.01) coasting = 5 + Math.floor(random() * 20);
    target = Math.min(450, Math.max(120, target + (random() - 0.5) * 8));
    return Math.max(0, Math.round(target + (random() - 0.5) * 60));
  });
  return { timestamps: timestamps(count), values };
}

function speed(count: number, random: () => number): ScalarSamples {
  let v = 8;
  const values = Float64Array.from({ length: count }, () => {
    v = Math.min(16, Math.max(0, v + (random() - 0.5) * 0.4));
    return v;
  });
  return { timestamps: timestamps(count), values };
}

function altitude(count: number, random: () => number): ScalarSamples {
  let a = 420;
  let climb = 0;
  const values = Float64Array.from({ length: count }, () => {
    climb = Math.max(-0.5, Math.min(0.5, climb + (random() - 0.5) * 0.05));
    a += climb + (random() - 0.5) * 0.2;
    return a;
  });
  return { timestamps: timestamps(count), values };
}

function position(count: number, random: () => number, withAltitude: boolean): PositionSamples {
  const { latitude, longitude, altitudeM } = gpsTrack(count, random);
  return { timestamps: timestamps(count), latitude, longitude, altitudeM: withAltitude ? altitudeM : null, horizontalAccuracyM: null };
}

/** FIT files store speed in mm/s and altitude in 0.2 m steps: decimal, low-entropy doubles. */
function quantised(samples: ScalarSamples, step: number): ScalarSamples {
  return { timestamps: samples.timestamps, values: samples.values.map((v) => Math.round(v / step) / (1 / step)) };
}

interface Dataset {
  name: string;
  type: StreamType;
  samples: StreamSamples;
  integral: boolean;
}

function datasets(durations: Array<[string, number]>): Dataset[] {
  return durations.flatMap(([label, count]): Dataset[] => [
    { name: `heart_rate ${label}`, type: 'heart_rate', samples: heartRate(count, rng(1)), integral: true },
    { name: `power ${label}`, type: 'power', samples: power(count, rng(2)), integral: true },
    { name: `speed ${label}`, type: 'speed', samples: speed(count, rng(3)), integral: false },
    { name: `altitude ${label}`, type: 'altitude', samples: altitude(count, rng(4)), integral: false },
    { name: `speed mm/s (FIT) ${label}`, type: 'speed', samples: quantised(speed(count, rng(3)), 0.001), integral: false },
    { name: `altitude 0.2 m (FIT) ${label}`, type: 'altitude', samples: quantised(altitude(count, rng(4)), 0.2), integral: false },
    { name: `position lat/lng ${label}`, type: 'position', samples: position(count, rng(5), false), integral: false },
    { name: `position lat/lng/alt ${label}`, type: 'position', samples: position(count, rng(5), true), integral: false },
  ]);
}

// ---------------------------------------------------------------------------------------
// Variants: one library and configuration each, all writing the documented columns.

interface Variant {
  name: string;
  write(dataset: Dataset): Promise<Uint8Array>;
  read(bytes: Uint8Array, dataset: Dataset): Promise<StreamSamples>;
}

interface ColumnSpec {
  name: string;
  values: Float64Array;
  integral: boolean;
  optional: boolean;
}

function valueColumns(dataset: Dataset): ColumnSpec[] {
  const { samples } = dataset;
  if ('values' in samples) return [{ name: 'value', values: samples.values, integral: dataset.integral, optional: false }];
  const columns: ColumnSpec[] = [
    { name: 'latitude', values: samples.latitude, integral: false, optional: false },
    { name: 'longitude', values: samples.longitude, integral: false, optional: false },
  ];
  if (samples.altitudeM) columns.push({ name: 'altitude_m', values: samples.altitudeM, integral: false, optional: true });
  return columns;
}

function samplesFromColumns(dataset: Dataset, time: Float64Array, columns: Map<string, Float64Array>): StreamSamples {
  const get = (name: string): Float64Array => columns.get(name) ?? new Float64Array(0);
  if (dataset.type !== 'position') return { timestamps: time, values: get('value') };
  return {
    timestamps: time,
    latitude: get('latitude'),
    longitude: get('longitude'),
    altitudeM: columns.get('altitude_m') ?? null,
    horizontalAccuracyM: null,
  };
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  return Number.NaN;
}

/** A Writable that keeps what it is given, so the parquetjs writers never touch the disk. */
function memoryStream(): { stream: Writable; bytes(): Uint8Array } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, bytes: () => new Uint8Array(Buffer.concat(chunks)) };
}

async function readRows(
  cursor: { next(): Promise<unknown> },
  dataset: Dataset,
): Promise<StreamSamples> {
  const count = dataset.samples.timestamps.length;
  const names = valueColumns(dataset).map((column) => column.name);
  const time = new Float64Array(count);
  const columns = new Map(names.map((name) => [name, new Float64Array(count)]));
  let i = 0;
  for (let row = await cursor.next(); row !== null && typeof row === 'object'; row = await cursor.next(), i++) {
    const record = row as Record<string, unknown>;
    time[i] = toNumber(record.timestamp);
    for (const name of names) {
      const target = columns.get(name);
      if (target) target[i] = toNumber(record[name]);
    }
  }
  return samplesFromColumns(dataset, time, columns);
}

function liteVariant(compression: 'UNCOMPRESSED' | 'GZIP'): Variant {
  return {
    name: `parquetjs-lite 0.8.7 (ts INT64), ${compression === 'GZIP' ? 'GZIP' : 'uncompressed'}`,
    async write(dataset) {
      const fields: Record<string, LiteField> = { timestamp: { type: 'INT64', compression } };
      for (const column of valueColumns(dataset)) {
        fields[column.name] = { type: column.integral ? 'INT32' : 'DOUBLE', optional: column.optional, compression };
      }
      const { stream, bytes } = memoryStream();
      const writer = await lite.ParquetWriter.openStream(new lite.ParquetSchema(fields), stream);
      const columns = valueColumns(dataset);
      const time = dataset.samples.timestamps;
      for (let i = 0; i < time.length; i++) {
        const row: Record<string, unknown> = { timestamp: time[i] };
        for (const column of columns) row[column.name] = column.values[i];
        await writer.appendRow(row);
      }
      await writer.close();
      return bytes();
    },
    async read(bytes, dataset) {
      const reader = await lite.ParquetReader.openBuffer(Buffer.from(bytes));
      const samples = await readRows(reader.getCursor(), dataset);
      await reader.close();
      return samples;
    },
  };
}

function dsnpVariant(compression: 'UNCOMPRESSED' | 'GZIP'): Variant {
  return {
    name: `@dsnp/parquetjs 1.8.8 (TIMESTAMP_MILLIS), ${compression === 'GZIP' ? 'GZIP' : 'uncompressed'}`,
    async write(dataset) {
      const fields: Record<string, { type: 'TIMESTAMP_MILLIS' | 'INT32' | 'DOUBLE'; optional?: boolean; compression: typeof compression }> = {
        timestamp: { type: 'TIMESTAMP_MILLIS', compression },
      };
      for (const column of valueColumns(dataset)) {
        fields[column.name] = { type: column.integral ? 'INT32' : 'DOUBLE', optional: column.optional, compression };
      }
      const { stream, bytes } = memoryStream();
      // Its types ask for an fs.WriteStream, yet the writer only ever calls write() and end().
      const sink = stream as unknown as Parameters<typeof dsnp.ParquetWriter.openStream>[1];
      const writer = await dsnp.ParquetWriter.openStream(new dsnp.ParquetSchema(fields), sink);
      const columns = valueColumns(dataset);
      const time = dataset.samples.timestamps;
      for (let i = 0; i < time.length; i++) {
        const row: Record<string, unknown> = { timestamp: new Date(time[i]) };
        for (const column of columns) row[column.name] = column.values[i];
        await writer.appendRow(row);
      }
      await writer.close();
      return bytes();
    },
    async read(bytes, dataset) {
      const reader = await dsnp.ParquetReader.openBuffer(Buffer.from(bytes));
      const samples = await readRows(reader.getCursor(), dataset);
      await reader.close();
      return samples;
    },
  };
}

function hyparquetVariant(delta: boolean): Variant {
  return {
    name: delta ? 'hyparquet-writer 0.17, DELTA on ts + ints, SNAPPY' : 'hyparquet-writer 0.17 defaults (SNAPPY, auto dictionary)',
    async write(dataset) {
      const columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = [
        { name: 'timestamp', data: dataset.samples.timestamps, type: 'TIMESTAMP', nullable: false, ...(delta ? { encoding: 'DELTA_BINARY_PACKED' as const } : {}) },
      ];
      for (const column of valueColumns(dataset)) {
        columnData.push({
          name: column.name,
          data: column.integral ? Int32Array.from(column.values) : column.values,
          type: column.integral ? 'INT32' : 'DOUBLE',
          nullable: column.optional,
          ...(delta && column.integral ? { encoding: 'DELTA_BINARY_PACKED' as const } : {}),
        });
      }
      return new Uint8Array(parquetWriteBuffer({ columnData }));
    },
    async read(bytes, dataset) {
      return (await decodeStream(bytes, dataset.type)).samples;
    },
  };
}

/**
 * hyparquet-writer with the same columns, encodings and compression as our 'fixed' variant (DOUBLE
 * values, DELTA timestamps, BYTE_STREAM_SPLIT doubles, GZIP-6 from node:zlib): the writer the codec
 * used before its own, compared like for like.
 */
function hyparquetSameEncodingsVariant(): Variant {
  return {
    name: 'hyparquet-writer 0.17, our schema and fixed encodings, GZIP-6',
    async write(dataset) {
      const columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = [
        { name: 'timestamp', data: dataset.samples.timestamps, type: 'TIMESTAMP', nullable: false, encoding: 'DELTA_BINARY_PACKED' },
      ];
      for (const column of valueColumns(dataset)) {
        const data = column.optional ? Array.from(column.values, (v) => (Number.isNaN(v) ? null : v)) : column.values;
        columnData.push({ name: column.name, data, type: 'DOUBLE', nullable: column.optional, encoding: 'BYTE_STREAM_SPLIT' });
      }
      return new Uint8Array(
        parquetWriteBuffer({
          columnData,
          codec: 'GZIP',
          compressors: { GZIP: (input: Uint8Array) => gzipSync(input, { level: 6 }) },
          rowGroupSize: 1 << 20,
          kvMetadata: [
            { key: 'stream_type', value: dataset.type },
            { key: 'schema_version', value: '2' },
          ],
        }),
      );
    },
    async read(bytes, dataset) {
      return (await decodeStream(bytes, dataset.type)).samples;
    },
  };
}

function ourVariant(name: string, codec: ParquetStreamCodec): Variant {
  return {
    name,
    async write(dataset) {
      return codec.encode(dataset.type, dataset.samples);
    },
    async read(bytes) {
      return (await codec.decode(bytes)).samples;
    },
  };
}

const PICK = 'ours: ParquetStreamCodec adaptive, ZSTD-14 (default)';

const VARIANTS: Variant[] = [
  liteVariant('UNCOMPRESSED'),
  liteVariant('GZIP'),
  dsnpVariant('UNCOMPRESSED'),
  dsnpVariant('GZIP'),
  hyparquetVariant(false),
  hyparquetVariant(true),
  hyparquetSameEncodingsVariant(),
  ourVariant('ours: fixed (DELTA timestamps, BYTE_STREAM_SPLIT doubles), GZIP-6', new ParquetStreamCodec({ compression: 'GZIP', encodingStrategy: 'fixed' })),
  ourVariant('ours: adaptive, GZIP-6 (the default before issue 24)', new ParquetStreamCodec({ compression: 'GZIP' })),
  ourVariant('ours: adaptive, SNAPPY', new ParquetStreamCodec({ compression: 'SNAPPY', snappyCompress })),
  ourVariant(PICK, new ParquetStreamCodec()),
  ourVariant('ours: adaptive, BROTLI-9', new ParquetStreamCodec({ compression: 'BROTLI' })),
];

// ---------------------------------------------------------------------------------------
// Measurement

function sameBits(a: Float64Array | null, b: Float64Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function roundTripExact(actual: StreamSamples, expected: StreamSamples): boolean {
  if (!sameBits(actual.timestamps, expected.timestamps)) return false;
  if ('values' in expected) return 'values' in actual && sameBits(actual.values, expected.values);
  return (
    'latitude' in actual &&
    sameBits(actual.latitude, expected.latitude) &&
    sameBits(actual.longitude, expected.longitude) &&
    sameBits(actual.altitudeM, expected.altitudeM)
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Result {
  dataset: string;
  samples: number;
  variant: string;
  writeMs: number;
  readMs: number;
  bytes: number;
  exact: boolean;
}

async function measure(dataset: Dataset, variant: Variant, reps: number): Promise<Result> {
  const writes: number[] = [];
  const reads: number[] = [];
  let bytes: Uint8Array = new Uint8Array(0);
  let exact = true;
  // One untimed round first, so JIT warm-up is not billed to the first library.
  for (let rep = -1; rep < reps; rep++) {
    const writeStart = performance.now();
    bytes = await variant.write(dataset);
    const written = performance.now();
    const decoded = await variant.read(bytes, dataset);
    const read = performance.now();
    if (rep >= 0) {
      writes.push(written - writeStart);
      reads.push(read - written);
    }
    exact &&= roundTripExact(decoded, dataset.samples);
  }
  return {
    dataset: dataset.name,
    samples: dataset.samples.timestamps.length,
    variant: variant.name,
    writeMs: median(writes),
    readMs: median(reads),
    bytes: bytes.byteLength,
    exact,
  };
}

function packageVersion(name: string): string {
  try {
    const manifest: unknown = JSON.parse(readFileSync(join(process.cwd(), 'node_modules', name, 'package.json'), 'utf8'));
    if (typeof manifest === 'object' && manifest !== null && 'version' in manifest) return String(manifest.version);
  } catch {
    // Run from elsewhere than the repository root: versions are then simply not shown.
  }
  return '?';
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const reps = Number(argument('reps') ?? 5);
  const only = argument('only');
  const durations: Array<[string, number]> = [
    ['1 h', 3600],
    ['10 h', 36_000],
  ];
  const selected = durations.filter(([label]) => only === undefined || label.replace(' ', '') === only);

  const cpu = cpus();
  console.log(`Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`);
  console.log(
    `Libraries: hyparquet ${packageVersion('hyparquet')}, hyparquet-writer ${packageVersion('hyparquet-writer')}, ` +
      `parquetjs-lite ${packageVersion('parquetjs-lite')}, @dsnp/parquetjs ${packageVersion('@dsnp/parquetjs')}`,
  );
  console.log(`Repetitions: ${reps} timed (+1 warm-up) per cell; times are medians, in memory (no disk).\n`);

  const results: Result[] = [];
  for (const dataset of datasets(selected)) {
    for (const variant of VARIANTS) {
      results.push(await measure(dataset, variant, reps));
    }
  }

  const baseline = new Map(results.filter((r) => r.variant === VARIANTS[0]?.name).map((r) => [r.dataset, r.bytes]));
  console.log('| Stream | Library / configuration | Write ms | Read ms | Bytes | B/sample | vs lite | Round trip |');
  console.log('|---|---|--:|--:|--:|--:|--:|---|');
  for (const r of results) {
    const ratio = r.bytes / (baseline.get(r.dataset) ?? r.bytes);
    const name = r.variant === PICK ? `**${r.variant}**` : r.variant;
    console.log(
      `| ${r.dataset} | ${name} | ${r.writeMs.toFixed(1)} | ${r.readMs.toFixed(1)} | ${r.bytes.toLocaleString('en-US')} | ` +
        `${(r.bytes / r.samples).toFixed(3)} | ${ratio.toFixed(2)} | ${r.exact ? 'exact' : 'LOSSY'} |`,
    );
  }

  console.log('\nBytes per sample (one row per stream):\n');
  const shortNames = VARIANTS.map((variant, i) => `V${i + 1}`);
  console.log(`| Stream | ${shortNames.join(' | ')} |`);
  console.log(`|---|${shortNames.map(() => '--:').join('|')}|`);
  for (const dataset of [...new Set(results.map((r) => r.dataset))]) {
    const cells = VARIANTS.map((variant) => {
      const r = results.find((x) => x.dataset === dataset && x.variant === variant.name);
      return r ? (r.bytes / r.samples).toFixed(3) : '';
    });
    console.log(`| ${dataset} | ${cells.join(' | ')} |`);
  }
  console.log('');
  VARIANTS.forEach((variant, i) => console.log(`- V${i + 1}: ${variant.name}`));
}

await main();
