/**
 * `node dist/bench/row-groups.js` — what row groups cost and save (docs/parquet-codecs.md, "Row groups
 * for time ranges"): bytes of 1 h and 10 h streams at 1 Hz (and 2,000,000 samples at 50 Hz) with one
 * row group and with rowGroupRows' layout, and the decode time of the whole stream against a 1 h
 * slice (the middle hour) of the 10 h one. Synthetic data as bench:streams (seeded random walks).
 */
import { parquetMetadata } from 'hyparquet';
import { ParquetStreamCodec, parquetStreamCodec, type StreamSamples } from '@unified-activity/parquet-streams';
import { rng } from '../libs/testing/seeded-random.js';

const runs = Number(process.env.BENCH_RUNS ?? 25);
const START = Date.UTC(2026, 4, 1, 6);
const single = new ParquetStreamCodec({ rowGroupSize: 1 << 22 });

function stream(type: 'heart_rate' | 'position', count: number, stepMs: number, seed: number): StreamSamples {
  const random = rng(seed);
  const timestamps = Float64Array.from({ length: count }, (_, i) => START + i * stepMs);
  if (type === 'heart_rate') {
    let hr = 120;
    return { timestamps, values: Float64Array.from({ length: count }, () => (hr = Math.min(190, Math.max(60, Math.round(hr + (random() - 0.5) * 3))))) };
  }
  let lat = 47.3769;
  let lng = 8.5417;
  return {
    timestamps,
    latitude: Float64Array.from({ length: count }, () => (lat += (random() - 0.3) * 0.00003)),
    longitude: Float64Array.from({ length: count }, () => (lng += (random() - 0.4) * 0.00004)),
    altitudeM: null,
    horizontalAccuracyM: null,
  };
}

async function median(work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

console.log('| stream | samples | bytes, one group | bytes, row groups | groups | + bytes | decode all ms | decode 1 h slice ms | slice / all |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const type of ['heart_rate', 'position'] as const) {
  for (const [label, count, stepMs] of [['1 h at 1 Hz', 3600, 1000], ['10 h at 1 Hz', 36_000, 1000], ['11 h at 50 Hz', 2_000_000, 20]] as const) {
    const samples = stream(type, count, stepMs, 7);
    const one = single.encode(type, samples);
    const grouped = parquetStreamCodec.encode(type, samples);
    const groups = parquetMetadata(grouped.slice().buffer).row_groups.length;
    const all = await median(() => parquetStreamCodec.decode(grouped, type));
    const from = START + (count * stepMs) / 2 - 1_800_000;
    const range = { fromMs: from, toMs: from + 3_600_000 };
    const slice = count * stepMs > 3_600_000 ? await median(() => parquetStreamCodec.decode(grouped, type, { range })) : Number.NaN;
    console.log(
      `| ${type} | ${label} | ${one.byteLength} | ${grouped.byteLength} | ${groups} | ${(((grouped.byteLength - one.byteLength) / one.byteLength) * 100).toFixed(1)} % | ${all.toFixed(2)} | ${Number.isNaN(slice) ? '–' : slice.toFixed(2)} | ${Number.isNaN(slice) ? '–' : `${(slice / all).toFixed(2)}×`} |`,
    );
  }
}
