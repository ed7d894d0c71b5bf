/**
 * Parquet codec for activity streams (DATA-MODEL §10).
 *
 * File layout, one physical schema per stream type in every object (docs/data-model.md, "Parquet
 * schemas"): `timestamp` INT64 TIMESTAMP(MILLIS, UTC) required, then either one `value` DOUBLE
 * required (scalar streams) or `latitude`, `longitude` DOUBLE required plus `altitude_m`,
 * `horizontal_accuracy_m` DOUBLE optional, always present, null where a fix has none (position).
 * File-level key-value metadata carries `stream_type` and `schema_version`.
 *
 * Everything written is standard Parquet (data page v2; DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT,
 * PLAIN, RLE_DICTIONARY; ZSTD by default, GZIP on a Node without zstd) so DuckDB, Spark or pyarrow
 * read the lake directly.
 * Writing is ./writer/ (single-pass encoders for exactly these columns); reading is hyparquet.
 * The parquetjs family cannot read these files (no DELTA or BYTE_STREAM_SPLIT, v1 pages only).
 * Measurements behind the choices are in docs/parquet-codecs.md.
 */
import * as zlib from 'node:zlib';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

import { parquetSchema, type FileMetaData, type SchemaElement as ReadSchemaElement } from 'hyparquet';

import { gather, mustGet, optionalColumn, readColumns, rowGroupsOverlapping, rowsToKeep, selectRange, sortedOrder, type NumericColumn } from './column-readers.js';
import { StreamCodecError } from './errors.js';
import { assertBoundedWork, assertReadableCodecs, assertReadableColumn, cappedDecompressors, readMetadata, toArrayBuffer } from './read-guards.js';
import { isPositionSamples, isStreamType, type PositionSamples, type ScalarSamples, type StreamSamples, type StreamType } from './samples.js';
import { SCHEMA_VERSION_METADATA_KEY, STREAM_COLUMNS, STREAM_SCHEMA_VERSION, STREAM_TYPE_METADATA_KEY, PARQUET_CONTENT_TYPE } from './schema.js';
import { chooseDoubleEncoding } from './writer/encoding-choice.js';
import { writeParquet, type DoubleEncoding, type PageCompressor, type WriterColumn } from './writer/write-parquet.js';

export interface DecodeLimits {
  /** Files whose footer declares more rows are refused (TOO_MANY_ROWS) before any column is read. */
  maxRows?: number;
  /**
   * Only the samples at or after `fromMs` and before `toMs` (epoch ms, half-open). Only the row
   * groups whose timestamp statistics overlap the range are decoded (see rowGroupRows); a file of
   * one group (objects written before the layout had several, files of other tools) is decoded
   * whole and sliced.
   */
  range?: TimeRange;
  /** Called with each byte range of the file the reader reads (after the footer): what a range read costs. */
  onRead?: (start: number, end: number) => void;
}

/** A half-open interval of epoch milliseconds: [fromMs, toMs). */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** Rows accepted by default; the API passes its own limit (MAX_SAMPLES). */
export const DEFAULT_MAX_ROWS = 2_000_000;

export interface DecodedStream {
  /** From the file's metadata, else the caller's expectation, else inferred (position only). */
  type: StreamType | undefined;
  /** undefined for files written by other tools without our metadata. */
  schemaVersion: number | undefined;
  samples: StreamSamples;
}

/** The seam that lets storage code swap the file format or the library behind it. */
export interface StreamCodec {
  readonly format: 'parquet';
  readonly schemaVersion: number;
  readonly contentType: string;
  encode(type: StreamType, samples: StreamSamples): Uint8Array;
  /**
   * Asynchronous because the Parquet reader's API is; no I/O happens.
   * When `expectedType` is given, a file declaring another type is rejected, and a file
   * without a declaration is read as that type.
   */
  decode(bytes: Uint8Array, expectedType?: StreamType, limits?: DecodeLimits): Promise<DecodedStream>;
}

export type StreamCompression = 'ZSTD' | 'GZIP' | 'BROTLI' | 'SNAPPY' | 'UNCOMPRESSED';

export interface ParquetStreamCodecOptions {
  /**
   * Page compression for every column. ZSTD (default, level 14, from node:zlib on Node ≥ 22.15) is
   * read by DuckDB, Spark, Trino, pyarrow and Polars; on the real FIT files of bench:lake it stores
   * 5 % less than GZIP-6 with the same encodings (docs/parquet-codecs.md). On a Node without zstd
   * the default is GZIP, readable by every Parquet implementation. BROTLI is smaller still at
   * quality 11 but ~8× slower to write, and reader support is patchy (DuckDB only since 1.1;
   * parquet-java needs an extra native codec). SNAPPY (what most writers default to) is never
   * written by the server: it needs `snappyCompress`, which only the tests and the benchmark pass
   * (node:zlib has no Snappy; reading it needs nothing, hyparquet has a decoder).
   */
  compression?: StreamCompression;
  /** Compresses one page with Snappy; required with `compression: 'SNAPPY'`, unused otherwise. */
  snappyCompress?: PageCompressor;
  /** zlib level for GZIP, 1–9; 6 by default, since 9 takes twice as long for files < 0.1 % smaller. */
  gzipLevel?: number;
  /** Brotli quality, 0–11. */
  brotliQuality?: number;
  /** zstd level, 1–22. */
  zstdLevel?: number;
  /**
   * 'adaptive' (default) picks each double column's encoding from cheap statistics of its values
   * (distinct count, significand length, how often values come back; see chooseDoubleEncoding);
   * 'fixed' always uses BYTE_STREAM_SPLIT. Timestamps are always DELTA_BINARY_PACKED.
   */
  encodingStrategy?: 'adaptive' | 'fixed';
  /** Rows per row group, for every file; by default rowGroupRows decides from the stream's length. */
  rowGroupSize?: number;
}

/** Streams up to this many samples (9.1 h at 1 Hz) are one row group, as every object was before issue 24. */
export const SINGLE_ROW_GROUP_MAX_ROWS = 32_768;
/** Rows of the smallest row group of a longer stream. */
export const MIN_ROW_GROUP_ROWS = 4096;
/** Row groups of a long stream at most: enough that a slice of a tenth decodes little more than a tenth. */
export const MAX_ROW_GROUPS = 16;
/** Stored bytes of page data per row group at least, so that a group's own bytes stay a small part of it. */
export const MIN_ROW_GROUP_BYTES = 2048;

/**
 * Rows per row group for a stream of `rows` samples whose pages would take about `dataBytes`.
 * Time ranges are read by row group (each group's timestamp statistics say which instants it
 * holds), but every extra group costs bytes: its footer entry, page headers, a fresh zstd frame,
 * and for a dictionary column a dictionary of its own — 100–500 B per column, +13 % on the real
 * files of bench:lake with groups of 4,096 rows. So a stream stays one group up to
 * SINGLE_ROW_GROUP_MAX_ROWS samples (a range of it decodes the whole object, a few milliseconds) or
 * when its pages are small (a long recording of a constant value); a longer one is split into up to
 * MAX_ROW_GROUPS groups of at least MIN_ROW_GROUP_ROWS rows and MIN_ROW_GROUP_BYTES of pages. 10 h
 * of 1 Hz position: 9 groups; 10 h of 1 Hz heart rate (~13 KB): 8; 2,000,000 samples: 16.
 * Measured in docs/parquet-codecs.md ("Row groups for time ranges").
 */
export function rowGroupRows(rows: number, dataBytes: number): number {
  if (rows <= SINGLE_ROW_GROUP_MAX_ROWS) return Math.max(1, rows);
  const groups = Math.min(MAX_ROW_GROUPS, Math.floor(dataBytes / MIN_ROW_GROUP_BYTES), Math.ceil(rows / MIN_ROW_GROUP_ROWS));
  return groups < 2 ? rows : Math.ceil(rows / groups);
}

/** Pages kept by rememberingRecentPages: enough for the timestamp pages of one activity's streams. */
const REMEMBERED_PAGES = 16;
/** Larger pages are compressed every time (a long stream's pages are long, and its timestamps are written once per type). */
const REMEMBERED_PAGE_BYTES = 256 * 1024;

/**
 * A page compressor that answers a page equal, byte for byte, to one of the last few it compressed
 * with that page's compressed bytes instead of compressing it again. The streams of one activity
 * share their timestamps, so an import wrote the same timestamp pages once per stream type (seven
 * times for a ride, each at ZSTD-14: most of a small file's compression CPU, issue 24 item 4). The
 * compressors are deterministic (the same bytes and options give the same output), so every object
 * stays byte-identical. A page's bytes are copied when kept: the writer may reuse its buffers.
 */
function rememberingRecentPages(compress: PageCompressor): { compress: PageCompressor; forget(): void } {
  const recent = new Map<string, { input: Uint8Array; output: Uint8Array }[]>();
  let kept = 0;
  const forget = () => {
    recent.clear();
    kept = 0;
  };
  const remembering: PageCompressor = (input) => {
    if (input.length > REMEMBERED_PAGE_BYTES) return compress(input);
    const key = `${input.length}:${zlib.crc32(input)}`;
    const candidates = recent.get(key);
    const known = candidates?.find((entry) => Buffer.compare(entry.input, input) === 0);
    if (known) return known.output;
    const output = compress(input);
    recent.delete(key);
    recent.set(key, [...(candidates ?? []), { input: input.slice(), output }]);
    kept++;
    while (kept > REMEMBERED_PAGES) {
      const [oldestKey, oldest] = recent.entries().next().value!;
      kept -= oldest.length;
      recent.delete(oldestKey);
    }
    return output;
  };
  return { compress: remembering, forget };
}

/** node:zlib's zstd (Node ≥ 22.15, 23.8); undefined on older Node, where GZIP is written instead. */
const zstdCompressSync = (zlib as Partial<typeof zlib>).zstdCompressSync;
const DEFAULT_COMPRESSION: StreamCompression = zstdCompressSync === undefined ? 'GZIP' : 'ZSTD';
const DEFAULT_ZSTD_LEVEL = 14;

export class ParquetStreamCodec implements StreamCodec {
  readonly format = 'parquet';
  readonly schemaVersion = STREAM_SCHEMA_VERSION;
  readonly contentType = PARQUET_CONTENT_TYPE;

  private readonly compression: StreamCompression;
  private readonly strategy: 'adaptive' | 'fixed';
  private readonly rowGroupSize: number | undefined;
  private readonly compress: PageCompressor | undefined;
  private readonly forgetPages: (() => void) | undefined;

  constructor(options: ParquetStreamCodecOptions = {}) {
    this.compression = options.compression ?? DEFAULT_COMPRESSION;
    if (this.compression === 'ZSTD' && zstdCompressSync === undefined) {
      throw new TypeError("compression 'ZSTD' needs node:zlib's zstd (Node ≥ 22.15)");
    }
    this.strategy = options.encodingStrategy ?? 'adaptive';
    this.rowGroupSize = options.rowGroupSize;
    const gzipLevel = options.gzipLevel ?? 6;
    const brotliQuality = options.brotliQuality ?? 9;
    const zstdLevel = options.zstdLevel ?? DEFAULT_ZSTD_LEVEL;
    const compressors: Record<StreamCompression, PageCompressor | undefined> = {
      // A window no larger than the page gives the same bytes and spares zlib most of its setup.
      GZIP: (input) => gzipSync(input, { level: gzipLevel, windowBits: zlibWindowBits(input.length) }),
      BROTLI: (input) =>
        brotliCompressSync(input, {
          params: {
            [zlibConstants.BROTLI_PARAM_QUALITY]: brotliQuality,
            [zlibConstants.BROTLI_PARAM_SIZE_HINT]: input.length,
          },
        }),
      ZSTD: (input) =>
        zstdCompressSync!(input, {
          params: { [zlibConstants.ZSTD_c_compressionLevel]: zstdLevel },
          pledgedSrcSize: input.length,
        }),
      SNAPPY: options.snappyCompress,
      UNCOMPRESSED: undefined,
    };
    if (this.compression === 'SNAPPY' && options.snappyCompress === undefined) {
      throw new TypeError("compression 'SNAPPY' needs a snappyCompress function (node:zlib has no Snappy)");
    }
    const compress = compressors[this.compression];
    const remembering = compress && rememberingRecentPages(compress);
    this.compress = remembering?.compress;
    this.forgetPages = remembering?.forget;
  }

  /** Forgets the pages compressed so far (rememberingRecentPages): bench:import measures each step from a cold start. */
  forgetRecentPages(): void {
    this.forgetPages?.();
  }

  encode(type: StreamType, samples: StreamSamples): Uint8Array {
    if (!isStreamType(type)) {
      throw new StreamCodecError('UNKNOWN_STREAM_TYPE', `Unknown stream type: ${String(type)}`);
    }
    const columns: WriterColumn[] = [timestampColumn(samples.timestamps)];
    const encoding = (values: Float64Array, optional: boolean): DoubleEncoding | readonly DoubleEncoding[] =>
      this.strategy === 'fixed' ? 'BYTE_STREAM_SPLIT' : chooseDoubleEncoding(values, optional);
    if (type === 'position') {
      if (!isPositionSamples(samples)) {
        throw new StreamCodecError('INVALID_SAMPLES', 'A position stream needs latitude and longitude samples');
      }
      columns.push(...positionColumns(samples, encoding));
    } else {
      if (isPositionSamples(samples)) {
        throw new StreamCodecError('INVALID_SAMPLES', `A ${type} stream needs scalar samples, not positions`);
      }
      columns.push(scalarValueColumn(samples, encoding));
    }
    return this.write(columns, type, this.rowGroupSize ?? this.rowGroupRowsFor(columns, type));
  }

  private write(columns: WriterColumn[], type: StreamType, rowGroupSize: number): Uint8Array {
    return writeParquet({
      columns,
      codec: this.compression,
      compress: this.compress,
      rowGroupSize,
      keyValueMetadata: [
        { key: STREAM_TYPE_METADATA_KEY, value: type },
        { key: SCHEMA_VERSION_METADATA_KEY, value: String(STREAM_SCHEMA_VERSION) },
      ],
    });
  }

  /**
   * rowGroupRows for these columns: a long stream's page bytes are estimated from its first
   * MIN_ROW_GROUP_ROWS rows written as a file of their own (its footer aside), a few milliseconds.
   */
  private rowGroupRowsFor(columns: WriterColumn[], type: StreamType): number {
    const rows = columns[0]!.values.length;
    if (rows <= SINGLE_ROW_GROUP_MAX_ROWS) return rowGroupRows(rows, 0);
    const probe = this.write(
      columns.map((column) => ({ ...column, values: column.values.subarray(0, MIN_ROW_GROUP_ROWS) })),
      type,
      MIN_ROW_GROUP_ROWS,
    );
    const footer = new DataView(probe.buffer, probe.byteOffset, probe.byteLength).getUint32(probe.byteLength - 8, true);
    const pageBytes = probe.byteLength - footer - 12;
    return rowGroupRows(rows, (pageBytes * rows) / MIN_ROW_GROUP_ROWS);
  }

  async decode(bytes: Uint8Array, expectedType?: StreamType, limits: DecodeLimits = {}): Promise<DecodedStream> {
    if (expectedType !== undefined && !isStreamType(expectedType)) {
      throw new StreamCodecError('UNKNOWN_STREAM_TYPE', `Unknown stream type: ${String(expectedType)}`);
    }
    const file = toArrayBuffer(bytes);
    const metadata = readMetadata(file);
    const { declaredType, schemaVersion } = readStreamMetadata(metadata);
    if (expectedType !== undefined && declaredType !== undefined && declaredType !== expectedType) {
      throw new StreamCodecError(
        'STREAM_TYPE_MISMATCH',
        `The file holds a ${declaredType} stream, not ${expectedType}`,
      );
    }
    const elements = topLevelElements(metadata);
    const type = declaredType ?? expectedType ?? (elements.has(STREAM_COLUMNS.latitude) ? 'position' : undefined);
    const isPosition = type === 'position';

    const required: string[] = isPosition
      ? [STREAM_COLUMNS.timestamp, STREAM_COLUMNS.latitude, STREAM_COLUMNS.longitude]
      : [STREAM_COLUMNS.timestamp, STREAM_COLUMNS.value];
    const optional: string[] = isPosition ? [STREAM_COLUMNS.altitudeM, STREAM_COLUMNS.horizontalAccuracyM] : [];
    for (const name of required) {
      if (!elements.has(name)) {
        throw new StreamCodecError(
          'MISSING_COLUMN',
          `Required column "${name}" is missing (${type ?? 'scalar'} stream; found: ${[...elements.keys()].join(', ') || 'none'})`,
        );
      }
    }
    const present = optional.filter((name) => elements.has(name));
    const columns = [...required, ...present];
    for (const name of columns) {
      const element = elements.get(name);
      if (element !== undefined) assertReadableColumn(element, name === STREAM_COLUMNS.timestamp);
    }
    assertReadableCodecs(metadata, columns);
    const decodedByteCap = assertBoundedWork(metadata, columns, limits.maxRows ?? DEFAULT_MAX_ROWS);

    const groups = limits.range ? rowGroupsOverlapping(metadata, limits.range) : undefined;
    const numeric = await readColumns(file, metadata, columns, cappedDecompressors(decodedByteCap), { groups, onRead: limits.onRead });
    const timestamps = mustGet(numeric, STREAM_COLUMNS.timestamp);

    // A row without an instant or without its required values is no sample at all.
    const keep = rowsToKeep(timestamps, required.slice(1).map((name) => mustGet(numeric, name)));
    const order = sortedOrder(timestamps.values, keep);
    const selection = selectRange(timestamps.values, order, limits.range);
    const pick = (column: NumericColumn): Float64Array => gather(column, selection);
    const pickOptional = (column: NumericColumn | undefined) => optionalColumn(column, selection);

    const samples: StreamSamples = isPosition
      ? {
          timestamps: pick(timestamps),
          latitude: pick(mustGet(numeric, STREAM_COLUMNS.latitude)),
          longitude: pick(mustGet(numeric, STREAM_COLUMNS.longitude)),
          altitudeM: pickOptional(numeric.get(STREAM_COLUMNS.altitudeM)),
          horizontalAccuracyM: pickOptional(numeric.get(STREAM_COLUMNS.horizontalAccuracyM)),
        }
      : { timestamps: pick(timestamps), values: pick(mustGet(numeric, STREAM_COLUMNS.value)) };
    return { type, schemaVersion, samples };
  }
}

/** The smallest deflate window (2^9 … 2^15 bytes) that spans the whole input. */
function zlibWindowBits(length: number): number {
  return Math.max(9, Math.min(15, Math.ceil(Math.log2(length + 262))));
}

export const parquetStreamCodec: ParquetStreamCodec = new ParquetStreamCodec();

export function encodeStream(type: StreamType, samples: StreamSamples): Uint8Array {
  return parquetStreamCodec.encode(type, samples);
}

export function decodeStream(bytes: Uint8Array, expectedType?: StreamType, limits?: DecodeLimits): Promise<DecodedStream> {
  return parquetStreamCodec.decode(bytes, expectedType, limits);
}

// ---------------------------------------------------------------------------------------
// Encoding

function timestampColumn(timestamps: Float64Array): WriterColumn {
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i]!;
    if (!Number.isSafeInteger(t)) {
      throw new StreamCodecError('INVALID_SAMPLES', `timestamps[${i}] = ${t} is not a whole number of epoch milliseconds`);
    }
    // Downsampling, range reads and DuckDB's row-group pruning all rely on time order.
    if (t < previous) {
      throw new StreamCodecError('INVALID_SAMPLES', `timestamps[${i}] = ${t} is earlier than the sample before it`);
    }
    previous = t;
  }
  return { kind: 'timestamp', name: STREAM_COLUMNS.timestamp, values: timestamps };
}

type EncodingChoice = (values: Float64Array, optional: boolean) => DoubleEncoding | readonly DoubleEncoding[];

/**
 * `value` is always DOUBLE (schema_version 2): one physical type for every object of every scalar
 * stream type, so a glob over the lake reads every value exactly. Version 1 stored whole-number
 * series as INT32, which made DuckDB take INTEGER from one file and round the doubles of the next;
 * such objects are still read (read-time upgrade to float64, see decode).
 */
function scalarValueColumn(samples: ScalarSamples, encoding: EncodingChoice): WriterColumn {
  const { values, timestamps } = samples;
  assertSameLength('values', values, timestamps.length);
  assertFinite('values', values);
  return { kind: 'double', name: STREAM_COLUMNS.value, optional: false, values, encoding: encoding(values, false) };
}

/**
 * Doubles are stored as DOUBLE, never scaled to integers, so every bit survives (the dictionary
 * keys values by their 64 bits, so -0 stays -0). NaN marks "no value" in an optional position
 * column and is written as a Parquet NULL.
 */
function positionColumns(samples: PositionSamples, encoding: EncodingChoice): WriterColumn[] {
  const count = samples.timestamps.length;
  const columns: WriterColumn[] = [];
  const required: Array<[string, Float64Array]> = [
    [STREAM_COLUMNS.latitude, samples.latitude],
    [STREAM_COLUMNS.longitude, samples.longitude],
  ];
  for (const [name, values] of required) {
    assertSameLength(name, values, count);
    assertFinite(name, values);
    columns.push({ kind: 'double', name, optional: false, values, encoding: encoding(values, false) });
  }
  // Always both, in this order, OPTIONAL DOUBLE (schema_version 3): a stream without them writes
  // all-null columns (a few bytes), so that every position object has one physical schema.
  const optional: Array<[string, Float64Array | null]> = [
    [STREAM_COLUMNS.altitudeM, samples.altitudeM],
    [STREAM_COLUMNS.horizontalAccuracyM, samples.horizontalAccuracyM],
  ];
  for (const [name, given] of optional) {
    const values = given ?? new Float64Array(count).fill(Number.NaN);
    assertSameLength(name, values, count);
    assertFiniteOrNaN(name, values);
    columns.push({ kind: 'double', name, optional: true, values, encoding: encoding(values, true) });
  }
  return columns;
}

function assertSameLength(name: string, values: Float64Array | null | undefined, count: number): void {
  if (!(values instanceof Float64Array)) {
    throw new StreamCodecError('INVALID_SAMPLES', `${name} must be a Float64Array`);
  }
  if (values.length !== count) {
    throw new StreamCodecError('INVALID_SAMPLES', `${name} has ${values.length} samples but there are ${count} timestamps`);
  }
}

function assertFinite(name: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new StreamCodecError('INVALID_SAMPLES', `${name}[${i}] = ${v} is not a finite number`);
    }
  }
}

function assertFiniteOrNaN(name: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      throw new StreamCodecError('INVALID_SAMPLES', `${name}[${i}] = ${v} is not a finite number`);
    }
  }
}

function readStreamMetadata(metadata: FileMetaData): { declaredType: StreamType | undefined; schemaVersion: number | undefined } {
  const entries = new Map((metadata.key_value_metadata ?? []).map((entry) => [entry.key, entry.value]));
  const rawType = entries.get(STREAM_TYPE_METADATA_KEY);
  if (rawType !== undefined && !isStreamType(rawType)) {
    throw new StreamCodecError('UNKNOWN_STREAM_TYPE', `The file declares an unknown stream type: ${rawType}`);
  }
  const rawVersion = entries.get(SCHEMA_VERSION_METADATA_KEY);
  let schemaVersion: number | undefined;
  if (rawVersion !== undefined) {
    schemaVersion = Number(rawVersion);
    if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > STREAM_SCHEMA_VERSION) {
      throw new StreamCodecError(
        'UNSUPPORTED_SCHEMA_VERSION',
        `Stream schema_version ${rawVersion} is not supported (this code reads 1..${STREAM_SCHEMA_VERSION})`,
      );
    }
  }
  return { declaredType: rawType, schemaVersion };
}

function topLevelElements(metadata: FileMetaData): Map<string, ReadSchemaElement> {
  const tree = parquetSchema(metadata);
  const elements = new Map<string, ReadSchemaElement>();
  for (const child of tree.children) {
    if (child.children.length > 0) continue;
    elements.set(child.element.name, child.element);
  }
  for (const child of tree.children) {
    if (child.children.length > 0 && Object.values(STREAM_COLUMNS).some((name) => name === child.element.name)) {
      throw new StreamCodecError('UNSUPPORTED_COLUMN_TYPE', `Column "${child.element.name}" is a nested group, not a number`);
    }
  }
  return elements;
}
