/**
 * Read guards (docs/data-model.md §10): everything checked before or while pages are decoded, so that
 * a hostile or foreign file fails with a StreamCodecError code instead of filling memory or being
 * misread: magic bytes and footer, column types, compression codecs, declared rows and decoded sizes,
 * and decompressors capped at what the footer declared.
 */
import * as zlib from 'node:zlib';
import { brotliDecompressSync, unzipSync } from 'node:zlib';

import {
  parquetMetadata,
  snappyUncompress,
  type CompressionCodec,
  type Compressors as ReadCompressors,
  type FileMetaData,
  type SchemaElement as ReadSchemaElement,
} from 'hyparquet';

import { READ_PARSERS } from './column-readers.js';
import { errorMessage, StreamCodecError } from './errors.js';

/**
 * Decoded bytes a column may declare per row (8 for a DOUBLE or INT64 plus levels and encoding
 * overhead, generously), plus a fixed allowance per column chunk for headers and dictionaries.
 */
const MAX_DECODED_BYTES_PER_ROW = 16;
const DECODED_BYTES_ALLOWANCE = 1 << 20;

/** node:zlib's zstd (Node ≥ 22.15, 23.8). */
const zstdDecompressSync = (zlib as Partial<typeof zlib>).zstdDecompressSync;

export const READABLE_CODECS: ReadonlySet<CompressionCodec> = new Set<CompressionCodec>([
  'UNCOMPRESSED',
  'SNAPPY',
  'GZIP',
  'BROTLI',
  ...(zstdDecompressSync === undefined ? [] : (['ZSTD'] as const)),
]);

/**
 * Decompressors that never produce more than the page header declares, nor more than `cap` bytes
 * (the largest column chunk the footer declared, itself bounded by the row count): a small page that
 * inflates to gigabytes fails after `cap` bytes instead of filling memory.
 */
export function cappedDecompressors(cap: number): ReadCompressors {
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
    ...(zstdDecompressSync === undefined
      ? {}
      : {
          ZSTD: (input: Uint8Array, outputLength: number) => {
            check(outputLength);
            return inflate(() => zstdDecompressSync(input, { maxOutputLength: Math.max(outputLength, 1) }));
          },
        }),
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
export function assertBoundedWork(metadata: FileMetaData, columns: readonly string[], maxRows: number): number {
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

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
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

export function readMetadata(file: ArrayBuffer): FileMetaData {
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

export function assertReadableColumn(element: ReadSchemaElement, isTimestamp: boolean): void {
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

export function assertReadableCodecs(metadata: FileMetaData, columns: readonly string[]): void {
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
