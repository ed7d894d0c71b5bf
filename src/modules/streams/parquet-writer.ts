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
  codec: Exclude<CompressionCodec, 'LZO' | 'LZ4' | 'ZSTD' | 'LZ4_RAW'>;
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
const CODEC: Record<WriteParquetOptions['codec'], number> = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 4 };
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;

// ---------------------------------------------------------------------------------------
// Bytes

/** A growable little-endian byte buffer. */
class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  offset = 0;

  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  ensure(extra: number): void {
    const needed = this.offset + extra;
    if (needed <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.offset));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.offset++] = value;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  /** ULEB128 of a non-negative safe integer. */
  varint(value: number): void {
    this.ensure(8);
    while (value >= 0x80) {
      this.bytes[this.offset++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.offset++] = value;
  }

  /** Zigzag ULEB128 of a safe integer (Thrift i32/i64, DELTA_BINARY_PACKED header values). */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}

/** LSB-first bit packing of non-negative integers below 2^53, any width up to 53. */
class BitPacker {
  private acc = 0;
  private bits = 0;

  constructor(private readonly out: ByteWriter) {}

  push(value: number, width: number): void {
    while (width > 16) {
      this.pushSmall(value % 0x10000, 16);
      value = Math.floor(value / 0x10000);
      width -= 16;
    }
    this.pushSmall(value, width);
  }

  private pushSmall(value: number, width: number): void {
    // acc holds < 8 bits between calls, so acc | value << bits stays below 2^24.
    this.acc |= value << this.bits;
    this.bits += width;
    const { out } = this;
    while (this.bits >= 8) {
      out.bytes[out.offset++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  /** Pads the last byte with zero bits. */
  flush(): void {
    if (this.bits > 0) this.out.bytes[this.out.offset++] = this.acc & 0xff;
    this.acc = 0;
    this.bits = 0;
  }
}

const bitWidth = (max: number): number => (max <= 0 ? 0 : max < 2 ** 31 ? 32 - Math.clz32(max) : Math.ceil(Math.log2(max + 1)));

// ---------------------------------------------------------------------------------------
// Thrift compact protocol (only what the footer and page headers need)

const T_TRUE = 1;
const T_FALSE = 2;
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

class ThriftWriter {
  private readonly lastField: number[] = [0];

  constructor(readonly out: ByteWriter) {}

  private header(id: number, type: number): void {
    const last = this.lastField[this.lastField.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.out.u8((delta << 4) | type);
    else {
      this.out.u8(type);
      this.out.zigzag(id);
    }
    this.lastField[this.lastField.length - 1] = id;
  }

  i32(id: number, value: number): void {
    this.header(id, T_I32);
    this.out.zigzag(value);
  }

  i64(id: number, value: number): void {
    this.header(id, T_I64);
    this.out.zigzag(value);
  }

  bool(id: number, value: boolean): void {
    this.header(id, value ? T_TRUE : T_FALSE);
  }

  binary(id: number, bytes: Uint8Array): void {
    this.header(id, T_BINARY);
    this.out.varint(bytes.length);
    this.out.append(bytes);
  }

  string(id: number, value: string): void {
    this.binary(id, new TextEncoder().encode(value));
  }

  /** A struct field: fields written by `body`, then STOP. */
  struct(id: number, body: () => void): void {
    this.header(id, T_STRUCT);
    this.structBody(body);
  }

  /** A struct without a field header (the top-level struct, or a list element). */
  structBody(body: () => void): void {
    this.lastField.push(0);
    body();
    this.out.u8(0);
    this.lastField.pop();
  }

  private list(id: number, elementType: number, size: number): void {
    this.header(id, T_LIST);
    if (size < 15) this.out.u8((size << 4) | elementType);
    else {
      this.out.u8(0xf0 | elementType);
      this.out.varint(size);
    }
  }

  structList<T>(id: number, items: readonly T[], body: (item: T) => void): void {
    this.list(id, T_STRUCT, items.length);
    for (const item of items) this.structBody(() => body(item));
  }

  i32List(id: number, values: readonly number[]): void {
    this.list(id, T_I32, values.length);
    for (const value of values) this.out.zigzag(value);
  }

  stringList(id: number, values: readonly string[]): void {
    this.list(id, T_BINARY, values.length);
    for (const value of values) {
      const bytes = new TextEncoder().encode(value);
      this.out.varint(bytes.length);
      this.out.append(bytes);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Value encoders: each writes one page's values into `out`

function writePlainDoubles(out: ByteWriter, values: Float64Array, start: number, end: number): void {
  const count = end - start;
  out.ensure(count * 8);
  if (out.offset % 8 === 0) {
    // Aligned: one copy through a Float64Array view (little-endian on every platform Node supports).
    new Float64Array(out.bytes.buffer, out.offset, count).set(values.subarray(start, end));
  } else {
    const { view } = out;
    for (let i = 0; i < count; i++) view.setFloat64(out.offset + i * 8, values[start + i]!, true);
  }
  out.offset += count * 8;
}

function writeByteStreamSplit(out: ByteWriter, values: Float64Array, start: number, end: number): void {
  const count = end - start;
  out.ensure(count * 8);
  const source = new Uint8Array(values.buffer, values.byteOffset + start * 8, count * 8);
  const { bytes } = out;
  const base = out.offset;
  for (let k = 0; k < 8; k++) {
    const stream = base + k * count;
    for (let i = 0; i < count; i++) bytes[stream + i] = source[i * 8 + k]!;
  }
  out.offset += count * 8;
}

/**
 * RLE/bit-packed hybrid (Parquet's RLE encoding) of `count` values of `width` bits: runs of 8 or more
 * equal values become RLE runs, the rest bit-packed groups of 8 (the last group zero-padded).
 */
function writeHybrid(out: ByteWriter, values: ArrayLike<number>, count: number, width: number): void {
  const valueBytes = (width + 7) >> 3;
  const runAt = (i: number): boolean => {
    if (i + 8 > count) return false;
    const v = values[i];
    for (let k = 1; k < 8; k++) if (values[i + k] !== v) return false;
    return true;
  };
  let i = 0;
  while (i < count) {
    if (runAt(i)) {
      const v = values[i]!;
      let run = 8;
      while (i + run < count && values[i + run] === v) run++;
      out.varint(run * 2);
      out.ensure(valueBytes);
      for (let b = 0, rest = v; b < valueBytes; b++, rest = Math.floor(rest / 256)) out.bytes[out.offset++] = rest & 0xff;
      i += run;
      continue;
    }
    let groups = 1;
    while (i + groups * 8 < count && !runAt(i + groups * 8)) groups++;
    out.varint(groups * 2 + 1);
    out.ensure(groups * width + 8);
    packGroups(out, values, i, Math.min(count, i + groups * 8), groups * 8, width);
    i += groups * 8;
  }
}

/** Bit-packs values[start, end) LSB first, then zeros up to `slots` values; byte-aligned widths are copied directly. */
function packGroups(out: ByteWriter, values: ArrayLike<number>, start: number, end: number, slots: number, width: number): void {
  const { bytes } = out;
  let at = out.offset;
  if (width === 8) {
    for (let i = start; i < end; i++) bytes[at++] = values[i]!;
    for (let k = end - start; k < slots; k++) bytes[at++] = 0;
  } else if (width === 16) {
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      bytes[at++] = v & 0xff;
      bytes[at++] = v >>> 8;
    }
    for (let k = end - start; k < slots; k++) {
      bytes[at++] = 0;
      bytes[at++] = 0;
    }
  } else if (width === 1) {
    for (let k = 0; k < slots; k += 8) {
      let byte = 0;
      for (let b = 0; b < 8; b++) {
        const i = start + k + b;
        if (i < end && values[i]) byte |= 1 << b;
      }
      bytes[at++] = byte;
    }
  } else {
    out.offset = at;
    const packer = new BitPacker(out);
    for (let k = 0; k < slots; k++) packer.push(start + k < end ? values[start + k]! : 0, width);
    packer.flush();
    return;
  }
  out.offset = at;
}

/** Block layouts tried for a timestamp column (values per block, miniblocks per block); the smaller result is kept. */
const DELTA_LAYOUTS = {
  /** The usual one: an irregular gap widens 32 values only. */
  narrow: { block: 128, miniblocks: 4 },
  /** Regular sampling: one block header per 4,096 values, a few bytes for an hour at 1 Hz. */
  wide: { block: 4096, miniblocks: 4 },
} as const;

/** DELTA_BINARY_PACKED of whole numbers held as doubles (|value| < 2^53, deltas too). */
function writeDeltaBinaryPacked(out: ByteWriter, values: Float64Array, start: number, end: number, layout: { block: number; miniblocks: number }): void {
  const DELTA_BLOCK = layout.block;
  const DELTA_MINIBLOCKS = layout.miniblocks;
  const DELTA_MINIBLOCK = DELTA_BLOCK / DELTA_MINIBLOCKS;
  const count = end - start;
  out.varint(DELTA_BLOCK);
  out.varint(DELTA_MINIBLOCKS);
  out.varint(count);
  out.zigzag(count > 0 ? values[start]! : 0);
  const packer = new BitPacker(out);
  const deltas = new Float64Array(DELTA_BLOCK);
  const widths = new Uint8Array(DELTA_MINIBLOCKS);
  for (let blockStart = start + 1; blockStart < end; blockStart += DELTA_BLOCK) {
    const n = Math.min(DELTA_BLOCK, end - blockStart);
    let minDelta = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const delta = values[blockStart + k]! - values[blockStart + k - 1]!;
      deltas[k] = delta;
      if (delta < minDelta) minDelta = delta;
    }
    const miniblocks = Math.ceil(n / DELTA_MINIBLOCK);
    widths.fill(0);
    for (let m = 0; m < miniblocks; m++) {
      let max = 0;
      for (let k = m * DELTA_MINIBLOCK; k < Math.min(n, (m + 1) * DELTA_MINIBLOCK); k++) {
        const offset = deltas[k]! - minDelta;
        if (offset > max) max = offset;
      }
      widths[m] = bitWidth(max);
    }
    out.zigzag(minDelta);
    out.append(widths);
    for (let m = 0; m < miniblocks; m++) {
      const width = widths[m]!;
      if (width === 0) continue;
      out.ensure(width * 4 + 8);
      for (let k = m * DELTA_MINIBLOCK; k < (m + 1) * DELTA_MINIBLOCK; k++) packer.push(k < n ? deltas[k]! - minDelta : 0, width);
      packer.flush();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Dictionary

interface Dictionary {
  /** Distinct values, ascending (so that nearby values get nearby indices). */
  values: Float64Array;
  /** Per non-null value, its index in `values`. */
  indices: Uint16Array;
  /** 8 or 16: byte-aligned widths compress far better than the minimal width under GZIP. */
  width: 8 | 16;
}

/**
 * Open-addressing hash set over the 64 bits of doubles (so -0 and 0 stay apart, unlike a Map):
 * assigns each distinct value an id in order of first appearance, giving up beyond `limit`.
 */
class DoubleIds {
  private readonly keys: Uint32Array;
  private readonly ids: Int32Array;
  private readonly mask: number;
  private readonly words = new Uint32Array(2);
  private readonly word = new Float64Array(this.words.buffer);
  readonly distinct: number[] = [];

  constructor(readonly limit: number) {
    let size = 16;
    while (size < limit * 2) size *= 2;
    this.keys = new Uint32Array(size * 2);
    this.ids = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** The value's id, or -1 once more than `limit` distinct values were seen. */
  id(value: number): number {
    this.word[0] = value;
    const lo = this.words[0]!;
    const hi = this.words[1]!;
    // murmur3's finaliser: doubles differ in their high bits, so those must reach the low ones.
    let h = lo ^ Math.imul(hi ^ (hi >>> 16), 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    let slot = (h ^ (h >>> 16)) & this.mask;
    for (;;) {
      const id = this.ids[slot]!;
      if (id < 0) break;
      if (this.keys[slot * 2] === lo && this.keys[slot * 2 + 1] === hi) return id;
      slot = (slot + 1) & this.mask;
    }
    if (this.distinct.length >= this.limit) return -1;
    const id = this.distinct.length;
    this.ids[slot] = id;
    this.keys[slot * 2] = lo;
    this.keys[slot * 2 + 1] = hi;
    this.distinct.push(value);
    return id;
  }
}

/** The column's dictionary, or null when it has more than `limit` distinct (non-null) values. */
export function buildDictionary(values: Float64Array, optional: boolean, limit = 1 << 16): Dictionary | null {
  const ids = new DoubleIds(Math.max(1, Math.min(limit, values.length, 1 << 16)));
  const raw = new Uint16Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (optional && Number.isNaN(v)) continue;
    const id = ids.id(v);
    if (id < 0) return null;
    raw[count++] = id;
  }
  const distinct = ids.distinct;
  // -0 before 0; any order is valid, ascending only helps compression.
  const order = Array.from(distinct.keys()).sort((a, b) => distinct[a]! - distinct[b]! || (Object.is(distinct[a], -0) ? -1 : 1));
  const rank = new Uint16Array(distinct.length);
  const sorted = new Float64Array(distinct.length);
  order.forEach((id, r) => {
    rank[id] = r;
    sorted[r] = distinct[id]!;
  });
  const indices = raw.subarray(0, count);
  for (let i = 0; i < count; i++) indices[i] = rank[indices[i]!]!;
  return { values: sorted, indices, width: distinct.length <= 256 ? 8 : 16 };
}

// ---------------------------------------------------------------------------------------
// Statistics

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

// ---------------------------------------------------------------------------------------
// Choosing a double column's encoding

/** At most this many distinct values (and at most one per two rows) make a dictionary. */
export const DICTIONARY_MAX_DISTINCT = 256;
/** Rows looked at for the statistics: up to four spread windows of this many. */
const PROFILE_WINDOW = 4096;
const PROFILE_WINDOWS = 4;

/** Share of values whose low 16 significand bits are zero (whole numbers, binary fractions, FIT semicircles). */
function shortSignificandShare(values: Float64Array): number {
  if (values.length === 0) return 1;
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let short = 0;
  for (let i = 0; i < values.length; i++) if ((words[i * 2]! & 0xffff) === 0) short++;
  return short / values.length;
}

/**
 * Share of values equal to an earlier value of their window (GZIP's 32 KiB reach is 4096 doubles)
 * other than the one just before: what PLAIN lets GZIP find as 8-byte matches. Up to four spread
 * windows are looked at.
 */
function recurrenceShare(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const window = Math.min(n, PROFILE_WINDOW);
  const windows = n <= PROFILE_WINDOW ? 1 : Math.min(PROFILE_WINDOWS, Math.floor(n / PROFILE_WINDOW));
  const stride = windows > 1 ? Math.floor((n - window) / (windows - 1)) : 0;
  let recurring = 0;
  for (let w = 0; w < windows; w++) {
    const seen = new DoubleIds(window);
    const start = w * stride;
    for (let i = start; i < start + window; i++) {
      const before = seen.distinct.length;
      seen.id(values[i]!);
      if (seen.distinct.length === before && !(i > start && Object.is(values[i], values[i - 1]))) recurring++;
    }
  }
  return recurring / (window * windows);
}

/** The number of distinct values, or null when above `limit`. */
function distinctUpTo(values: Float64Array, limit: number): number | null {
  const ids = new DoubleIds(Math.max(1, Math.min(limit, values.length)));
  for (let i = 0; i < values.length; i++) if (ids.id(values[i]!) < 0) return null;
  return ids.distinct.length;
}

/**
 * The encoding for one double column, from cheap statistics of its values instead of trial
 * compressions (which cost more than everything else the codec does). Measured with GZIP on the
 * shapes of bench/parquet-codecs.ts and on decoded FIT files:
 * - few distinct values (heart rate, cadence, power, FIT altitude in 0.2 m steps over an hour):
 *   a sorted dictionary with byte-aligned indices, 10–20 % below the other encodings;
 * - short significands (whole numbers beyond 256 distinct, FIT semicircle coordinates, binary
 *   fractions): BYTE_STREAM_SPLIT, whose low byte streams are all zero;
 * - decimal values that keep coming back but not in runs (FIT speed in mm/s): PLAIN, where GZIP
 *   finds each recurring value as one 8-byte match (half the size of BYTE_STREAM_SPLIT);
 * - anything else (full-precision GPS, sensor doubles): BYTE_STREAM_SPLIT.
 */
export function chooseDoubleEncoding(column: Float64Array, optional: boolean): DoubleEncoding | readonly DoubleEncoding[] {
  const values = optional ? column.filter((v) => v === v) : column;
  const distinct = distinctUpTo(values, DICTIONARY_MAX_DISTINCT);
  const short = shortSignificandShare(values) >= 0.9;
  if (distinct !== null && distinct > 0 && distinct * 2 <= values.length) {
    // Whole numbers: BYTE_STREAM_SPLIT leaves two busy bytes per value and sometimes beats the
    // indices; both pages are small, so both are tried.
    return short ? ['RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'] : 'RLE_DICTIONARY';
  }
  if (short) return 'BYTE_STREAM_SPLIT';
  const recurrence = recurrenceShare(values);
  if (recurrence < 0.1) return 'BYTE_STREAM_SPLIT';
  return recurrence > 0.5 ? 'PLAIN' : ['BYTE_STREAM_SPLIT', 'PLAIN'];
}

