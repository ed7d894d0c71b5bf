/**
 * Column readers (docs/data-model.md §10): the file's columns as one Float64Array each, read a row
 * group at a time through hyparquet, timestamps as exact epoch milliseconds; then the rows kept (a
 * row without an instant or a required value is no sample) in time order.
 */
import { parquetRead, type AsyncBuffer, type Compressors as ReadCompressors, type DecodedArray, type FileMetaData, type ParquetParsers, type SchemaElement as ReadSchemaElement } from 'hyparquet';

import { errorMessage, StreamCodecError } from './errors.js';
import { STREAM_COLUMNS } from './schema.js';

export interface NumericColumn {
  values: Float64Array;
  /** 1 where the file holds a null; null when the column has none. */
  missing: Uint8Array | null;
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
export const READ_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis: bigint) => exactNumber(STREAM_COLUMNS.timestamp, millis),
  timestampFromMicroseconds: (micros: bigint) => exactNumber(STREAM_COLUMNS.timestamp, floorDiv(micros, MILLIS_PER_MICRO)),
  timestampFromNanoseconds: (nanos: bigint) => exactNumber(STREAM_COLUMNS.timestamp, floorDiv(nanos, MILLIS_PER_NANO)),
};

/**
 * The columns as numbers, written page by page into one Float64Array per column: a row group at a
 * time (hyparquet's parquetRead, whose onChunk hands over each decoded page), so at most one group's
 * pages are alive beside the result, and no JS array of 2,000,000 elements is ever built (hyparquet's
 * scan API concatenates a group's pages into one plain array and keeps it cached).
 */
export interface ReadColumnsOptions {
  /** The row groups to read (indices into metadata.row_groups, ascending); all by default. */
  groups?: readonly number[];
  /** Called with each byte range hyparquet reads from the file. */
  onRead?: (start: number, end: number) => void;
}

export async function readColumns(
  file: ArrayBuffer,
  metadata: FileMetaData,
  columns: string[],
  compressors: ReadCompressors,
  options: ReadColumnsOptions = {},
): Promise<Map<string, NumericColumn>> {
  const starts: number[] = [];
  let fileRows = 0;
  for (const group of metadata.row_groups) {
    starts.push(fileRows);
    fileRows += Number(group.num_rows);
  }
  const groups = options.groups ?? metadata.row_groups.map((_, index) => index);
  const rows = options.groups ? groups.reduce((sum, index) => sum + Number(metadata.row_groups[index]!.num_rows), 0) : Number(metadata.num_rows);
  const fills = new Map(columns.map((name) => [name, new ColumnFill(name, rows)]));
  const readable = withRawMillisTimestamps(metadata);
  const { onRead } = options;
  const source: AsyncBuffer = onRead
    ? {
        byteLength: file.byteLength,
        slice: (start, end) => {
          onRead(start, end ?? file.byteLength);
          return file.slice(start, end);
        },
      }
    : file;
  let failure: unknown;
  try {
    // Where the group being read lands in the columns: its rows follow those of the groups read before.
    let filled = 0;
    for (const index of groups) {
      const groupStart = starts[index]!;
      const groupRows = Number(metadata.row_groups[index]!.num_rows);
      const shift = filled - groupStart;
      await parquetRead({
        file: source,
        metadata: readable,
        columns,
        rowStart: groupStart,
        rowEnd: groupStart + groupRows,
        compressors,
        parsers: READ_PARSERS,
        utf8: false,
        // hyparquet calls this from a promise callback of its own: a throw here would be an unhandled
        // rejection, so the first failure is kept and thrown once the group is read.
        onChunk: ({ columnName, columnData, rowStart }) => {
          try {
            fills.get(columnName)?.write(columnData, rowStart + shift);
          } catch (error) {
            failure ??= error;
          }
        },
      });
      if (failure !== undefined) throw failure;
      filled += groupRows;
    }
  } catch (error) {
    if (error instanceof StreamCodecError) throw error;
    throw new StreamCodecError('INVALID_PARQUET', `Unreadable Parquet data: ${errorMessage(error)}`, { cause: error });
  }
  return new Map([...fills].map(([name, fill]) => [name, fill.finish()]));
}

/**
 * The row groups that may hold samples in [fromMs, toMs): those whose timestamp column chunk's
 * statistics (min, max) overlap it. A group without usable statistics is kept (read and filtered
 * row by row), so files of other writers still answer correctly.
 */
export function rowGroupsOverlapping(metadata: FileMetaData, range: { fromMs: number; toMs: number }): number[] {
  const overlapping: number[] = [];
  if (!(range.fromMs < range.toMs)) return overlapping;
  metadata.row_groups.forEach((group, index) => {
    const chunk = group.columns.find((column) => column.meta_data?.path_in_schema[0] === STREAM_COLUMNS.timestamp)?.meta_data;
    const statistics = chunk?.statistics;
    const min = statisticMillis(statistics?.min_value ?? statistics?.min);
    const max = statisticMillis(statistics?.max_value ?? statistics?.max);
    if (min === undefined || max === undefined || (max >= range.fromMs && min < range.toMs)) overlapping.push(index);
  });
  return overlapping;
}

/** A timestamp statistic as hyparquet parsed it (READ_PARSERS: epoch ms; a plain INT64: bigint), or undefined. */
function statisticMillis(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  return undefined;
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

export function rowsToKeep(timestamps: NumericColumn, required: NumericColumn[]): Uint8Array | null {
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
export function sortedOrder(timestamps: Float64Array, keep: Uint8Array | null): Uint32Array | null {
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

/**
 * The rows of the answer: `order` (rows of the columns as read, when they had to be sorted or
 * some dropped) or else the rows start..end as stored; `rows` of them.
 */
export interface Selection {
  order: Uint32Array | null;
  start: number;
  end: number;
  rows: number;
}

/**
 * The rows with a timestamp in [fromMs, toMs) (every row without a range): by binary search on the
 * rows as stored when they are in time order (every file this codec writes), row by row otherwise.
 */
export function selectRange(timestamps: Float64Array, order: Uint32Array | null, range: { fromMs: number; toMs: number } | undefined): Selection {
  if (order === null) {
    const start = range ? lowerBound(timestamps, range.fromMs) : 0;
    const end = range ? Math.max(start, lowerBound(timestamps, range.toMs)) : timestamps.length;
    return { order: null, start, end, rows: end - start };
  }
  const kept = range ? order.filter((row) => timestamps[row]! >= range.fromMs && timestamps[row]! < range.toMs) : order;
  return { order: kept, start: 0, end: kept.length, rows: kept.length };
}

/** The first index whose value is ≥ `value` in a non-decreasing array. */
function lowerBound(values: Float64Array, value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The selected rows of a column, as a Float64Array of its own: the column itself when every row is
 * selected, else a copy (a view would take its whole buffer along to the main thread).
 */
export function gather(column: NumericColumn, selection: Selection): Float64Array {
  const { order, start, end } = selection;
  if (order === null) return start === 0 && end === column.values.length ? column.values : column.values.slice(start, end);
  const out = new Float64Array(order.length);
  for (let k = 0; k < order.length; k++) out[k] = column.values[order[k]!]!;
  return out;
}

/**
 * An optional column that holds no value at all is no column: the stream has none of them (from
 * schema_version 3 on, every position object has both optional columns, null where absent).
 */
export function optionalColumn(column: NumericColumn | undefined, selection: Selection): Float64Array | null {
  if (column === undefined) return null;
  if (selection.rows === 0 || (column.missing !== null && column.missing.every((missing) => missing === 1))) return null;
  return gather(column, selection);
}

export function mustGet(columns: Map<string, NumericColumn>, name: string): NumericColumn {
  const column = columns.get(name);
  if (column === undefined) throw new StreamCodecError('MISSING_COLUMN', `Required column "${name}" is missing`);
  return column;
}
