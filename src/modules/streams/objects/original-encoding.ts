/**
 * How archived originals (imported files, sync bodies) are stored: brotli-compressed, under their
 * logical key plus `.br` (docs/data-model.md §6). The key still names the sha256 of the
 * UNCOMPRESSED bytes, so deduplication by content hash is unchanged; the suffix alone says how the
 * object is encoded. A suffix rather than object metadata (the local folder store keeps none) or a
 * database column (an object rewritten in place under the same key would be misread between the
 * write and the column's update): the compressed object is written beside the old one, one
 * transaction switches the activities to it, and the old one leaves through the deletion outbox.
 *
 * Brotli at quality 5: `npm run bench:originals` measured it against gzip and zstd (node:zlib) on real
 * FIT files and on sync bodies; it stores FIT files in 0.74× the bytes of `gzip -9` for about 12 ms
 * of CPU per MB, where zstd needs level 18 (~300 ms/MB) for as much (docs/data-model.md §6).
 * Compression and decompression run on libuv's thread pool (the async zlib API), not on the event loop.
 */
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants } from 'node:zlib';

export const COMPRESSED_SUFFIX = '.br';
/** Brotli's quality: the knee of size against CPU (bench/originals.ts); 11, the default, costs ~80× the CPU for 20 % less. */
export const BROTLI_QUALITY = 5;
/** What the store is told the compressed object is (S3's Content-Type); the original's own type is in the key. */
export const COMPRESSED_MEDIA_TYPE = 'application/octet-stream';

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);

export const isCompressedKey = (key: string) => key.endsWith(COMPRESSED_SUFFIX);

/** The key as the bytes were named before compression: `…/<sha256>.fit` for `…/<sha256>.fit.br`. */
export const logicalKey = (key: string) => (isCompressedKey(key) ? key.slice(0, -COMPRESSED_SUFFIX.length) : key);

/** The key a compressed original is stored under. */
export const compressedKey = (key: string) => (isCompressedKey(key) ? key : `${key}${COMPRESSED_SUFFIX}`);

/**
 * The smallest brotli window (2^10 … 2^24 bytes) that spans the input: a window beyond it finds no
 * more matches, and the 4 MiB default costs a third of a small file's compression CPU in setup
 * (bench:import). The decoder reads the window size from the stream, so any window decodes alike.
 */
const windowBits = (length: number) =>
  Math.max(constants.BROTLI_MIN_WINDOW_BITS, Math.min(constants.BROTLI_MAX_WINDOW_BITS, Math.ceil(Math.log2(length + 16))));

export async function encodeOriginal(bytes: Uint8Array): Promise<Uint8Array> {
  const compressed = await compress(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
      [constants.BROTLI_PARAM_LGWIN]: windowBits(bytes.byteLength),
    },
  });
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}

export async function decompressOriginal(stored: Uint8Array): Promise<Uint8Array> {
  const bytes = await decompress(stored);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The exact original bytes of the object stored under `key` (decompressed when its key says so). */
export const decodeOriginal = (key: string, stored: Uint8Array): Promise<Uint8Array> =>
  isCompressedKey(key) ? decompressOriginal(stored) : Promise.resolve(stored);
