import { Column, is, SQL } from 'drizzle-orm';

interface SelectedField {
  path: string[];
  field: unknown;
}

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** What the postgres-js and PGlite prepared queries of Drizzle carry (not in its public types). */
interface MappablePreparedQuery {
  fields?: SelectedField[];
  customResultMapper?: (rows: unknown[][]) => unknown;
}

/**
 * Makes a prepared Drizzle select map its rows the cheap way, with the same result.
 *
 * Drizzle maps each row by walking every selected field again (`is()` class checks, an iterator
 * over the field's path, a decoder lookup) — for a 50-row page of 27 columns that costs more CPU
 * than the query's own network and parsing work (docs/benchmarks.md). For a flat selection (no
 * no nested objects, which joins select) the decoders are resolved once here and each row becomes a copy of one
 * template object filled in place: one object shape for every row, the same decoded values
 * (column.mapFromDriverValue, or the SQL field's decoder) as Drizzle's own mapper. Other queries
 * are left as they are.
 */
export function withFlatRowMapper<Q>(query: Q): Q {
  const prepared = query as MappablePreparedQuery;
  const fields = prepared.fields;
  // Drizzle's joinsNotNullableMap only ever nulls nested (joined) objects: irrelevant to flat paths.
  if (!fields || prepared.customResultMapper) return query;
  const decoders: Decoder[] = [];
  for (const { path, field } of fields) {
    if (path.length !== 1) return query;
    if (is(field, Column)) decoders.push(field as unknown as Decoder);
    else if (is(field, SQL)) decoders.push((field as unknown as { decoder: Decoder }).decoder);
    else if (is(field, SQL.Aliased)) decoders.push((field.sql as unknown as { decoder: Decoder }).decoder);
    else return query;
  }
  const keys = fields.map((f) => f.path[0]!);
  const template: Record<string, unknown> = Object.fromEntries(keys.map((key) => [key, null]));
  const count = keys.length;
  const mapRow = (row: unknown[]) => {
    const result = { ...template };
    for (let i = 0; i < count; i++) {
      const value = row[i];
      result[keys[i]!] = value === null ? null : decoders[i]!.mapFromDriverValue(value);
    }
    return result;
  };
  prepared.customResultMapper = (rows) => rows.map(mapRow);
  return query;
}
