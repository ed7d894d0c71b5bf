/**
 * @unified-activity/parquet-streams: the Parquet codec of activity streams (docs/data-model.md §10).
 * The codec (encode/decode of one stream object, its schema and layout versions), the writer behind
 * it, and the sample types it reads and writes. See README.md.
 */
export {
  decodeStream,
  DEFAULT_MAX_ROWS,
  encodeStream,
  MAX_ROW_GROUPS,
  MIN_ROW_GROUP_BYTES,
  MIN_ROW_GROUP_ROWS,
  ParquetStreamCodec,
  parquetStreamCodec,
  type DecodedStream,
  type DecodeLimits,
  type ParquetStreamCodecOptions,
  type StreamCodec,
  rowGroupRows,
  SINGLE_ROW_GROUP_MAX_ROWS,
  type StreamCompression,
  type TimeRange,
} from './codec.js';
export { rowGroupsOverlapping } from './column-readers.js';
export { StreamCodecError, type StreamCodecErrorCode } from './errors.js';
export {
  isPositionSamples,
  isStreamType,
  SCALAR_STREAM_TYPES,
  type PositionSamples,
  type ScalarSamples,
  type ScalarStreamType,
  type StreamSamples,
  type StreamType,
} from './samples.js';
export {
  CURRENT_LAYOUT_SINCE,
  hasCurrentLayout,
  PARQUET_CONTENT_TYPE,
  SCHEMA_VERSION_METADATA_KEY,
  STREAM_COLUMNS,
  STREAM_SCHEMA_VERSION,
  STREAM_TYPE_METADATA_KEY,
} from './schema.js';
export { buildDictionary } from './writer/dictionary.js';
export { chooseDoubleEncoding, DICTIONARY_MAX_DISTINCT } from './writer/encoding-choice.js';
export {
  PAGE_ROWS,
  writeParquet,
  type DoubleColumn,
  type DoubleEncoding,
  type PageCompressor,
  type TimestampColumn,
  type WriteParquetOptions,
  type WriterColumn,
} from './writer/write-parquet.js';
