import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { compressedKey, decodeOriginal, encodeOriginal, COMPRESSED_MEDIA_TYPE } from '../streams/objects/original-encoding.js';
import { OBJECT_STORE } from '../streams/streams.service.js';
import type { ObjectStore } from '../streams/storage/object-store.js';

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  gz: 'application/gzip',
  zip: 'application/zip',
  fit: 'application/vnd.ant.fit',
  gpx: 'application/gpx+xml',
  tcx: 'application/vnd.garmin.tcx+xml',
  xml: 'application/xml',
};

/**
 * DATA-MODEL §6, §10: raw payloads beside the streams, content-addressed (the sha256 of the bytes
 * as received), Hive-style; stored brotli-compressed, which the `.br` suffix says.
 */
export const rawArchiveKey = (athleteId: string, source: string, sha256: string, extension: string) =>
  compressedKey(`raw/athlete_id=${athleteId}/source=${source}/${sha256}.${extension}`);

export interface ArchivedObject {
  key: string;
  /** Hex sha256 of the bytes as received (not of the stored, compressed ones): the key's file name. */
  sha256: string;
  /** Bytes as received. */
  byteSize: number;
  /** Bytes the object takes in storage (compressed). */
  storedByteSize: number;
}

/**
 * The archive of exact bytes as received (sync batch bodies; imported files can use it too).
 * Content-addressed, so archiving the same bytes twice is one object, and a write never replaces
 * different bytes under a key. Writes go first, outside any transaction: an archived body that no
 * row refers to (its batch failed) is harmless and nothing is lost.
 */
@Injectable()
export class RawArchive {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  async put(athleteId: string, source: string, bytes: Uint8Array, extension = 'json'): Promise<ArchivedObject> {
    if (!/^[a-z0-9]+(\.[a-z0-9]+)*$/.test(extension)) throw new Error(`Invalid archive extension ${JSON.stringify(extension)}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = rawArchiveKey(athleteId, source, sha256, extension);
    // A replayed body is already there: one stat instead of re-uploading the bytes.
    const existing = await this.store.stat(key);
    if (existing) return { key, sha256, byteSize: bytes.byteLength, storedByteSize: existing.size };
    const last = extension.split('.').at(-1)!;
    const mediaType = CONTENT_TYPES[last] ?? 'application/octet-stream';
    const encoded = await encodeOriginal(bytes);
    await this.store.put(key, encoded, { contentType: COMPRESSED_MEDIA_TYPE, metadata: { sha256, 'media-type': mediaType } });
    return { key, sha256, byteSize: bytes.byteLength, storedByteSize: encoded.byteLength };
  }

  /** Whether these exact bytes are archived already (a replayed webhook body). */
  async has(athleteId: string, source: string, bytes: Uint8Array, extension = 'json'): Promise<boolean> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return (await this.store.stat(rawArchiveKey(athleteId, source, sha256, extension))) !== undefined;
  }

  /** The exact bytes as received, whether archived compressed (`.br`) or, before that, as they were. */
  async get(key: string): Promise<Uint8Array> {
    return decodeOriginal(key, await this.store.get(key));
  }
}
