import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
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

/** DATA-MODEL §6/§10: raw payloads, Hive-style and content-addressed, next to the streams. */
export const originalKey = (athleteId: string, sha256: string, extension: string) =>
  `raw/athlete_id=${athleteId}/source=file/${sha256}.${extension}`;

/** Where an asynchronous import's uploaded files wait until its job has run. */
export const stagedUploadKey = (jobId: string, index: number) => `imports/jobs/${jobId}/${index}`;

export const mediaTypeOf = (key: string) => MEDIA_TYPES[key.slice(key.lastIndexOf('.') + 1)] ?? 'application/octet-stream';

/**
 * Keeps every imported file's exact bytes in object storage (the streams module's store), so an
 * activity can always be rebuilt from, or downloaded as, what the device wrote.
 */
@Injectable()
export class OriginalArchive {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  /** Stores the bytes under their key (originalKey: once, the same content is the same key). */
  async keep(key: string, bytes: Uint8Array): Promise<void> {
    if (!(await this.store.stat(key))) await this.store.put(key, bytes, { contentType: mediaTypeOf(key) });
  }

  get(key: string): Promise<Uint8Array> {
    return this.store.get(key);
  }

  stage(jobId: string, index: number, bytes: Uint8Array): Promise<string> {
    const key = stagedUploadKey(jobId, index);
    return this.store.put(key, bytes, { contentType: 'application/octet-stream' }).then(() => key);
  }

  remove(keys: string[]): Promise<void> {
    return this.store.delete(keys);
  }
}
