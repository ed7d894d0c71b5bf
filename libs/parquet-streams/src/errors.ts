/** What the codec refuses, with a machine-readable code (docs/data-model.md §10). */

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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
