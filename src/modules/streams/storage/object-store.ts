/**
 * The port between the streams module and wherever the Parquet objects live (DATA-MODEL §10):
 * an S3-compatible service in production, a local folder for development and tests without S3.
 * Both adapters share one behaviour suite (test/integration/object-store.spec.ts), so callers can
 * rely on the semantics documented here and nothing adapter-specific.
 */

export interface StoredObjectInfo {
  key: string;
  /** Bytes. */
  size: number;
  lastModified?: Date;
}

export interface PutObjectOptions {
  contentType: string;
  /**
   * User metadata (`x-amz-meta-*` on S3). Names must be HTTP tokens and values printable ASCII,
   * because S3 carries them as headers. The local adapter accepts but does not keep them.
   */
  metadata?: Record<string, string>;
}

export interface ObjectStore {
  readonly kind: 's3' | 'local';
  readonly bucket: string;
  /** S3: creates the bucket if missing; local: creates the folder. Safe to call repeatedly and concurrently. */
  ensureReady(): Promise<void>;
  /** Replaces any object under the key; readers see either the old or the new bytes, never a mix. */
  put(key: string, body: Uint8Array, options: PutObjectOptions): Promise<void>;
  /**
   * Rejects with ObjectNotFoundError when there is no object under the key. The result is a plain
   * Uint8Array (not a Buffer) spanning its whole ArrayBuffer, so `bytes.buffer` is exactly the object.
   */
  get(key: string): Promise<Uint8Array>;
  /** undefined when there is no object under the key. */
  stat(key: string): Promise<StoredObjectInfo | undefined>;
  /** Missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object whose key starts with the prefix (a plain string prefix, as in S3); no order is promised. */
  list(prefix: string): AsyncIterable<StoredObjectInfo>;
  /**
   * Stores the file at `path` under the key, read from disk as it is sent (constant memory, any size:
   * an athlete's export zip). Same replace semantics as put.
   */
  putFile(key: string, path: string, options: PutObjectOptions): Promise<void>;
  /**
   * The object as a Blob read lazily from where it lives, for stores that can (the local folder);
   * undefined when the store answers a presigned URL instead (S3). Rejects with ObjectNotFoundError.
   */
  openBlob(key: string): Promise<Blob | undefined>;
  /** A URL anyone holding it can GET for expirySeconds; undefined when the store cannot issue one (local). */
  presignedGetUrl(key: string, expirySeconds: number): Promise<string | undefined>;
  close?(): Promise<void>;
}

export class ObjectStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ObjectNotFoundError extends ObjectStoreError {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`No object under key ${JSON.stringify(key)}`, options);
  }
}

/** The store cannot be reached or is failing on its side; the API answers 503 and the client may retry. */
export class ObjectStoreUnavailableError extends ObjectStoreError {}

/** A key or prefix that is not allowed; raised before any I/O. It is a programming error, not bad input. */
export class InvalidObjectKeyError extends ObjectStoreError {}

const MAX_KEY_BYTES = 1024;
// C0 controls and DEL: they make keys unprintable in logs and illegal in some file systems.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function checkPath(value: string, what: string, allowTrailingSlash: boolean): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidObjectKeyError(`${what} is longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (value.startsWith('/')) throw new InvalidObjectKeyError(`${what} must be relative: ${JSON.stringify(value)}`);
  if (value.includes('\\')) throw new InvalidObjectKeyError(`${what} must not contain backslashes: ${JSON.stringify(value)}`);
  if (CONTROL_CHARACTERS.test(value)) throw new InvalidObjectKeyError(`${what} must not contain control characters: ${JSON.stringify(value)}`);
  const segments = value.split('/');
  if (allowTrailingSlash && segments.length > 1 && segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    // Empty and '.' segments would let two different S3 keys name the same local file.
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InvalidObjectKeyError(`${what} has an empty, '.' or '..' segment: ${JSON.stringify(value)}`);
    }
  }
}

/**
 * Rejects keys that are not portable between S3 and a file system: empty, absolute, with empty,
 * `.` or `..` segments (which also covers a trailing slash), backslashes, control characters, or
 * longer than S3's 1024-byte limit.
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new InvalidObjectKeyError('Object key must be a non-empty string');
  checkPath(key, 'Object key', false);
}

/** Like assertValidKey, but '' (everything) and a trailing slash are allowed. */
export function assertValidPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new InvalidObjectKeyError('Prefix must be a string');
  if (prefix === '') return;
  checkPath(prefix, 'Prefix', true);
}

// RFC 9110 token characters: anything else is not a legal header name.
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
// S3 documents US-ASCII only for user metadata sent over REST, and Node refuses most other
// characters in header values.
const HEADER_VALUE = /^[\x20-\x7e]*$/;
const MAX_METADATA_BYTES = 2048; // S3's limit for all user metadata of one object

/** User metadata must survive being sent as `x-amz-meta-*` headers; checked by both adapters alike. */
export function assertValidMetadata(metadata: Record<string, string> | undefined): void {
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (!HEADER_NAME.test(name)) throw new ObjectStoreError(`Metadata name ${JSON.stringify(name)} is not an HTTP token`);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw new ObjectStoreError(`Metadata ${name} must be a string of printable ASCII characters`);
    }
    bytes += name.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw new ObjectStoreError(`Metadata is larger than ${MAX_METADATA_BYTES} bytes`);
}
