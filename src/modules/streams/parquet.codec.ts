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
 * PLAIN, RLE_DICTIONARY; GZIP by default) so DuckDB, Spark or pyarrow read the lake directly.
 * Writing is ./parquet-writer.ts (single-pass encoders for exactly these columns); reading is hyparquet.
 * The parquetjs family cannot read these files (no DELTA or BYTE_STREAM_SPLIT, v1 pages only).
 * Measurements behind the choices are in docs/parquet-codecs.md.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, gzipSync, unzipSync } from 'node:zlib';

import {
  parquetMetadata,
  parquetSchema,
  parquetRead,
  snappyUncompress,
  type CompressionCodec,
  type Compressors as ReadCompressors,
  type DecodedArray,
  type FileMetaData,
  type ParquetParsers,
  type SchemaElement as ReadSchemaElement,
} from 'hyparquet';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

import { chooseDoubleEncoding, writeParquet, type DoubleEncoding, type PageCompressor, type WriterColumn } from './parquet-writer.js';

import {
  isPositionSamples,
  isStreamType,
  type PositionSamples,
  type ScalarSamples,
  type StreamSamples,
  type StreamType,
} from './stream-types.js';

/**
 * 1: `value` INT32 when every sample was whole, DOUBLE otherwise (read, never written).
 * 2: `value` always DOUBLE; a position object has `altitude_m` and `horizontal_accuracy_m` only when
 *    its stream has them (read, never written).
 * 3: position always has both optional columns (all null when the stream has none of them);
 *    scalar objects are laid out as in 2.
 */
export const STREAM_SCHEMA_VERSION = 3;

/**
 * The first schema_version whose physical layout is the current one, per stream type: an object
 * older than that is rewritten by the upgrade (`npm run streams:sweep -- --apply`, and once at
 * boot), so that a glob over one type reads one schema (docs/data-model.md, "Parquet schemas").
 * Scalar objects of version 2 already have version 3's layout and are left as they are.
 */
export const CURRENT_LAYOUT_SINCE: Readonly<{ scalar: number; position: number }> = { scalar: 2, position: 3 };

export function hasCurrentLayout(type: StreamType, schemaVersion: number): boolean {
  return schemaVersion >= (type === 'position' ? CURRENT_LAYOUT_SINCE.position : CURRENT_LAYOUT_SINCE.scalar);
}
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';
export const STREAM_TYPE_METADATA_KEY = 'stream_type';
export const SCHEMA_VERSION_METADATA_KEY = 'schema_version';

export const STREAM_COLUMNS = {
  timestamp: 'timestamp',
  value: 'value',
  latitude: 'latitude',
  longitude: 'longitude',
  altitudeM: 'altitude_m',
  horizontalAccuracyM: 'horizontal_accuracy_m',
} as const;

export type StreamCodecErrorCode =
  /** The bytes are not a readable Parquet file. */
  | 'INVALID_PARQUET'
  /** A column the stream type needs is absent. */
  | 'MISSING_COLUMN'
  /** A column exists but its Parquet type cannot hold the stream's numbers. */
  | 'UNSUPPORTED_COLUMN_TYPE'
  /** The file uses a compression codec this build cannot decompress (e.g. ZSTD, LZ4). */
  | 'UNSUPPORTED_COMPRESSION'
  /** The stream type is not one of STREAM_TYPES. */
  | 'UNKNOWN_STREAM_TYPE'
  /** The file declares a different stream type than the caller expects. */
  | 'STREAM_TYPE_MISMATCH'
  /** The file was written by a newer schema than this code understands. */
  | 'UNSUPPORTED_SCHEMA_VERSION'
  /** Samples handed to encode break an invariant (lengths, timestamps, finiteness). */
  | 'INVALID_SAMPLES'
  /** A stored number cannot be represented exactly as a float64 (an INT64 beyond 2^53). */
  | 'INVALID_VALUE'
  /** The footer declares more rows than the caller accepts; nothing beyond the footer was read. */
  | 'TOO_MANY_ROWS'
  /** The footer or a page header declares more decoded bytes than its rows can need (a decompression bomb). */
  | 'TOO_LARGE';

export class StreamCodecError extends Error {
  override readonly name = 'StreamCodecError';

  constructor(
    readonly code: StreamCodecErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DecodeLimits {
  /** Files whose footer declares more rows are refused (TOO_MANY_ROWS) before any column is read. */
  maxRows?: number;
}

/** Rows accepted by default; the API passes its own limit (MAX_SAMPLES). */
export const DEFAULT_MAX_ROWS = 2_000_000;
/**
 * Decoded bytes a column may declare per row (8 for a DOUBLE or INT64 plus levels and encoding
 * overhead, generously), plus a fixed allowance per column chunk for headers and dictionaries.
 */
const MAX_DECODED_BYTES_PER_ROW = 16;
const DECODED_BYTES_ALLOWANCE = 1 << 20;

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

export type StreamCompression = 'GZIP' | 'BROTLI' | 'SNAPPY' | 'UNCOMPRESSED';

export interface ParquetStreamCodecOptions {
  /**
   * Page compression for every column. GZIP (default) is readable by every Parquet
   * implementation. BROTLI is usually 0–9 % smaller (up to half on quantised series) but
   * 2–5× slower to write, and reader support is patchy (DuckDB only since 1.1; parquet-java
   * needs an extra native codec). Both come from node:zlib, so no extra package is needed;
   * ZSTD would need one on Node 20 and measured only ~2 % below GZIP.
   */
  compression?: StreamCompression;
  /** zlib level for GZIP, 1–9; 6 by default, since 9 takes twice as long for files < 0.1 % smaller. */
  gzipLevel?: number;
  /** Brotli quality, 0–11. */
  brotliQuality?: number;
  /**
   * 'adaptive' (default) picks each double column's encoding from cheap statistics of its values
   * (distinct count, significand length, how often values come back; see chooseDoubleEncoding);
   * 'fixed' always uses BYTE_STREAM_SPLIT. Timestamps are always DELTA_BINARY_PACKED.
   */
  encodingStrategy?: 'adaptive' | 'fixed';
  /** Rows per row group; one group per file suits every realistic activity. */
  rowGroupSize?: number;
}

const DEFAULT_ROW_GROUP_SIZE = 1 << 20;

const READABLE_CODECS: ReadonlySet<CompressionCodec> = new Set<CompressionCodec>([
  'UNCOMPRESSED',
  'SNAPPY',
  'GZIP',
  'BROTLI',
]);

/**
 * Decompressors that never produce more than the page header declares, nor more than `cap` bytes
 * (the largest column chunk the footer declared, itself bounded by the row count): a small page that
 * inflates to gigabytes fails after `cap` bytes instead of filling memory.
 */
function cappedDecompressors(cap: number): ReadCompressors {
  const check = (outputLength: number) => {
    if (!Number.isSafeInteger(outputLength) || outputLength < 0 || outputLength > cap) {
      throw new StreamCodecError('TOO_LARGE', `A page declares ${outputLength} decoded bytes; at most ${cap} are possible for this file`);
    }
  };
  const inflate = (work: () => Uint8Array): Uint8Array => {
    try {
      return work();
    } catch (error) {
      if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new StreamCodecError('TOO_LARGE', 'A page inflates beyond the size its header declares', { cause: error });
      }
      throw error;
    }
  };
  return {
    // unzipSync also accepts the zlib framing that some older writers used for GZIP.
    GZIP: (input, outputLength) => {
      check(outputLength);
      return inflate(() => unzipSync(input, { maxOutputLength: Math.max(outputLength, 1) }));
    },
    BROTLI: (input, outputLength) => {
      check(outputLength);
      return inflate(() => brotliDecompressSync(input, { maxOutputLength: Math.max(outputLength, 1) }));
    },
    SNAPPY: (input, outputLength) => {
      check(outputLength);
      const output = new Uint8Array(outputLength);
      snappyUncompress(input, output);
      return output;
    },
  };
}

/**
 * Everything decidable from the footer alone, before any page is touched: the row count, and for
 * every column to be read, its value count and declared decoded size. Returns the largest decoded
 * size of one column chunk, the cap for any single page.
 */
function assertBoundedWork(metadata: FileMetaData, columns: readonly string[], maxRows: number): number {
  const rows = Number(metadata.num_rows);
  if (!Number.isSafeInteger(rows) || rows < 0) throw new StreamCodecError('INVALID_PARQUET', `The footer declares ${metadata.num_rows} rows`);
  if (rows > maxRows) {
    throw new StreamCodecError('TOO_MANY_ROWS', `The file declares ${rows} rows; at most ${maxRows} samples are accepted per stream`);
  }
  const wanted = new Set(columns);
  let groupRows = 0;
  let largestChunk = 0;
  for (const group of metadata.row_groups) {
    const inGroup = Number(group.num_rows);
    groupRows += inGroup;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta === undefined || !wanted.has(meta.path_in_schema[0] ?? '')) continue;
      const values = Number(meta.num_values);
      const decoded = Number(meta.total_uncompressed_size);
      const bound = inGroup * MAX_DECODED_BYTES_PER_ROW + DECODED_BYTES_ALLOWANCE;
      if (!(values <= inGroup) || !(decoded <= bound)) {
        throw new StreamCodecError(
          'TOO_LARGE',
          `Column "${meta.path_in_schema.join('.')}" declares ${values} values and ${decoded} decoded bytes for ${inGroup} rows`,
        );
      }
      largestChunk = Math.max(largestChunk, decoded);
    }
  }
  if (groupRows !== rows) throw new StreamCodecError('INVALID_PARQUET', `The row groups hold ${groupRows} rows but the footer declares ${rows}`);
  return largestChunk;
}

const MILLIS_PER_MICRO = 1000n;
const MILLIS_PER_NANO = 1_000_000n;

/** Floor division, so sub-millisecond instants before 1970 still round towards the past. */
function floorDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return value % divisor < 0n ? quotient - 1n : quotient;
}

/**
 * Timestamps come back as epoch milliseconds (numbers) whatever their unit. The model keeps
 * milliseconds, so finer units from foreign files are floored to the millisecond. A number, not a
 * bigint: hyparquet builds one JS array element per row, and 2 M bigints are ~50 MiB of heap.
 */
const READ_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis: bigint) => exactNumber(STREAM_COLUMNS.timestamp, millis),
  timestampFromMicroseconds: (micros: bigint) => exactNumber(STREAM_COLUMNS.timestamp, floorDiv(micros, MILLIS_PER_MICRO)),
  timestampFromNanoseconds: (nanos: bigint) => exactNumber(STREAM_COLUMNS.timestamp, floorDiv(nanos, MILLIS_PER_NANO)),
};


export class ParquetStreamCodec implements StreamCodec {
  readonly format = 'parquet';
  readonly schemaVersion = STREAM_SCHEMA_VERSION;
  readonly contentType = PARQUET_CONTENT_TYPE;

  private readonly compression: StreamCompression;
  private readonly strategy: 'adaptive' | 'fixed';
  private readonly rowGroupSize: number;
  private readonly compress: PageCompressor | undefined;

  constructor(options: ParquetStreamCodecOptions = {}) {
    this.compression = options.compression ?? 'GZIP';
    this.strategy = options.encodingStrategy ?? 'adaptive';
    this.rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
    const gzipLevel = options.gzipLevel ?? 6;
    const brotliQuality = options.brotliQuality ?? 9;
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
      SNAPPY: snappyCompress,
      UNCOMPRESSED: undefined,
    };
    this.compress = compressors[this.compression];
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
    return writeParquet({
      columns,
      codec: this.compression,
      compress: this.compress,
      rowGroupSize: this.rowGroupSize,
      keyValueMetadata: [
        { key: STREAM_TYPE_METADATA_KEY, value: type },
        { key: SCHEMA_VERSION_METADATA_KEY, value: String(STREAM_SCHEMA_VERSION) },
      ],
    });
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

    const numeric = await readColumns(file, metadata, columns, cappedDecompressors(decodedByteCap));
    const timestamps = mustGet(numeric, STREAM_COLUMNS.timestamp);

    // A row without an instant or without its required values is no sample at all.
    const keep = rowsToKeep(timestamps, required.slice(1).map((name) => mustGet(numeric, name)));
    const order = sortedOrder(timestamps.values, keep);
    const pick = (column: NumericColumn): Float64Array => gather(column, order);
    const rows = timestamps.values.length;

    const samples: StreamSamples = isPosition
      ? {
          timestamps: pick(timestamps),
          latitude: pick(mustGet(numeric, STREAM_COLUMNS.latitude)),
          longitude: pick(mustGet(numeric, STREAM_COLUMNS.longitude)),
          altitudeM: optionalColumn(numeric.get(STREAM_COLUMNS.altitudeM), order, rows),
          horizontalAccuracyM: optionalColumn(numeric.get(STREAM_COLUMNS.horizontalAccuracyM), order, rows),
        }
      : { timestamps: pick(timestamps), values: pick(mustGet(numeric, STREAM_COLUMNS.value)) };
    return { type, schemaVersion, samples };
  }
}

/** The smallest deflate window (2^9 … 2^15 bytes) that spans the whole input. */
function zlibWindowBits(length: number): number {
  return Math.max(9, Math.min(15, Math.ceil(Math.log2(length + 262))));
}

export const parquetStreamCodec: StreamCodec = new ParquetStreamCodec();

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

// ---------------------------------------------------------------------------------------
// Decoding

interface NumericColumn {
  values: Float64Array;
  /** 1 where the file holds a null; null when the column has none. */
  missing: Uint8Array | null;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (!(bytes instanceof Uint8Array)) {
    throw new StreamCodecError('INVALID_PARQUET', 'Expected the file as a Uint8Array');
  }
  const { buffer } = bytes;
  // `instanceof ArrayBuffer` is false for buffers from another realm (Jest); a Buffer's slice() is a
  // view into Node's shared pool, so copy through the Uint8Array constructor, which owns its memory.
  if (Object.prototype.toString.call(buffer) === '[object ArrayBuffer]' && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) {
    return buffer as ArrayBuffer;
  }
  return new Uint8Array(bytes).buffer;
}

function readMetadata(file: ArrayBuffer): FileMetaData {
  const magic = new TextDecoder().decode(new Uint8Array(file, 0, Math.min(4, file.byteLength)));
  const tail = file.byteLength >= 8 ? new TextDecoder().decode(new Uint8Array(file, file.byteLength - 4, 4)) : '';
  if (magic !== 'PAR1' || tail !== 'PAR1') {
    throw new StreamCodecError('INVALID_PARQUET', 'Not a Parquet file (missing PAR1 magic bytes)');
  }
  try {
    return parquetMetadata(file, { parsers: READ_PARSERS });
  } catch (error) {
    // A column statistic beyond the exact range (READ_PARSERS) says so, like the column itself would.
    if (error instanceof StreamCodecError) throw error;
    throw new StreamCodecError('INVALID_PARQUET', `Unreadable Parquet footer: ${errorMessage(error)}`, { cause: error });
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

const NON_NUMERIC_LOGICAL_TYPES = new Set(['DATE', 'TIME', 'TIMESTAMP', 'INTERVAL', 'STRING', 'JSON', 'BSON', 'UUID', 'ENUM']);
const NON_NUMERIC_CONVERTED_TYPES = new Set([
  'DATE',
  'TIME_MILLIS',
  'TIME_MICROS',
  'TIMESTAMP_MILLIS',
  'TIMESTAMP_MICROS',
  'INTERVAL',
  'UTF8',
  'JSON',
  'BSON',
  'ENUM',
]);

function assertReadableColumn(element: ReadSchemaElement, isTimestamp: boolean): void {
  const { name, type, converted_type: converted, logical_type: logical } = element;
  if (element.repetition_type === 'REPEATED') {
    throw new StreamCodecError('UNSUPPORTED_COLUMN_TYPE', `Column "${name}" is repeated, not one number per row`);
  }
  if (isTimestamp) {
    const timestampAnnotated =
      converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || logical?.type === 'TIMESTAMP';
    const plainInteger =
      converted === undefined && (logical === undefined || (logical.type === 'INTEGER' && logical.bitWidth === 64));
    const ok = (type === 'INT64' && (timestampAnnotated || plainInteger)) || (type === 'INT96' && converted === undefined);
    if (!ok) {
      throw new StreamCodecError(
        'UNSUPPORTED_COLUMN_TYPE',
        `Column "timestamp" must be INT64 (TIMESTAMP or epoch milliseconds), found ${describeElement(element)}`,
      );
    }
    return;
  }
  const numericPhysical = type === 'DOUBLE' || type === 'FLOAT' || type === 'INT32' || type === 'INT64';
  const annotatedAsNonNumber =
    (converted !== undefined && NON_NUMERIC_CONVERTED_TYPES.has(converted)) ||
    (logical !== undefined && NON_NUMERIC_LOGICAL_TYPES.has(logical.type));
  if (!numericPhysical || annotatedAsNonNumber) {
    throw new StreamCodecError(
      'UNSUPPORTED_COLUMN_TYPE',
      `Column "${name}" must be DOUBLE, FLOAT, INT32 or INT64, found ${describeElement(element)}`,
    );
  }
}

function describeElement({ type, converted_type: converted, logical_type: logical }: ReadSchemaElement): string {
  return [type ?? 'group', converted, logical?.type].filter((part) => part !== undefined).join(' ');
}

function assertReadableCodecs(metadata: FileMetaData, columns: readonly string[]): void {
  const wanted = new Set(columns);
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta === undefined || !wanted.has(meta.path_in_schema[0] ?? '')) continue;
      if (!READABLE_CODECS.has(meta.codec)) {
        throw new StreamCodecError(
          'UNSUPPORTED_COMPRESSION',
          `Column "${meta.path_in_schema.join('.')}" is compressed with ${meta.codec}; readable: ${[...READABLE_CODECS].join(', ')}`,
        );
      }
    }
  }
}

/**
 * The columns as numbers, written page by page into one Float64Array per column: a row group at a
 * time (hyparquet's parquetRead, whose onChunk hands over each decoded page), so at most one group's
 * pages are alive beside the result, and no JS array of 2,000,000 elements is ever built (hyparquet's
 * scan API concatenates a group's pages into one plain array and keeps it cached).
 */
async function readColumns(
  file: ArrayBuffer,
  metadata: FileMetaData,
  columns: string[],
  compressors: ReadCompressors,
): Promise<Map<string, NumericColumn>> {
  const rows = Number(metadata.num_rows);
  const fills = new Map(columns.map((name) => [name, new ColumnFill(name, rows)]));
  const readable = withRawMillisTimestamps(metadata);
  let failure: unknown;
  try {
    let groupStart = 0;
    for (const group of metadata.row_groups) {
      const groupEnd = groupStart + Number(group.num_rows);
      await parquetRead({
        file,
        metadata: readable,
        columns,
        rowStart: groupStart,
        rowEnd: groupEnd,
        compressors,
        parsers: READ_PARSERS,
        utf8: false,
        // hyparquet calls this from a promise callback of its own: a throw here would be an unhandled
        // rejection, so the first failure is kept and thrown once the group is read.
        onChunk: ({ columnName, columnData, rowStart }) => {
          try {
            fills.get(columnName)?.write(columnData, rowStart);
          } catch (error) {
            failure ??= error;
          }
        },
      });
      if (failure !== undefined) throw failure;
      groupStart = groupEnd;
    }
  } catch (error) {
    if (error instanceof StreamCodecError) throw error;
    throw new StreamCodecError('INVALID_PARQUET', `Unreadable Parquet data: ${errorMessage(error)}`, { cause: error });
  }
  return new Map([...fills].map(([name, fill]) => [name, fill.finish()]));
}

/**
 * The footer as hyparquet is given it: an INT64 TIMESTAMP(MILLIS) column (every file this codec
 * writes) without its annotation, so that its pages come back as BigInt64Arrays that ColumnFill turns
 * into numbers in place, instead of one bigint and one converted element per row. Other units keep
 * their annotation and go through READ_PARSERS.
 */
function withRawMillisTimestamps(metadata: FileMetaData): FileMetaData {
  const isMillis = ({ name, type, converted_type: converted, logical_type: logical }: ReadSchemaElement) =>
    name === STREAM_COLUMNS.timestamp &&
    type === 'INT64' &&
    (converted === 'TIMESTAMP_MILLIS' || converted === undefined) &&
    (logical === undefined || (logical.type === 'TIMESTAMP' && logical.unit === 'MILLIS'));
  const [root, ...fields] = metadata.schema;
  return {
    ...metadata,
    schema: [root!, ...fields.map((element) => (isMillis(element) ? { ...element, converted_type: undefined, logical_type: undefined } : element))],
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One column of `rows` numbers, filled page by page; a null becomes NaN and is marked missing. */
class ColumnFill {
  private readonly values: Float64Array;
  private missing: Uint8Array | null = null;
  private written = 0;

  constructor(
    private readonly name: string,
    private readonly rows: number,
  ) {
    this.values = new Float64Array(rows);
  }

  write(part: DecodedArray, at: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + part.length > this.rows) {
      throw new StreamCodecError('INVALID_PARQUET', `Column "${this.name}" holds more values than the file's ${this.rows} rows`);
    }
    const { values } = this;
    if (part instanceof Float64Array || part instanceof Float32Array || part instanceof Int32Array || part instanceof Uint32Array) {
      values.set(part, at);
    } else if ((part instanceof BigInt64Array || part instanceof BigUint64Array) && LITTLE_ENDIAN) {
      this.writeInt64(part, at);
    } else {
      for (let i = 0; i < part.length; i++) {
        const item: unknown = part[i];
        if (typeof item === 'number') values[at + i] = item;
        else if (typeof item === 'bigint') values[at + i] = exactNumber(this.name, item);
        else if (item === null || item === undefined) {
          this.missing ??= new Uint8Array(this.rows);
          this.missing[at + i] = 1;
          values[at + i] = Number.NaN;
        } else {
          throw new StreamCodecError('UNSUPPORTED_COLUMN_TYPE', `Column "${this.name}" holds ${typeof item} values, not numbers`);
        }
      }
    }
    this.written += part.length;
  }

  /** 64-bit integers from their two 32-bit halves: no bigint per value; beyond 2^53 is refused. */
  private writeInt64(part: BigInt64Array | BigUint64Array, at: number): void {
    const words = new Uint32Array(part.buffer, part.byteOffset, part.length * 2);
    const signed = part instanceof BigInt64Array;
    for (let i = 0; i < part.length; i++) {
      const high = words[2 * i + 1]!;
      const value = (signed ? high | 0 : high) * 4294967296 + words[2 * i]!;
      if (!Number.isSafeInteger(value)) exactNumber(this.name, part[i]!);
      this.values[at + i] = value;
    }
  }

  finish(): NumericColumn {
    if (this.written !== this.rows) {
      throw new StreamCodecError('INVALID_PARQUET', `Column "${this.name}" holds ${this.written} values for ${this.rows} rows`);
    }
    return { values: this.values, missing: this.missing };
  }
}

function exactNumber(name: string, value: bigint): number {
  const asNumber = Number(value);
  if (!Number.isSafeInteger(asNumber)) {
    throw new StreamCodecError('INVALID_VALUE', `Column "${name}" holds ${value}, beyond the exact range of a float64`);
  }
  return asNumber;
}

function rowsToKeep(timestamps: NumericColumn, required: NumericColumn[]): Uint8Array | null {
  const masks = [timestamps.missing, ...required.map((column) => column.missing)].filter(
    (mask): mask is Uint8Array => mask !== null,
  );
  if (masks.length === 0) return null;
  const keep = new Uint8Array(timestamps.values.length).fill(1);
  for (const mask of masks) {
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) keep[i] = 0;
  }
  return keep;
}

/**
 * Row order for the output: the kept rows, stably sorted by time when the file was not.
 * null means "every row, as stored", the case for every file this codec writes.
 */
function sortedOrder(timestamps: Float64Array, keep: Uint8Array | null): Uint32Array | null {
  if (keep === null && isNonDecreasing(timestamps)) return null;
  const kept: number[] = [];
  for (let i = 0; i < timestamps.length; i++) if (keep === null || keep[i] === 1) kept.push(i);
  const order = Uint32Array.from(kept);
  order.sort((a, b) => timestamps[a] - timestamps[b] || a - b);
  return order;
}

function isNonDecreasing(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) return false;
  return true;
}

function gather(column: NumericColumn, order: Uint32Array | null): Float64Array {
  if (order === null) return column.values;
  const out = new Float64Array(order.length);
  for (let k = 0; k < order.length; k++) out[k] = column.values[order[k]];
  return out;
}

/**
 * An optional column that holds no value at all is no column: the stream has none of them (from
 * schema_version 3 on, every position object has both optional columns, null where absent).
 */
function optionalColumn(column: NumericColumn | undefined, order: Uint32Array | null, rows: number): Float64Array | null {
  if (column === undefined) return null;
  if (rows === 0 || (column.missing !== null && column.missing.every((missing) => missing === 1))) return null;
  return gather(column, order);
}

function mustGet(columns: Map<string, NumericColumn>, name: string): NumericColumn {
  const column = columns.get(name);
  if (column === undefined) throw new StreamCodecError('MISSING_COLUMN', `Required column "${name}" is missing`);
  return column;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
