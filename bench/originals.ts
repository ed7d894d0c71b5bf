/**
 * `npm run bench:originals` — which compression for archived originals (issue 24, item 1); the
 * archive uses brotli quality 5 (src/modules/streams/objects/original-encoding.ts).
 *
 * Data: every file of ORIGINALS_CORPUS (default ../shared/corpus/fit: real device files) and two
 * sync bodies as the sync route archives them (500 HealthKit workout summaries; 20 Strava rides with
 * one hour of 1 Hz streams each, bench/sync-bodies.ts). Each file and body is compressed on its own,
 * as the archive stores it. Per codec and level: stored bytes against the raw bytes and against
 * `gzip -9` of each file, and the CPU milliseconds per raw MB to compress and to decompress (process
 * CPU time, best of three rounds, one thread). Last, the bytes the archive itself stores for the
 * corpus (its encoder, one object per file). Benchmarks are not tests: this only prints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { encodeOriginal } from '../src/modules/streams/objects/original-encoding.js';
import { healthKitBatchBody, stravaBatchBody } from './sync-bodies.js';

const CORPUS = resolve(process.env.ORIGINALS_CORPUS ?? '../shared/corpus/fit');
const ROUNDS = 3;

interface Codec {
  name: string;
  compress(bytes: Uint8Array): Uint8Array;
  decompress(bytes: Uint8Array): Uint8Array;
}

const { constants } = zlib;
const zstd = (level: number): Codec => ({
  name: `zstd ${level}`,
  compress: (bytes) => zlib.zstdCompressSync(bytes, { params: { [constants.ZSTD_c_compressionLevel]: level } }),
  decompress: (bytes) => zlib.zstdDecompressSync(bytes),
});
const brotli = (quality: number): Codec => ({
  name: `brotli ${quality}`,
  compress: (bytes) =>
    zlib.brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }),
  decompress: (bytes) => zlib.brotliDecompressSync(bytes),
});
const gzip = (level: number): Codec => ({ name: `gzip ${level}`, compress: (bytes) => zlib.gzipSync(bytes, { level }), decompress: (bytes) => zlib.gunzipSync(bytes) });

// zstd is in node:zlib from Node 22.15 and 23.8 (the project runs on 22.12 too): measured where present.
const hasZstd = typeof zlib.zstdCompressSync === 'function';
const CODECS = [gzip(6), gzip(9), brotli(4), brotli(5), brotli(6), brotli(9), brotli(11), ...(hasZstd ? [zstd(3), zstd(9), zstd(15), zstd(18), zstd(19)] : [])];

function cpuMs(run: () => void): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

function measure(label: string, files: Uint8Array[]): void {
  const raw = files.reduce((n, file) => n + file.byteLength, 0);
  const gzip9 = files.reduce((n, file) => n + zlib.gzipSync(file, { level: 9 }).byteLength, 0);
  const mb = raw / 1e6;
  console.log(`\n${label}: ${files.length} object(s), ${raw} B raw, ${gzip9} B as gzip -9 per object`);
  console.log('| codec | stored B | × raw | × gzip -9 | compress ms/MB | decompress ms/MB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const codec of CODECS) {
    const compressed = files.map((file) => codec.compress(file));
    const stored = compressed.reduce((n, bytes) => n + bytes.byteLength, 0);
    compressed.forEach((bytes, i) => {
      if (!Buffer.from(codec.decompress(bytes)).equals(Buffer.from(files[i]!))) throw new Error(`${codec.name} does not round-trip`);
    });
    const compressMs = cpuMs(() => files.forEach((file) => codec.compress(file)));
    const decompressMs = cpuMs(() => compressed.forEach((bytes) => codec.decompress(bytes)));
    console.log(
      `| ${codec.name} | ${stored} | ${(stored / raw).toFixed(3)} | ${(stored / gzip9).toFixed(3)} | ${(compressMs / mb).toFixed(1)} | ${(decompressMs / mb).toFixed(1)} |`,
    );
  }
}

const fit = readdirSync(CORPUS)
  .filter((name) => name.toLowerCase().endsWith('.fit'))
  .sort()
  .map((name) => new Uint8Array(readFileSync(join(CORPUS, name))));
console.log(`bench:originals on ${process.version}, corpus ${CORPUS}`);
measure('FIT files', fit);
measure('Sync bodies (HealthKit 500 summaries, Strava 20 rides with streams)', [healthKitBatchBody(500), stravaBatchBody(20)]);

// What the archive stores for the corpus, through its own encoder (one object per file).
const stored = (await Promise.all(fit.map((file) => encodeOriginal(file)))).reduce((n, bytes) => n + bytes.byteLength, 0);
const raw = fit.reduce((n, file) => n + file.byteLength, 0);
const gzip9 = fit.reduce((n, file) => n + zlib.gzipSync(file, { level: 9 }).byteLength, 0);
console.log(`\nArchived originals of the FIT corpus (original-encoding.ts): ${stored} B stored for ${raw} B of files (${(stored / raw).toFixed(3)}×), ${(stored / gzip9).toFixed(3)}× gzip -9 per file`);
