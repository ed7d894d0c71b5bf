/**
 * The Parquet writer behind the stream codec (DATA-MODEL §10): standard Parquet, written for the
 * few column shapes a stream has and nothing else.
 *
 * Why not a general-purpose writer: hyparquet-writer (used until schema 2's first objects) boxes
 * every value, builds statistics and page boundaries value by value and allocates per value in its
 * BYTE_STREAM_SPLIT and DELTA encoders; one hour of six streams took ~20 ms of CPU warm and far more
 * cold, more than decoding the FIT file they came from. Here every encoder is one pass over a
 * Float64Array into a preallocated buffer, so the cost left is the page compression (node:zlib).
 *
 * What is written (readable by DuckDB, Spark/parquet-java, pyarrow, hyparquet):
 * - one row group per `rowGroupSize` rows, data pages v2 of at most PAGE_ROWS rows;
 * - INT64 TIMESTAMP(MILLIS, UTC) columns: DELTA_BINARY_PACKED (blocks of 128, 4 miniblocks);
 * - DOUBLE columns: PLAIN, BYTE_STREAM_SPLIT or RLE_DICTIONARY (a PLAIN dictionary page, sorted, and
 *   8- or 16-bit indices in the RLE/bit-packed hybrid); OPTIONAL columns write NaN as NULL with
 *   RLE definition levels;
 * - column chunk statistics (min, max, null count) and column orders; no page statistics, no
 *   encoding stats, no created_by: a one-page chunk's page statistics repeat the chunk's, and on a
 *   short activity those bytes are a visible part of the object;
 * - a chunk whose pages do not shrink under compression (a regular timestamp column is a few dozen
 *   bytes) is stored UNCOMPRESSED, which the codec field of each chunk says.
 */
import type { CompressionCodec } from 'hyparquet';
import { ByteWriter } from './byte-writer.js';
import { buildDictionary } from './dictionary.js';
import { DELTA_LAYOUTS, writeByteStreamSplit, writeDeltaBinaryPacked, writeHybrid, writePlainDoubles } from './encodings.js';
import { ThriftWriter } from './thrift.js';

export type DoubleEncoding = 'PLAIN' | 'BYTE_STREAM_SPLIT' | 'RLE_DICTIONARY';

export interface TimestampColumn {
  kind: 'timestamp';
  name: string;
  /** Epoch milliseconds, whole numbers (safe integers); the caller checks. */
  values: Float64Array;
}

export interface DoubleColumn {
  kind: 'double';
  name: string;
  /** OPTIONAL columns write NaN as NULL; REQUIRED columns hold finite numbers (the caller checks). */
  optional: boolean;
  values: Float64Array;
  /** The encoding, or candidates: each is written and compressed, and the smallest kept. */
  encoding: DoubleEncoding | readonly DoubleEncoding[];
}

export type WriterColumn = TimestampColumn | DoubleColumn;

export type PageCompressor = (input: Uint8Array) => Uint8Array;

export interface WriteParquetOptions {
  columns: readonly WriterColumn[];
  codec: Exclude<CompressionCodec, 'LZO' | 'LZ4' | 'LZ4_RAW'>;
  /** Compresses one page's values (unused for UNCOMPRESSED). */
  compress?: PageCompressor;
  rowGroupSize: number;
  keyValueMetadata: readonly { key: string; value: string }[];
}

/** Rows per data page: 1 MiB of doubles, the page size other writers default to. */
export const PAGE_ROWS = 1 << 17;

// Parquet enums (parquet.thrift).
const TYPE_INT64 = 2;
const TYPE_DOUBLE = 5;
const REPETITION_REQUIRED = 0;
const REPETITION_OPTIONAL = 1;
const CONVERTED_TIMESTAMP_MILLIS = 9;
const ENCODING: Record<'PLAIN' | 'RLE' | 'DELTA_BINARY_PACKED' | 'RLE_DICTIONARY' | 'BYTE_STREAM_SPLIT', number> = {
  PLAIN: 0,
  RLE: 3,
  DELTA_BINARY_PACKED: 5,
  RLE_DICTIONARY: 8,
  BYTE_STREAM_SPLIT: 9,
};
const CODEC: Record<WriteParquetOptions['codec'], number> = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 4, ZSTD: 6 };
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;

function statisticBytes(value: number, int64: boolean): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  if (int64) view.setBigInt64(0, BigInt(value), true);
  else view.setFloat64(0, value, true);
  return bytes;
}

// ---------------------------------------------------------------------------------------
// File

interface ChunkMeta {
  column: WriterColumn;
  codec: number;
  encodings: number[];
  numValues: number;
  uncompressed: number;
  compressed: number;
  fileOffset: number;
  dataPageOffset: number;
  dictionaryPageOffset: number | undefined;
  min: number | undefined;
  max: number | undefined;
  nulls: number;
}

interface Page {
  type: typeof PAGE_DICTIONARY | typeof PAGE_DATA_V2;
  /** Definition levels (data pages of OPTIONAL columns; never compressed). */
  levels: Uint8Array;
  values: Uint8Array;
  numValues: number;
  numNulls: number;
  numRows: number;
  encoding: number;
}

export function writeParquet(options: WriteParquetOptions): Uint8Array {
  const { columns, rowGroupSize } = options;
  const rows = columns[0]?.values.length ?? 0;
  for (const column of columns) {
    if (column.values.length !== rows) throw new Error(`column ${column.name} has ${column.values.length} values, not ${rows}`);
  }
  const estimate = columns.length * rows * 9 + 4096;
  const out = new ByteWriter(Math.min(estimate, 1 << 26));
  out.u32(0x31524150); // PAR1
  const groups: { rows: number; chunks: ChunkMeta[] }[] = [];
  const groupSize = Math.max(1, Math.floor(rowGroupSize));
  for (let groupStart = 0; groupStart < rows; groupStart += groupSize) {
    const groupEnd = Math.min(rows, groupStart + groupSize);
    groups.push({ rows: groupEnd - groupStart, chunks: columns.map((column) => writeChunk(out, column, groupStart, groupEnd, options)) });
  }
  const footerStart = out.offset;
  writeFooter(new ThriftWriter(out), columns, rows, groups, options);
  out.u32(out.offset - footerStart);
  out.u32(0x31524150);
  return out.result().slice();
}

function writeChunk(out: ByteWriter, column: WriterColumn, start: number, end: number, options: WriteParquetOptions): ChunkMeta {
  const { values } = column;
  const optional = column.kind === 'double' && column.optional;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let nulls = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (v !== v) {
      nulls++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const present = end - start - nulls;
  // The spec's signed-zero rule: a zero minimum is written as -0, a zero maximum as +0.
  if (min === 0) min = -0;
  if (max === 0) max = 0;

  // Non-null values of this chunk, contiguous (optional columns only need the copy).
  const dense = nulls === 0 ? values.subarray(start, end) : values.subarray(start, end).filter((v) => v === v);
  // Definition levels per page (OPTIONAL columns), the same whatever the encoding.
  const levels: { bytes: Uint8Array; nulls: number }[] = [];
  for (let pageStart = start; pageStart < end; pageStart += PAGE_ROWS) {
    const pageEnd = Math.min(end, pageStart + PAGE_ROWS);
    if (!optional) {
      levels.push({ bytes: new Uint8Array(0), nulls: 0 });
      continue;
    }
    const defined = new Uint8Array(pageEnd - pageStart);
    let pageNulls = 0;
    for (let i = pageStart; i < pageEnd; i++) {
      if (values[i] === values[i]) defined[i - pageStart] = 1;
      else pageNulls++;
    }
    const levelWriter = new ByteWriter(defined.length / 4 + 16);
    writeHybrid(levelWriter, defined, defined.length, 1);
    levels.push({ bytes: levelWriter.result(), nulls: pageNulls });
  }

  const candidates: readonly ValueEncoding[] =
    column.kind === 'timestamp' ? ['DELTA_BINARY_PACKED', 'DELTA_BINARY_PACKED_WIDE'] : typeof column.encoding === 'string' ? [column.encoding] : column.encoding;
  let best: EncodedChunk | undefined;
  for (const candidate of candidates) {
    const encoded = encodeChunk(candidate, dense, start, end, levels, options);
    if (best === undefined || encoded.size < best.size) best = encoded;
  }
  const { pages, stored, codec, encodings } = best!;

  const fileOffset = out.offset;
  let dataPageOffset = -1;
  let dictionaryPageOffset: number | undefined;
  let uncompressed = 0;
  pages.forEach((page, p) => {
    if (page.type === PAGE_DICTIONARY) dictionaryPageOffset = out.offset;
    else if (dataPageOffset < 0) dataPageOffset = out.offset;
    const headerStart = out.offset;
    writePageHeader(new ThriftWriter(out), page, stored[p]!);
    uncompressed += out.offset - headerStart + page.levels.length + page.values.length;
    out.append(page.levels);
    out.append(stored[p]!);
  });
  return {
    column,
    codec,
    encodings,
    numValues: end - start,
    uncompressed,
    compressed: out.offset - fileOffset,
    fileOffset,
    dataPageOffset,
    dictionaryPageOffset,
    min: present > 0 ? min : undefined,
    max: present > 0 ? max : undefined,
    nulls,
  };
}

type ValueEncoding = DoubleEncoding | 'DELTA_BINARY_PACKED' | 'DELTA_BINARY_PACKED_WIDE';

interface EncodedChunk {
  pages: Page[];
  /** Each page's values as stored (compressed unless `codec` is UNCOMPRESSED). */
  stored: Uint8Array[];
  codec: number;
  encodings: number[];
  /** Bytes of the stored pages, headers aside. */
  size: number;
}

function encodeChunk(
  encoding: ValueEncoding,
  dense: Float64Array,
  start: number,
  end: number,
  levels: readonly { bytes: Uint8Array; nulls: number }[],
  options: WriteParquetOptions,
): EncodedChunk {
  const dictionary = encoding === 'RLE_DICTIONARY' ? buildDictionary(dense, false) : null;
  const valueEncoding = encoding === 'RLE_DICTIONARY' && dictionary === null ? 'BYTE_STREAM_SPLIT' : encoding;
  const encodingId = valueEncoding === 'DELTA_BINARY_PACKED_WIDE' ? ENCODING.DELTA_BINARY_PACKED : ENCODING[valueEncoding];
  const pages: Page[] = [];
  if (dictionary) {
    const page = new ByteWriter(dictionary.values.length * 8 + 16);
    writePlainDoubles(page, dictionary.values, 0, dictionary.values.length);
    pages.push({ type: PAGE_DICTIONARY, levels: new Uint8Array(0), values: page.result(), numValues: dictionary.values.length, numNulls: 0, numRows: 0, encoding: ENCODING.PLAIN });
  }
  // Pages cut at whole rows; `cursor` walks the dense values alongside.
  let cursor = 0;
  for (let pageStart = start, p = 0; pageStart < end; pageStart += PAGE_ROWS, p++) {
    const pageEnd = Math.min(end, pageStart + PAGE_ROWS);
    const { bytes: pageLevels, nulls: pageNulls } = levels[p]!;
    const pageValues = pageEnd - pageStart - pageNulls;
    const body = new ByteWriter(pageValues * 8 + 64);
    if (dictionary) {
      body.u8(dictionary.width);
      writeHybrid(body, dictionary.indices.subarray(cursor, cursor + pageValues), pageValues, dictionary.width);
    } else if (valueEncoding === 'DELTA_BINARY_PACKED' || valueEncoding === 'DELTA_BINARY_PACKED_WIDE') {
      writeDeltaBinaryPacked(body, dense, cursor, cursor + pageValues, DELTA_LAYOUTS[valueEncoding === 'DELTA_BINARY_PACKED' ? 'narrow' : 'wide']);
    }
    else if (valueEncoding === 'BYTE_STREAM_SPLIT') writeByteStreamSplit(body, dense, cursor, cursor + pageValues);
    else writePlainDoubles(body, dense, cursor, cursor + pageValues);
    cursor += pageValues;
    pages.push({
      type: PAGE_DATA_V2,
      levels: pageLevels,
      values: body.result(),
      numValues: pageEnd - pageStart,
      numNulls: pageNulls,
      numRows: pageEnd - pageStart,
      encoding: dictionary ? ENCODING.RLE_DICTIONARY : encodingId,
    });
  }

  // Compress every page; a chunk that compression does not shrink is stored as it is.
  let codec = CODEC[options.codec];
  let stored = pages.map((page) => page.values);
  let size = stored.reduce((n, bytes) => n + bytes.length, 0);
  if (options.codec !== 'UNCOMPRESSED') {
    if (!options.compress) throw new Error(`no compressor for ${options.codec}`);
    const compressed = pages.map((page) => options.compress!(page.values));
    const after = compressed.reduce((n, bytes) => n + bytes.length, 0);
    if (after < size) {
      stored = compressed;
      size = after;
    } else codec = CODEC.UNCOMPRESSED;
  }
  const encodings = dictionary ? [ENCODING.PLAIN, ENCODING.RLE_DICTIONARY] : [encodingId];
  return { pages, stored, codec, encodings, size };
}

function writePageHeader(thrift: ThriftWriter, page: Page, stored: Uint8Array): void {
  thrift.structBody(() => {
    thrift.i32(1, page.type);
    thrift.i32(2, page.levels.length + page.values.length);
    thrift.i32(3, page.levels.length + stored.length);
    if (page.type === PAGE_DICTIONARY) {
      thrift.struct(7, () => {
        thrift.i32(1, page.numValues);
        thrift.i32(2, page.encoding);
        thrift.bool(3, true);
      });
    } else {
      thrift.struct(8, () => {
        thrift.i32(1, page.numValues);
        thrift.i32(2, page.numNulls);
        thrift.i32(3, page.numRows);
        thrift.i32(4, page.encoding);
        thrift.i32(5, page.levels.length);
        thrift.i32(6, 0);
      });
    }
  });
}

function writeFooter(
  thrift: ThriftWriter,
  columns: readonly WriterColumn[],
  rows: number,
  groups: readonly { rows: number; chunks: ChunkMeta[] }[],
  options: WriteParquetOptions,
): void {
  thrift.structBody(() => {
    thrift.i32(1, 2); // version
    thrift.structList(2, [null, ...columns], (column) => {
      if (column === null) {
        thrift.string(4, 'root');
        thrift.i32(5, columns.length);
        return;
      }
      if (column.kind === 'timestamp') {
        thrift.i32(1, TYPE_INT64);
        thrift.i32(3, REPETITION_REQUIRED);
        thrift.string(4, column.name);
        thrift.i32(6, CONVERTED_TIMESTAMP_MILLIS);
        // LogicalType.TIMESTAMP { isAdjustedToUTC: true, unit: MILLIS }
        thrift.struct(10, () =>
          thrift.struct(8, () => {
            thrift.bool(1, true);
            thrift.struct(2, () => thrift.struct(1, () => undefined));
          }),
        );
      } else {
        thrift.i32(1, TYPE_DOUBLE);
        thrift.i32(3, column.optional ? REPETITION_OPTIONAL : REPETITION_REQUIRED);
        thrift.string(4, column.name);
      }
    });
    thrift.i64(3, rows);
    thrift.structList(4, groups, (group) => {
      thrift.structList(1, group.chunks, (chunk) => {
        thrift.i64(2, chunk.fileOffset);
        thrift.struct(3, () => {
          const int64 = chunk.column.kind === 'timestamp';
          thrift.i32(1, int64 ? TYPE_INT64 : TYPE_DOUBLE);
          thrift.i32List(2, chunk.encodings);
          thrift.stringList(3, [chunk.column.name]);
          thrift.i32(4, chunk.codec);
          thrift.i64(5, chunk.numValues);
          thrift.i64(6, chunk.uncompressed);
          thrift.i64(7, chunk.compressed);
          thrift.i64(9, chunk.dataPageOffset);
          if (chunk.dictionaryPageOffset !== undefined) thrift.i64(11, chunk.dictionaryPageOffset);
          thrift.struct(12, () => {
            thrift.i64(3, chunk.nulls);
            if (chunk.max !== undefined) thrift.binary(5, statisticBytes(chunk.max, int64));
            if (chunk.min !== undefined) thrift.binary(6, statisticBytes(chunk.min, int64));
          });
        });
      });
      thrift.i64(2, group.chunks.reduce((n, chunk) => n + chunk.uncompressed, 0));
      thrift.i64(3, group.rows);
    });
    thrift.structList(5, options.keyValueMetadata, ({ key, value }) => {
      thrift.string(1, key);
      thrift.string(2, value);
    });
    // ColumnOrder.TYPE_ORDER for every column: min/max above compare as the physical type does.
    thrift.structList(7, columns, () => thrift.struct(1, () => undefined));
  });
}
