import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { LocalObjectStore } from '../../src/modules/streams/storage/local-object-store.js';
import { MinioObjectStore } from '../../src/modules/streams/storage/minio-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { RawArchive, rawArchiveKey } from '../../src/modules/sync/raw-archive.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';

let s3: S3TestServer;
let dataDir: string;
const stores: Record<string, ObjectStore> = {};

beforeAll(async () => {
  s3 = await startS3Server();
  dataDir = await mkdtemp(join(tmpdir(), 'raw-archive-'));
  stores.local = new LocalObjectStore({ dataDir, bucket: 'raw-archive' });
  stores.s3 = new MinioObjectStore({ endpoint: s3.endpoint, bucket: 'raw-archive', accessKey: s3.accessKey, secretKey: s3.secretKey, region: 'us-east-1', pathStyle: true });
  for (const store of Object.values(stores)) await store.ensureReady();
});
afterAll(async () => {
  await stores.s3?.close?.();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe.each(['local', 's3'])('RawArchive on the %s object store', (kind) => {
  it('stores the exact bytes content-addressed, once, and gives them back', async () => {
    const store = stores[kind]!;
    const archive = new RawArchive(store);
    const athleteId = randomUUID();
    // Key order, spacing and number spelling that a JSON round trip would not keep.
    const bytes = new TextEncoder().encode('{"z":1,  "a":1.50, "big":1e21, "u":"Zürich"}\n');
    const first = await archive.put(athleteId, 'healthkit', bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // The sizes as received and as stored (compressed): what the original counts in the athlete's storage.
    expect(first).toEqual({ key: rawArchiveKey(athleteId, 'healthkit', sha256, 'json'), sha256, byteSize: bytes.byteLength, storedByteSize: (await store.stat(first.key))!.size });
    expect(first.key).toBe(`raw/athlete_id=${athleteId}/source=healthkit/${sha256}.json.br`);
    expect(Buffer.from(await archive.get(first.key)).equals(Buffer.from(bytes))).toBe(true);

    expect(await archive.put(athleteId, 'healthkit', bytes)).toEqual(first);
    const listed: string[] = [];
    for await (const object of store.list(`raw/athlete_id=${athleteId}/`)) listed.push(object.key);
    expect(listed).toEqual([first.key]);

    const other = await archive.put(athleteId, 'healthkit', new TextEncoder().encode('{"a":1}'), 'json');
    expect(other.key).not.toBe(first.key);
    expect(Buffer.from(await archive.get(first.key)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('stores the body brotli-compressed, and reads a body archived uncompressed before (its key without .br) as it is', async () => {
    const store = stores[kind]!;
    const archive = new RawArchive(store);
    const athleteId = randomUUID();
    const bytes = new TextEncoder().encode(JSON.stringify({ activities: Array.from({ length: 50 }, (_, i) => ({ id: i, name: 'Morning run', distance: 10_000 + i })) }));
    const { key } = await archive.put(athleteId, 'strava', bytes);
    const stored = await store.get(key);
    expect(stored.byteLength).toBeLessThan(bytes.byteLength / 4);
    expect(Buffer.from(brotliDecompressSync(stored)).equals(Buffer.from(bytes))).toBe(true);

    const oldKey = key.slice(0, -'.br'.length);
    await store.put(oldKey, bytes, { contentType: 'application/json' });
    expect(Buffer.from(await archive.get(oldKey)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('keeps other extensions (imported files) and refuses an extension that could escape the key layout', async () => {
    const archive = new RawArchive(stores[kind]!);
    const athleteId = randomUUID();
    const zipped = await archive.put(athleteId, 'file', new Uint8Array([0x50, 0x4b, 3, 4]), 'zip');
    expect(zipped.key.endsWith('.zip.br')).toBe(true);
    await expect(archive.put(athleteId, 'file', new Uint8Array([1]), '../x')).rejects.toThrow(/extension/);
  });
});
