import { gzipSync } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
export { rng } from '../../libs/testing/seeded-random.js';

/** Epoch ms from `start`, one per `stepMs` (or a random 1–10 s step, HealthKit-like, when irregular). */
export function timestamps(start: Date, count: number, options: { stepMs?: number; irregular?: () => number } = {}): number[] {
  const out: number[] = [];
  let t = start.getTime();
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += options.irregular ? 1000 + Math.floor(options.irregular() * 9001) : (options.stepMs ?? 1000);
  }
  return out;
}

/** Realistic, non-integral values in a type's range (bit-exactness needs full doubles). */
export function scalarValues(type: string, count: number, random: () => number): number[] {
  const walk = (start: number, step: number, min: number, max: number, round?: (v: number) => number) => {
    let v = start;
    return Array.from({ length: count }, () => {
      v = Math.min(max, Math.max(min, v + (random() - 0.5) * step));
      return round ? round(v) : v;
    });
  };
  switch (type) {
    case 'heart_rate':
      return walk(120, 4, 40, 200, (v) => Math.round(v * 100) / 100);
    case 'altitude':
      return walk(420, 2, -20, 3000);
    case 'speed':
      return walk(3, 0.4, 0, 20);
    case 'power':
      return walk(220, 30, 0, 1200, Math.round);
    case 'cadence':
      return walk(85, 4, 0, 200, Math.round);
    case 'distance': {
      let d = 0;
      return Array.from({ length: count }, () => (d += random() * 4));
    }
    case 'temperature':
      return walk(18.5, 0.2, -10, 40);
    default:
      throw new Error(`no generator for ${type}`);
  }
}

export function track(count: number, random: () => number) {
  let lat = 47.3769;
  let lng = 8.5417;
  let alt = 408;
  const latitude: number[] = [];
  const longitude: number[] = [];
  const altitudeM: number[] = [];
  const horizontalAccuracyM: (number | null)[] = [];
  for (let i = 0; i < count; i++) {
    lat += (random() - 0.3) * 0.00003;
    lng += (random() - 0.4) * 0.00004;
    alt += (random() - 0.5) * 0.6;
    latitude.push(lat);
    longitude.push(lng);
    altitudeM.push(alt);
    horizontalAccuracyM.push(i % 50 === 7 ? null : 3 + random() * 5);
  }
  return { latitude, longitude, altitudeM, horizontalAccuracyM };
}

/**
 * A small Parquet file of `rows` heart-rate rows (constant values; 50,000,000 rows take ~60 KiB): the
 * decompression bomb of issue 8. One row group of `groupRows` rows is written, and the footer lists it
 * rows / groupRows times — row groups may share column chunks, so this is a valid file that DuckDB
 * reads as `rows` rows — which keeps building it fast and small.
 */
export function parquetDeclaringRows(rows: number, start: Date, groupRows = 500_000): Uint8Array {
  if (rows % groupRows !== 0) throw new Error('rows must be a multiple of groupRows');
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: [
      { name: 'root', num_children: 2 },
      {
        name: 'timestamp',
        type: 'INT64',
        repetition_type: 'REQUIRED',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      },
      { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    ],
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input, { level: 9 }) },
    statistics: false,
    kvMetadata: [{ key: 'stream_type', value: 'heart_rate' }],
  });
  void parquet.write({
    columnData: [
      { name: 'timestamp', data: new BigInt64Array(groupRows).fill(BigInt(start.getTime())), encoding: 'DELTA_BINARY_PACKED' },
      { name: 'value', data: new Float64Array(groupRows).fill(80), encoding: 'RLE_DICTIONARY' },
    ],
    rowGroupSize: groupRows,
  });
  const [group] = parquet.row_groups;
  for (let k = 1; k < rows / groupRows; k++) parquet.row_groups.push(group!);
  parquet.num_rows = BigInt(rows);
  parquet.finish();
  return new Uint8Array(writer.getBuffer());
}
