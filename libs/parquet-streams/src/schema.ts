/**
 * The stream objects' schema (docs/data-model.md §10, "Parquet schemas"): schema and layout versions,
 * the content type, the file-level metadata keys and the column names.
 */
import type { StreamType } from './samples.js';

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
