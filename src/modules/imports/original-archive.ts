import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { compressedKey, decodeOriginal, decompressOriginal, encodeOriginal, logicalKey, COMPRESSED_MEDIA_TYPE } from '../streams/objects/original-encoding.js';
import type { ObjectStore } from '../streams/storage/object-store.js';
import { OBJECT_STORE } from '../streams/streams.service.js';

/** Media types of the originals, by the extension they are archived under. */
const MEDIA_TYPES: Record<string, string> = {
  fit: 'application/vnd.ant.fit',
  gpx: 'application/gpx+xml',
  tcx: 'application/vnd.garmin.tcx+xml',
  xml: 'application/xml',
  json: 'application/json',
};

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * DATA-MODEL §6/§10: raw payloads, Hive-style and content-addressed (the sha256 of the file's own
 * bytes), next to the streams; stored brotli-compressed, which the `.br` suffix says.
 */
export const originalKey = (athleteId: string, sha256: string, extension: string) =>
  compressedKey(`raw/athlete_id=${athleteId}/source=file/${sha256}.${extension}`);

/** Where an asynchronous import's uploaded files wait until its job has run. */
export const stagedUploadKey = (jobId: string, index: number) => `imports/jobs/${jobId}/${index}`;

/** The media type of the original archived under the key (its extension before any `.br`). */
export const mediaTypeOf = (key: string) => {
  const logical = logicalKey(key);
  return MEDIA_TYPES[logical.slice(logical.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
};

/** The extension of the original's file (`.fit`), whatever it is stored as. */
export const originalExtension = (key: string) => {
  const logical = logicalKey(key);
  return logical.slice(logical.lastIndexOf('.'));
};

/** Zip and gzip uploads (most large ones) are compressed already: compressing them again only costs CPU. */
const isCompressedAlready = (bytes: Uint8Array) =>
  (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[0] === 0x1f && bytes[1] === 0x8b);

/**
 * Keeps every imported file's exact bytes in object storage (the streams module's store), so an
 * activity can always be rebuilt from, or downloaded as, what the device wrote.
 */
@Injectable()
export class OriginalArchive {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  /**
   * Stores the bytes compressed under their key (originalKey: once, the same content is the same key);
   * answers the bytes the object takes in storage.
   */
  async keep(key: string, bytes: Uint8Array): Promise<number> {
    const existing = await this.store.stat(key);
    if (existing) return existing.size;
    const encoded = await encodeOriginal(bytes);
    await this.store.put(key, encoded, { contentType: COMPRESSED_MEDIA_TYPE, metadata: { 'media-type': mediaTypeOf(key) } });
    return encoded.byteLength;
  }

  /** The exact bytes of the original archived under the key, whether compressed (`.br`) or stored before originals were. */
  async get(key: string): Promise<Uint8Array> {
    return decodeOriginal(key, await this.store.get(key));
  }

  /**
   * Stages an upload for its job, compressed unless it is a zip or gzip already; answers the
   * encoding, which the job row records (a staged object lives no longer than its job, so it
   * needs no key of its own per encoding and no migration).
   */
  async stage(key: string, bytes: Uint8Array): Promise<'br' | undefined> {
    if (isCompressedAlready(bytes)) {
      await this.store.put(key, bytes, { contentType: 'application/octet-stream' });
      return undefined;
    }
    await this.store.put(key, await encodeOriginal(bytes), { contentType: COMPRESSED_MEDIA_TYPE });
    return 'br';
  }

  /** A staged upload's bytes as uploaded. */
  async getStaged(key: string, encoding: 'br' | undefined): Promise<Uint8Array> {
    const stored = await this.store.get(key);
    return encoding === 'br' ? decompressOriginal(stored) : stored;
  }

  remove(keys: string[]): Promise<void> {
    return this.store.delete(keys);
  }
}
