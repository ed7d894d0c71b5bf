import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import { parseEnv } from '../../src/config/env.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import { LocalObjectStore } from '../../src/modules/streams/storage/local-object-store.js';
import { MinioObjectStore, parseS3Endpoint } from '../../src/modules/streams/storage/minio-object-store.js';
import {
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectStoreError,
  ObjectStoreUnavailableError,
  type ObjectStore,
  type StoredObjectInfo,
} from '../../src/modules/streams/storage/object-store.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';

const PARQUET = { contentType: 'application/vnd.apache.parquet' };
const MiB = 1024 * 1024;

/** What differs between the adapters; everything else is the shared suite below. */
interface Fixture {
  createStore(bucket: string): ObjectStore;
  /** Checked behind the store's back: is the bucket / folder there? */
  containerExists(bucket: string): Promise<boolean>;
  /** A store whose every I/O would fail, to prove that validation happens before any. */
  createUnreachableStore(): ObjectStore;
  dispose(): Promise<void>;
}

async function localFixture(): Promise<Fixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'object-store-local-'));
  const notAFolder = join(dataDir, 'plain-file');
  await writeFile(notAFolder, 'x');
  return {
    createStore: (bucket) => new LocalObjectStore({ dataDir, bucket }),
    containerExists: async (bucket) => existsSync(join(dataDir, 'objects', bucket)),
    // Every path below a regular file fails with ENOTDIR.
    createUnreachableStore: () => new LocalObjectStore({ dataDir: notAFolder, bucket: 'unreachable' }),
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** The bare minio client, to look at the service behind the adapter's back. */
const rawClient = (server: S3TestServer): Client =>
  new Client({ endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' });

function minioStore(
  server: Pick<S3TestServer, 'endpoint'> & Partial<Pick<S3TestServer, 'accessKey' | 'secretKey'>>,
  bucket: string,
  requestTimeoutMs?: number,
): MinioObjectStore {
  return new MinioObjectStore({
    endpoint: server.endpoint,
    bucket,
    accessKey: server.accessKey ?? 'S3RVER',
    secretKey: server.secretKey ?? 'S3RVER',
    region: 'us-east-1',
    pathStyle: true,
    requestTimeoutMs,
  });
}

async function s3Fixture(): Promise<Fixture> {
  const server = await startS3Server();
  const raw = rawClient(server);
  const freePort = await unusedPort();
  return {
    createStore: (bucket) => minioStore(server, bucket),
    containerExists: (bucket) => raw.bucketExists(bucket),
    createUnreachableStore: () => minioStore({ endpoint: `http://127.0.0.1:${freePort}` }, 'unreachable'),
    dispose: () => server.close(),
  };
}

/** A port nothing listens on (taken, then released). */
async function unusedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function collect(iterable: AsyncIterable<StoredObjectInfo>): Promise<StoredObjectInfo[]> {
  const items: StoredObjectInfo[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await collect(store.list(prefix))).map((item) => item.key).sort();
}

const streamKey = (athleteId: string, activityId: string, streamType: string): string =>
  `streams/athlete_id=${athleteId}/activity_id=${activityId}/${streamType}.parquet`;

/** A key no other test uses, so tests sharing a bucket do not see each other's objects. */
const freshKey = (streamType = 'heart_rate'): string => streamKey(randomUUID(), randomUUID(), streamType);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Byte-exact comparison that fails with a readable message instead of a multi-megabyte diff. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(sha256(actual)).toBe(sha256(expected));
}

const INVALID_KEYS: [string, string][] = [
  ['empty', ''],
  ['absolute', '/streams/a.parquet'],
  ['parent segment', 'streams/../escape.parquet'],
  ['only a parent segment', '..'],
  ['leading parent segment', '../escape.parquet'],
  ['dot segment', 'streams/./a.parquet'],
  ['empty segment', 'streams//a.parquet'],
  ['trailing slash', 'streams/a/'],
  ['backslash', 'streams\\a.parquet'],
  ['NUL', 'streams/a\u0000.parquet'],
  ['newline', 'streams/a\n.parquet'],
  ['DEL', 'streams/a\u007f.parquet'],
  // 1023 characters but 1025 bytes: the limit is on UTF-8 bytes, as in S3.
  ['over 1024 bytes', `${'k'.repeat(100)}/`.repeat(10) + 'é'.repeat(2) + 'k'.repeat(11)],
];

describe.each([
  ['local', localFixture],
  ['s3', s3Fixture],
] as const)('ObjectStore behaviour: %s adapter', (kind, createFixture) => {
  let fixture: Fixture;
  let store: ObjectStore;

  beforeAll(async () => {
    fixture = await createFixture();
    store = fixture.createStore('object-store-test');
    await store.ensureReady();
  });

  afterAll(async () => {
    await store?.close?.();
    await fixture?.dispose();
  });

  it('reports its kind and bucket', () => {
    expect(store.kind).toBe(kind);
    expect(store.bucket).toBe('object-store-test');
  });

  it('ensureReady creates the bucket or folder, and is idempotent even when called concurrently', async () => {
    const bucket = `fresh-${randomBytes(4).toString('hex')}`;
    const fresh = fixture.createStore(bucket);
    try {
      expect(await fixture.containerExists(bucket)).toBe(false);
      await fresh.ensureReady();
      expect(await fixture.containerExists(bucket)).toBe(true);
      await Promise.all([fresh.ensureReady(), fresh.ensureReady(), fresh.ensureReady()]);
      await fresh.ensureReady();
      const key = freshKey();
      await fresh.put(key, Buffer.from('after ensureReady'), PARQUET);
      expect(Buffer.from(await fresh.get(key)).toString()).toBe('after ensureReady');
    } finally {
      await fresh.close?.();
    }
  });

  it('round-trips bytes exactly: small, 5 MB of random data, empty, and a view into a larger buffer', async () => {
    const small = Buffer.from('PAR1 not really parquet PAR1');
    const large = randomBytes(5 * MiB);
    const empty = new Uint8Array(0);
    // A Uint8Array that does not start at offset 0 of its ArrayBuffer: only the viewed bytes count.
    const backing = randomBytes(4096);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 1000, 1500);
    const cases: [string, Uint8Array][] = [
      [freshKey('heart_rate'), small],
      [freshKey('position'), large],
      [freshKey('power'), empty],
      [freshKey('speed'), view],
    ];
    for (const [key, body] of cases) await store.put(key, body, PARQUET);
    for (const [key, body] of cases) {
      const read = await store.get(key);
      expect(read).toBeInstanceOf(Uint8Array);
      expectSameBytes(read, body);
    }
    expect(Buffer.from(await store.get(cases[3]![0])).equals(backing.subarray(1000, 2500))).toBe(true);
  });

  it('get returns a plain Uint8Array that owns its whole ArrayBuffer, also for objects under 4 KiB', async () => {
    // Node hands out small Buffers as slices of a shared 8 KiB pool; code that passes `.buffer`
    // on (as Parquet readers take an ArrayBuffer) would then read unrelated bytes.
    for (const size of [1, 100, 2760, 5000]) {
      const key = freshKey();
      const body = randomBytes(size);
      await store.put(key, body, PARQUET);
      const read = await store.get(key);
      expect(Buffer.isBuffer(read)).toBe(false);
      expect([read.byteOffset, read.buffer.byteLength]).toEqual([0, size]);
      expect(Buffer.from(read.buffer).equals(body)).toBe(true);
    }
  });

  it('stat gives the size and modification time, and undefined for a missing key', async () => {
    const key = freshKey();
    const before = Date.now();
    await store.put(key, randomBytes(12_345), PARQUET);
    const info = await store.stat(key);
    expect(info).toEqual({ key, size: 12_345, lastModified: expect.any(Date) });
    // s3rver and most file systems keep whole seconds or better.
    expect(info!.lastModified!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(info!.lastModified!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await store.stat(freshKey())).toBeUndefined();
    // A "folder" of other keys is not an object.
    expect(await store.stat(key.slice(0, key.lastIndexOf('/')))).toBeUndefined();
  });

  it('get of a missing key rejects with ObjectNotFoundError naming the key', async () => {
    const key = freshKey();
    const error = await store.get(key).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect(error).toBeInstanceOf(ObjectStoreError);
    expect(error).not.toBeInstanceOf(ObjectStoreUnavailableError);
    expect((error as ObjectNotFoundError).key).toBe(key);
  });

  it('list returns exactly the objects under a prefix, with their sizes', async () => {
    const [athleteA, athleteB, activity1, activity2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const objects: [string, number][] = [
      [streamKey(athleteA, activity1, 'heart_rate'), 10],
      [streamKey(athleteA, activity1, 'position'), 20],
      [streamKey(athleteA, activity2, 'power'), 30],
      [streamKey(athleteB, activity1, 'heart_rate'), 40],
    ];
    for (const [key, size] of objects) await store.put(key, randomBytes(size), PARQUET);

    const activity1Items = await collect(store.list(`streams/athlete_id=${athleteA}/activity_id=${activity1}/`));
    expect(activity1Items.map(({ key, size }) => ({ key, size })).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: objects[0]![0], size: 10 },
      { key: objects[1]![0], size: 20 },
    ]);
    expect(await listKeys(store, `streams/athlete_id=${athleteA}/`)).toEqual([objects[0]![0], objects[1]![0], objects[2]![0]].sort());
    expect(await listKeys(store, `streams/athlete_id=${athleteB}/`)).toEqual([objects[3]![0]]);
    // A plain string prefix, as in S3: it may end in the middle of a segment.
    expect(await listKeys(store, `streams/athlete_id=${athleteA}/activity_id=${activity1}/heart`)).toEqual([objects[0]![0]]);
    expect(await listKeys(store, `streams/athlete_id=${athleteA.slice(0, 30)}`)).toEqual(
      [objects[0]![0], objects[1]![0], objects[2]![0]].sort(),
    );
    expect(await listKeys(store, `streams/athlete_id=${randomUUID()}/`)).toEqual([]);
    const everything = await listKeys(store, '');
    for (const [key] of objects) expect(everything).toContain(key);
    // Stopping early must not hang or leak: the iterator is closed by `break`.
    for await (const item of store.list(`streams/athlete_id=${athleteA}/`)) {
      expect(item.key.startsWith(`streams/athlete_id=${athleteA}/`)).toBe(true);
      break;
    }
  });

  it('put replaces an existing object', async () => {
    const key = freshKey();
    await store.put(key, Buffer.from('first version, rather long'), PARQUET);
    await store.put(key, Buffer.from('second'), PARQUET);
    expect(Buffer.from(await store.get(key)).toString()).toBe('second');
    expect((await store.stat(key))?.size).toBe(6);
    expect(await listKeys(store, key)).toEqual([key]);
  });

  it('putFile stores a file’s bytes exactly (replacing an object), and openBlob reads them lazily on the local store only', async () => {
    const key = freshKey();
    const folder = await mkdtemp(join(tmpdir(), 'put-file-'));
    try {
      const path = join(folder, 'export.zip');
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      await writeFile(path, bytes);
      await store.put(key, Buffer.from('older'), PARQUET);
      await store.putFile(key, path, { contentType: 'application/zip' });
      expect(Buffer.from(await store.get(key)).equals(bytes)).toBe(true);
      expect((await store.stat(key))?.size).toBe(bytes.byteLength);
      const blob = await store.openBlob(key);
      if (kind === 'local') expect(Buffer.from(await blob!.arrayBuffer()).equals(bytes)).toBe(true);
      else expect(blob).toBeUndefined();
      if (kind === 'local') await expect(store.openBlob(freshKey())).rejects.toBeInstanceOf(ObjectNotFoundError);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('delete removes only the named keys and is idempotent', async () => {
    const athlete = randomUUID();
    const activity = randomUUID();
    const [gone1, gone2, kept] = ['heart_rate', 'position', 'power'].map((type) => streamKey(athlete, activity, type)) as [string, string, string];
    for (const key of [gone1, gone2, kept]) await store.put(key, Buffer.from(key), PARQUET);

    await store.delete([gone1, gone2, gone1, freshKey()]);
    expect(await store.stat(gone1)).toBeUndefined();
    expect(await store.stat(gone2)).toBeUndefined();
    expect(Buffer.from(await store.get(kept)).toString()).toBe(kept);
    expect(await listKeys(store, `streams/athlete_id=${athlete}/`)).toEqual([kept]);

    await expect(store.delete([gone1, gone2])).resolves.toBeUndefined();
    await expect(store.delete([])).resolves.toBeUndefined();
    await store.delete([kept]);
    expect(await listKeys(store, `streams/athlete_id=${athlete}/`)).toEqual([]);
  });

  it('deletes more keys than one S3 DeleteObjects request takes', async () => {
    const athlete = randomUUID();
    const keys = Array.from({ length: 1005 }, (_, index) => `streams/athlete_id=${athlete}/activity_id=${randomUUID()}/n${index}.parquet`);
    const present = [keys[0]!, keys[999]!, keys[1000]!, keys[1004]!];
    for (const key of present) await store.put(key, Buffer.from('x'), PARQUET);
    await store.delete(keys);
    expect(await listKeys(store, `streams/athlete_id=${athlete}/`)).toEqual([]);
  });

  it.each(INVALID_KEYS)('rejects an invalid key (%s) before any I/O', async (_label, key) => {
    // Any I/O on this store fails with another error, so InvalidObjectKeyError proves none happened.
    const unreachable = fixture.createUnreachableStore();
    try {
      await expect(unreachable.put(key, Buffer.from('x'), PARQUET)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(unreachable.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(unreachable.stat(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(unreachable.delete([key])).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(unreachable.presignedGetUrl(key, 60)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      // The unreachable store really does fail on I/O, differently.
      const ioError = await unreachable.put('streams/valid.parquet', Buffer.from('x'), PARQUET).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ioError).toBeInstanceOf(ObjectStoreError);
      expect(ioError).not.toBeInstanceOf(InvalidObjectKeyError);
    } finally {
      await unreachable.close?.();
    }
  });

  it('rejects invalid prefixes, and a batch delete with one invalid key deletes nothing', async () => {
    for (const prefix of ['/streams', 'streams/../x', 'a\\b', 'a\u0000']) {
      await expect(collect(store.list(prefix))).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
    const key = freshKey();
    await store.put(key, Buffer.from('keep me'), PARQUET);
    await expect(store.delete([key, '../outside'])).rejects.toBeInstanceOf(InvalidObjectKeyError);
    expect(Buffer.from(await store.get(key)).toString()).toBe('keep me');
  });

  it('accepts a key of exactly 1024 bytes', async () => {
    const key = `${'k'.repeat(100)}/`.repeat(10) + 'é'.repeat(2) + 'k'.repeat(10);
    expect(Buffer.byteLength(key)).toBe(1024);
    await store.put(key, Buffer.from('long key'), PARQUET);
    expect(Buffer.from(await store.get(key)).toString()).toBe('long key');
    await store.delete([key]);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('stores objects with metadata, and rejects metadata that cannot travel as HTTP headers', async () => {
    const key = freshKey();
    const metadata = { 'athlete-id': randomUUID(), 'stream-type': 'heart_rate', 'sample-count': '3600', 'Content-Type': 'text/plain' };
    await store.put(key, Buffer.from('with metadata'), { ...PARQUET, metadata });
    expect(Buffer.from(await store.get(key)).toString()).toBe('with metadata');
    expect((await store.stat(key))?.size).toBe(13);

    const bad = freshKey();
    await expect(store.put(bad, Buffer.from('x'), { ...PARQUET, metadata: { 'source-name': 'Zürich run' } })).rejects.toBeInstanceOf(ObjectStoreError);
    await expect(store.put(bad, Buffer.from('x'), { ...PARQUET, metadata: { 'bad name': 'x' } })).rejects.toBeInstanceOf(ObjectStoreError);
    await expect(store.put(bad, Buffer.from('x'), { ...PARQUET, metadata: { note: 'line\nbreak' } })).rejects.toBeInstanceOf(ObjectStoreError);
    expect(await store.stat(bad)).toBeUndefined();
  });

  it(kind === 's3' ? 'presignedGetUrl gives a URL that downloads the object byte-exact' : 'presignedGetUrl gives undefined', async () => {
    const key = freshKey();
    const body = randomBytes(256 * 1024);
    await store.put(key, body, PARQUET);
    const url = await store.presignedGetUrl(key, 300);
    if (kind === 'local') {
      expect(url).toBeUndefined();
      return;
    }
    expect(url).toEqual(expect.stringContaining('X-Amz-Signature='));
    const response = await fetch(url!);
    expect(response.status).toBe(200);
    expectSameBytes(new Uint8Array(await response.arrayBuffer()), body);
    // The URL is for this key only.
    const missing = await fetch((await store.presignedGetUrl(freshKey(), 300))!);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
  });
});

describe('LocalObjectStore specifics', () => {
  let dataDir: string;
  let store: LocalObjectStore;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'object-store-local-only-'));
    store = new LocalObjectStore({ dataDir, bucket: 'activity-streams' });
    await store.ensureReady();
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function filesUnder(folder: string): Promise<string[]> {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  }

  it('stores under <DATA_DIR>/objects/<bucket>/<key>', async () => {
    const key = freshKey();
    await store.put(key, Buffer.from('where am I'), PARQUET);
    expect(store.root).toBe(join(dataDir, 'objects', 'activity-streams'));
    expect((await stat(join(dataDir, 'objects', 'activity-streams', ...key.split('/')))).size).toBe(10);
  });

  it('leaves no temp files behind, also when writes to one key overlap', async () => {
    const key = freshKey();
    await Promise.all(Array.from({ length: 20 }, (_, index) => store.put(key, randomBytes(10_000 + index), PARQUET)));
    await store.put(freshKey(), Buffer.alloc(0), PARQUET);
    const files = await filesUnder(store.root);
    expect(files.filter((file) => file.endsWith('.tmp'))).toEqual([]);
    expect(files).toContain(join(store.root, ...key.split('/')));
    expect((await store.stat(key))!.size).toBeGreaterThanOrEqual(10_000);
  });

  it('readers see the old or the new object during an overwrite, never a mix or a truncated file', async () => {
    const key = freshKey();
    const a = Buffer.alloc(2 * MiB, 0xaa);
    const b = Buffer.alloc(3 * MiB, 0xbb);
    await store.put(key, a, PARQUET);
    let writing = true;
    const writer = (async () => {
      for (let round = 0; round < 15; round++) await store.put(key, round % 2 ? a : b, PARQUET);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const read = Buffer.from(await store.get(key));
      const expected = read[0] === 0xaa ? a : b;
      expect(read.equals(expected)).toBe(true);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('does not list a temp file left by a crashed write, and does not accept keys that look like one', async () => {
    const athlete = randomUUID();
    const key = streamKey(athlete, randomUUID(), 'heart_rate');
    await store.put(key, Buffer.from('complete'), PARQUET);
    const folder = join(store.root, ...key.split('/').slice(0, -1));
    await writeFile(join(folder, '.power.parquet.0123456789abcdef.tmp'), 'half-writ');
    expect(await listKeys(store, `streams/athlete_id=${athlete}/`)).toEqual([key]);
    await expect(store.get(key.replace('heart_rate', 'power'))).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.put(`${key.slice(0, key.lastIndexOf('/'))}/.x.0123456789abcdef.tmp`, Buffer.from('x'), PARQUET)).rejects.toBeInstanceOf(
      InvalidObjectKeyError,
    );
  });

  it('a key with .. cannot reach outside the root', async () => {
    const outside = join(dataDir, 'objects', 'escaped.parquet');
    for (const key of ['../escaped.parquet', 'streams/../../escaped.parquet', 'streams/x/../../../escaped.parquet']) {
      await expect(store.put(key, Buffer.from('escape'), PARQUET)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.delete([key])).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
    expect(existsSync(outside)).toBe(false);
    // Nothing above the root is listed either.
    await writeFile(outside, 'not an object');
    try {
      expect((await listKeys(store, '')).some((key) => key.includes('escaped'))).toBe(false);
    } finally {
      await rm(outside);
    }
  });

  it('delete prunes folders left empty, but never the root', async () => {
    const athlete = randomUUID();
    const [first, second] = [streamKey(athlete, randomUUID(), 'heart_rate'), streamKey(athlete, randomUUID(), 'power')];
    await store.put(first, Buffer.from('1'), PARQUET);
    await store.put(second, Buffer.from('2'), PARQUET);
    const athleteFolder = join(store.root, 'streams', `athlete_id=${athlete}`);
    await store.delete([first]);
    expect(existsSync(join(store.root, ...first.split('/').slice(0, -1)))).toBe(false);
    expect(existsSync(athleteFolder)).toBe(true);
    await store.delete([second]);
    expect(existsSync(athleteFolder)).toBe(false);

    const alone = new LocalObjectStore({ dataDir: await mkdtemp(join(tmpdir(), 'object-store-prune-')), bucket: 'b-1' });
    try {
      await alone.ensureReady();
      await alone.put('one.parquet', Buffer.from('1'), PARQUET);
      await alone.delete(['one.parquet']);
      expect(existsSync(alone.root)).toBe(true);
      expect(await readdir(alone.root)).toEqual([]);
    } finally {
      await rm(join(alone.root, '..', '..'), { recursive: true, force: true });
    }
  });

  it('a put succeeds while a delete prunes the same folder', async () => {
    const athlete = randomUUID();
    const activity = randomUUID();
    for (let round = 0; round < 50; round++) {
      const [old, next] = [streamKey(athlete, activity, `old${round}`), streamKey(athlete, activity, `new${round}`)];
      await store.put(old, Buffer.from('old'), PARQUET);
      await Promise.all([store.delete([old]), store.put(next, Buffer.from('new'), PARQUET)]);
      expect(Buffer.from(await store.get(next)).toString()).toBe('new');
      await store.delete([next]);
    }
  });
});

describe('MinioObjectStore specifics (s3rver)', () => {
  let server: S3TestServer;
  let store: MinioObjectStore;

  beforeAll(async () => {
    server = await startS3Server({ implementation: 's3rver' });
    store = minioStore(server, 'activity-streams');
    await store.ensureReady();
  });

  afterAll(async () => {
    await store?.close();
    await server?.close();
  });

  it('sends the content type and user metadata to the service', async () => {
    const key = freshKey();
    const athleteId = randomUUID();
    await store.put(key, Buffer.from('x'), { ...PARQUET, metadata: { 'athlete-id': athleteId, 'Content-Type': 'text/plain' } });
    const raw = rawClient(server);
    const { metaData } = await raw.statObject('activity-streams', key);
    expect(metaData).toMatchObject({ 'athlete-id': athleteId });
    // A metadata entry named like a standard header stays user metadata (x-amz-meta-content-type).
    // minio's statObject folds both into one `content-type` entry, so ask the service directly.
    const response = await fetch((await store.presignedGetUrl(key, 60))!);
    expect(response.headers.get('content-type')).toBe(PARQUET.contentType);
    expect(response.headers.get('x-amz-meta-content-type')).toBe('text/plain');
    expect(await response.text()).toBe('x');
  });

  it('deletes all streams of an activity at once, although s3rver often answers the first try with 500', async () => {
    // s3rver deletes the keys of one request concurrently and its folder clean-up races; the
    // retry after a 5xx (on a now idempotent request) is what makes this pass.
    for (let round = 0; round < 10; round++) {
      const athlete = randomUUID();
      const activity = randomUUID();
      const keys = ['heart_rate', 'position', 'power', 'cadence'].map((type) => streamKey(athlete, activity, type));
      for (const key of keys) await store.put(key, Buffer.from(key), PARQUET);
      await store.delete(keys);
      expect(await listKeys(store, `streams/athlete_id=${athlete}/`)).toEqual([]);
    }
  });

  it('uploads 65 MiB in a single PUT (more than minio would send without multipart by default)', async () => {
    // Through an HTTP relay that records each request the service receives and its body size.
    const seen: { method: string; url: string; bytes: number }[] = [];
    const relay: HttpServer = createHttpServer((request, response) => {
      const entry = { method: request.method!, url: request.url!, bytes: 0 };
      seen.push(entry);
      request.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
      const upstream = httpRequest({ host: '127.0.0.1', port: server.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayed = minioStore({ endpoint: `http://127.0.0.1:${(relay.address() as AddressInfo).port}` }, 'activity-streams');
    try {
      const key = freshKey('position');
      const body = randomBytes(65 * MiB);
      await relayed.put(key, body, PARQUET);
      const path = `/activity-streams/${key.split('/').map(encodeURIComponent).join('/')}`;
      // Everything the service received: one PUT of the whole body, no multipart upload (POST ?uploads, PUT ?partNumber=…).
      expect(seen).toEqual([{ method: 'PUT', url: path, bytes: 65 * MiB }]);
      expectSameBytes(await store.get(key), body);
      await store.delete([key]);
    } finally {
      await relayed.close();
      relay.closeAllConnections();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it('an outage makes every operation fail fast with ObjectStoreUnavailableError, and restart() recovers', async () => {
    const key = freshKey();
    await store.put(key, Buffer.from('survives the outage'), PARQUET);
    await server.stop();
    try {
      const operations: [string, () => Promise<unknown>][] = [
        ['ensureReady', () => store.ensureReady()],
        ['put', () => store.put(freshKey(), Buffer.from('x'), PARQUET)],
        ['get', () => store.get(key)],
        ['stat', () => store.stat(key)],
        ['list', () => collect(store.list('streams/'))],
        ['delete', () => store.delete([key])],
      ];
      for (const [name, operation] of operations) {
        const started = performance.now();
        const error = await operation().then(
          () => new Error(`${name} succeeded during the outage`),
          (caught: unknown) => caught,
        );
        const elapsed = performance.now() - started;
        expect([name, error]).toEqual([name, expect.any(ObjectStoreUnavailableError)]);
        expect(elapsed).toBeLessThan(10_000);
      }
      // Signing needs no round trip, so a download link can still be issued.
      await expect(store.presignedGetUrl(key, 60)).resolves.toEqual(expect.any(String));
    } finally {
      await server.restart();
    }
    expect(Buffer.from(await store.get(key)).toString()).toBe('survives the outage');
    const after = freshKey();
    await store.put(after, Buffer.from('after'), PARQUET);
    expect(await listKeys(store, after)).toEqual([after]);
    await store.delete([key, after]);
    expect(await store.stat(key)).toBeUndefined();
  });

  it('a server that accepts connections but never answers fails within the request timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const stuck = minioStore({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` }, 'activity-streams', 500);
    try {
      for (const operation of [() => stuck.get('a.parquet'), () => stuck.put('a.parquet', Buffer.from('x'), PARQUET)]) {
        const started = performance.now();
        await expect(operation()).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
        const elapsed = performance.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(400);
        expect(elapsed).toBeLessThan(3_000);
      }
    } finally {
      await stuck.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('retries a 5xx answer once, then maps it to ObjectStoreUnavailableError; 501 is a plain ObjectStoreError', async () => {
    let statuses: number[] = [];
    let requests = 0;
    const failing: HttpServer = createHttpServer((request, response) => {
      requests++;
      request.resume();
      const status = statuses.shift() ?? 200;
      if (status === 200) {
        // Enough of a HEAD object answer for statObject.
        response.writeHead(200, { 'content-length': '5', 'last-modified': new Date().toUTCString(), etag: '"abc"' });
        response.end();
        return;
      }
      response.writeHead(status, { 'content-type': 'application/xml' });
      response.end(`<?xml version="1.0"?><Error><Code>Whatever</Code><Message>status ${status}</Message></Error>`);
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const broken = minioStore({ endpoint: `http://127.0.0.1:${(failing.address() as AddressInfo).port}` }, 'activity-streams');
    try {
      for (const status of [500, 502, 503, 504]) {
        statuses = [status, status, status, status];
        requests = 0;
        await expect(broken.get('a.parquet')).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
        await expect(broken.put('a.parquet', Buffer.from('x'), PARQUET)).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
        expect(requests).toBe(4);
      }
      // One 5xx in a row is absorbed, on the same connection (the failed answer was drained).
      statuses = [503];
      requests = 0;
      await expect(broken.stat('a.parquet')).resolves.toMatchObject({ key: 'a.parquet', size: 5 });
      expect(requests).toBe(2);

      statuses = [501];
      requests = 0;
      const error = await broken.stat('a.parquet').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ObjectStoreError);
      expect(error).not.toBeInstanceOf(ObjectStoreUnavailableError);
      expect(requests).toBe(1);
    } finally {
      await broken.close();
      failing.closeAllConnections();
      await new Promise<void>((resolve) => failing.close(() => resolve()));
    }
  });

  it('retries once on a new connection when a kept-alive connection turns out to be closed', async () => {
    let requests = 0;
    const requestsPerSocket = new WeakMap<Socket, number>();
    // Answers the first request on each connection and drops the connection on the next one,
    // as a server does that closes an idle connection just as the client reuses it.
    const flaky: HttpServer = createHttpServer((request, response) => {
      requests++;
      const count = (requestsPerSocket.get(request.socket) ?? 0) + 1;
      requestsPerSocket.set(request.socket, count);
      if (count > 1) {
        request.socket.destroy();
        return;
      }
      response.writeHead(200, { 'content-length': '5', 'last-modified': new Date().toUTCString(), etag: '"abc"' });
      response.end();
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const client = minioStore({ endpoint: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}` }, 'activity-streams');
    try {
      await expect(client.stat('a.parquet')).resolves.toMatchObject({ size: 5 });
      await expect(client.stat('a.parquet')).resolves.toMatchObject({ size: 5 });
      expect(requests).toBe(3);
    } finally {
      await client.close();
      flaky.closeAllConnections();
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });

  it('parses S3_ENDPOINT into host, port and TLS, and refuses what minio would misread', () => {
    expect(parseS3Endpoint('http://127.0.0.1:9000')).toEqual({ endPoint: '127.0.0.1', port: 9000, useSSL: false });
    expect(parseS3Endpoint('https://s3.eu-central-1.amazonaws.com')).toEqual({
      endPoint: 's3.eu-central-1.amazonaws.com',
      port: undefined,
      useSSL: true,
    });
    expect(parseS3Endpoint('http://minio:9000/')).toEqual({ endPoint: 'minio', port: 9000, useSSL: false });
    expect(parseS3Endpoint('http://[::1]:9000')).toEqual({ endPoint: '::1', port: 9000, useSSL: false });
    for (const bad of ['ftp://host', 'http://host:9000/bucket', 'http://user:pass@host', 'not a url']) {
      expect(() => parseS3Endpoint(bad)).toThrow(ObjectStoreError);
    }
  });
});

describe('createObjectStore', () => {
  it('picks S3 when S3_ENDPOINT is set, else a folder under DATA_DIR', async () => {
    const s3 = createObjectStore(
      parseEnv({ S3_ENDPOINT: 'http://127.0.0.1:9', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b', S3_BUCKET: 'my-bucket' }),
    );
    try {
      expect(s3).toBeInstanceOf(MinioObjectStore);
      expect([s3.kind, s3.bucket]).toEqual(['s3', 'my-bucket']);
    } finally {
      await s3.close?.();
    }
    const dataDir = await mkdtemp(join(tmpdir(), 'object-store-factory-'));
    try {
      const local = createObjectStore(parseEnv({ DATA_DIR: dataDir }));
      expect(local).toBeInstanceOf(LocalObjectStore);
      expect([local.kind, local.bucket, (local as LocalObjectStore).root]).toEqual([
        'local',
        'activity-streams',
        join(dataDir, 'objects', 'activity-streams'),
      ]);
      await local.ensureReady();
      expect(existsSync(join(dataDir, 'objects', 'activity-streams'))).toBe(true);
      // A relative DATA_DIR is fixed at start-up, not re-read against a later working directory.
      const relative = createObjectStore(parseEnv({ DATA_DIR: './some-data' })) as LocalObjectStore;
      expect(relative.root).toBe(join(process.cwd(), 'some-data', 'objects', 'activity-streams'));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
