import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { copyFile, mkdir, open, opendir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import {
  InvalidObjectKeyError,
  ObjectNotFoundError,
  ObjectStoreError,
  ObjectStoreUnavailableError,
  assertValidKey,
  assertValidMetadata,
  assertValidPrefix,
  type ObjectStore,
  type PutObjectOptions,
  type StoredObjectInfo,
} from './object-store.js';

export interface LocalObjectStoreOptions {
  /** The DATA_DIR; objects go under `<dataDir>/objects/<bucket>/`. */
  dataDir: string;
  bucket: string;
}

// Temp files live next to their target so the final rename stays on one file system (atomic).
// A valid key may never look like one, so list() can skip them without hiding real objects.
const TEMP_FILE = /^\..+\.[0-9a-f]{16}\.tmp$/;
const tempNameFor = (name: string): string => `.${name}.${randomBytes(8).toString('hex')}.tmp`;

// Conditions of the disk rather than of the request: the API should answer 503, not 500.
const UNAVAILABLE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

// Duck-typed rather than `instanceof Error`: errors raised by Node's own modules can come from
// another realm (Jest's module sandbox does this), where that check fails.
function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
}

function toStoreError(error: unknown, action: string): ObjectStoreError {
  if (error instanceof ObjectStoreError) return error;
  const code = errorCode(error);
  const message = `Local object store: ${action} failed: ${messageOf(error)}`;
  return code && UNAVAILABLE_CODES.has(code)
    ? new ObjectStoreUnavailableError(message, { cause: error })
    : new ObjectStoreError(message, { cause: error });
}

/**
 * Stores objects as plain files under `<DATA_DIR>/objects/<bucket>/<key>`, for running without
 * an S3 service. Content type and user metadata are not kept: nothing reads them back except
 * through S3 itself (presigned downloads), which this adapter does not offer.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local';
  readonly bucket: string;
  /** Absolute folder holding the objects. */
  readonly root: string;

  constructor(options: LocalObjectStoreOptions) {
    this.bucket = options.bucket;
    this.root = resolve(options.dataDir, 'objects', options.bucket);
  }

  async ensureReady(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
    } catch (error) {
      throw toStoreError(error, `creating ${this.root}`);
    }
  }

  async put(key: string, body: Uint8Array, options: PutObjectOptions): Promise<void> {
    const path = this.pathOf(key);
    // Not stored, but checked so that code tested only against this adapter also works on S3.
    assertValidMetadata(options.metadata);
    const folder = dirname(path);
    const temp = join(folder, tempNameFor(basename(path)));
    try {
      await this.writeTemp(folder, temp, body);
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw toStoreError(error, `writing ${JSON.stringify(key)}`);
    }
    await syncFolder(folder);
  }

  async putFile(key: string, source: string, options: PutObjectOptions): Promise<void> {
    const path = this.pathOf(key);
    assertValidMetadata(options.metadata);
    const folder = dirname(path);
    const temp = join(folder, tempNameFor(basename(path)));
    try {
      await this.writeTemp(folder, temp, new Uint8Array(0));
      await copyFile(source, temp);
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw toStoreError(error, `writing ${JSON.stringify(key)}`);
    }
    await syncFolder(folder);
  }

  async openBlob(key: string): Promise<Blob | undefined> {
    const path = this.pathOf(key);
    try {
      return await openAsBlob(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new ObjectNotFoundError(key, { cause: error });
      throw toStoreError(error, `reading ${JSON.stringify(key)}`);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key);
    try {
      const file = await readFile(path);
      // A plain Uint8Array that owns its whole ArrayBuffer, as from the S3 adapter (see there).
      return file.byteOffset === 0 && file.byteLength === file.buffer.byteLength
        ? new Uint8Array(file.buffer, 0, file.byteLength)
        : new Uint8Array(file);
    } catch (error) {
      // EISDIR: the key is a "folder" of other keys, which S3 would not call an object either.
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw new ObjectNotFoundError(key, { cause: error });
      throw toStoreError(error, `reading ${JSON.stringify(key)}`);
    }
  }

  async stat(key: string): Promise<StoredObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { key, size: info.size, lastModified: new Date(info.mtimeMs) } : undefined;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw toStoreError(error, `stat of ${JSON.stringify(key)}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    // Validate everything first so a bad key in the batch deletes nothing.
    const paths = [...new Set(keys)].map((key) => this.pathOf(key));
    const folders = new Set<string>();
    for (const path of paths) {
      try {
        await unlink(path);
      } catch (error) {
        const code = errorCode(error);
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toStoreError(error, `deleting ${relative(this.root, path)}`);
      }
      folders.add(dirname(path));
    }
    for (const folder of folders) await this.pruneEmptyFolders(folder);
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    assertValidPrefix(prefix);
    // S3 prefixes are plain string prefixes ('a/b' also matches 'a/bc/d'), so walk the deepest
    // folder the prefix fully names and filter the keys below it.
    const folderPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const start = folderPart ? this.pathOf(folderPart.slice(0, -1)) : this.root;
    for await (const path of walk(start)) {
      const key = relative(this.root, path).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      try {
        const info = await stat(path);
        if (info.isFile()) yield { key, size: info.size, lastModified: new Date(info.mtimeMs) };
      } catch (error) {
        // Deleted between the directory read and the stat: it is simply no longer listed.
        if (errorCode(error) !== 'ENOENT') throw toStoreError(error, `listing ${JSON.stringify(prefix)}`);
      }
    }
  }

  async presignedGetUrl(key: string, _expirySeconds: number): Promise<string | undefined> {
    this.pathOf(key);
    return undefined;
  }

  /** Validates the key and maps it to a path that is guaranteed to be inside the root. */
  private pathOf(key: string): string {
    assertValidKey(key);
    if (TEMP_FILE.test(key.slice(key.lastIndexOf('/') + 1))) {
      throw new InvalidObjectKeyError(`Object key ${JSON.stringify(key)} is reserved for temporary files`);
    }
    const path = resolve(this.root, ...key.split('/'));
    // assertValidKey already excludes '..'; this is the last line of defence if that ever changes.
    if (!path.startsWith(this.root + sep)) throw new InvalidObjectKeyError(`Object key ${JSON.stringify(key)} escapes the store`);
    return path;
  }

  /**
   * Creates the temp file (`wx`: never someone else's) with the body, fsynced before it is closed
   * (`flush`): without it a crash soon after the rename could leave an empty or partial file under
   * the key. One writeFile rather than open, write, sync and close: the same system calls, fewer
   * hand-overs to libuv's pool (bench:import counts the CPU of each).
   */
  private async writeTemp(folder: string, temp: string, body: Uint8Array): Promise<void> {
    // A concurrent delete may prune the folder (or a parent) between mkdir and open, or while
    // mkdir creates the chain; creating it again is enough. Once the temp file exists the folder
    // is not empty, so it cannot be pruned before the rename.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(folder, { recursive: true });
        await writeFile(temp, body, { flag: 'wx', flush: true });
        return;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT' || attempt >= 5) throw error;
      }
    }
  }

  /** Removes now-empty folders from `folder` up to, not including, the root. */
  private async pruneEmptyFolders(folder: string): Promise<void> {
    let current = folder;
    while (current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch (error) {
        const code = errorCode(error);
        // ENOTEMPTY/EEXIST: still used; ENOENT: someone else pruned it. Either way stop climbing.
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return;
        throw toStoreError(error, `pruning ${current}`);
      }
      current = dirname(current);
    }
  }
}

/** Makes a completed rename durable; not every platform can fsync a folder, and that is not fatal. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the object is already in place and readable.
  }
}

/** Every file below `folder`, skipping our temp files; a missing folder has no files. */
async function* walk(folder: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await opendir(folder);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw toStoreError(error, `reading ${folder}`);
  }
  for await (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && !TEMP_FILE.test(entry.name)) yield path;
  }
}
