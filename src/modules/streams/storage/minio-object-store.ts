import * as http from 'node:http';
import * as https from 'node:https';
import { Client, S3Error, type BucketItem, type ClientOptions } from 'minio';
import { concatBytes } from '../../../common/concat-bytes.js';
import {
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

export interface MinioObjectStoreOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:9000 (S3_ENDPOINT); no path. */
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Path-style (`host/bucket/key`) rather than virtual-host (`bucket.host/key`) addressing. */
  pathStyle: boolean;
  /**
   * How long a request may go without any network activity (connecting, sending, waiting for
   * or reading the response) before it fails with ObjectStoreUnavailableError. Default 5 s.
   */
  requestTimeoutMs?: number;
  /**
   * Base URL clients reach the service at (S3_PUBLIC_ENDPOINT), when it differs from `endpoint`.
   * The host is part of a SigV4 signature, so presigned URLs are signed for this one; signing is
   * local and this client never sends a request.
   */
  publicEndpoint?: string;
}

export interface S3EndpointParts {
  endPoint: string;
  port: number | undefined;
  useSSL: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
// Objects are at most tens of MB. Up to this size minio sends one PUT; beyond it, it switches to
// multipart, which s3rver (tests) does not implement. 512 MiB leaves a wide margin.
const SINGLE_PUT_LIMIT = 512 * 1024 * 1024;
// Closing idle keep-alive sockets before the server does (Node's default is 5 s) avoids
// reusing a socket the server is closing at that very moment, which fails as ECONNRESET.
const IDLE_SOCKET_MS = 4_000;
const MAX_SOCKETS = 64;
const DELETE_BATCH = 1_000; // the most keys one DeleteObjects request accepts
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600; // SigV4 limit
const RETRY_DELAY_MS = 100;

const UNAVAILABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET', // also "socket hang up" and a response body cut short ("aborted")
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// Server-side conditions reported in an S3 error body; the status code itself is caught earlier
// (see guardedTransport), these cover services that report them with another status.
const UNAVAILABLE_S3_CODES = new Set(['InternalError', 'ServiceUnavailable', 'SlowDown', 'RequestTimeout']);
const NOT_FOUND_S3_CODES = new Set(['NoSuchKey', 'NotFound']);
// The service refuses our credentials: a configuration fault nothing the client sends can fix, so
// requests answer 503 (with this explained in the log and on /health), not 500.
const CREDENTIAL_S3_CODES = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId']);

/** Splits S3_ENDPOINT into the pieces the minio client takes; only a scheme, host and port are allowed. */
export function parseS3Endpoint(endpoint: string): S3EndpointParts {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new ObjectStoreError(`S3 endpoint is not a URL: ${JSON.stringify(endpoint)}`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ObjectStoreError(`S3 endpoint must be http:// or https://, got ${url.protocol}`);
  }
  // minio builds every request path from the bucket and key; a base path would be dropped silently.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new ObjectStoreError(`S3 endpoint must be only scheme://host[:port], got ${JSON.stringify(endpoint)}`);
  }
  return {
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
  };
}

class UpstreamStatusError extends Error {
  constructor(readonly statusCode: number) {
    super(`S3 service answered HTTP ${statusCode}`);
  }
}

class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`No activity on the S3 connection for ${timeoutMs} ms`);
  }
}

type RequestFunction = (options: http.RequestOptions, callback: (response: http.IncomingMessage) => void) => http.ClientRequest;
type Transport = NonNullable<ClientOptions['transport']>;
// Not exported by minio's entry point.
type RemoveObjectsResponse = Awaited<ReturnType<Client['removeObjects']>>[number];

// Errors of requests that failed on a kept-alive connection the server had already closed.
const staleConnectionErrors = new WeakSet<object>();

/**
 * minio 8 has no request timeout and its S3Error does not carry the HTTP status, so requests go
 * through this wrapper, which
 * - fails a request after `timeoutMs` without network activity, including while connecting
 *   (otherwise a black-holed server hangs a request for minutes, a silent one forever);
 * - turns a 5xx answer into an UpstreamStatusError before minio parses it. 501 and 505 are left
 *   alone: they mean "not supported", which retrying later will not fix;
 * - marks a connection reset on a reused keep-alive socket, which says nothing about the service
 *   (it closed an idle connection as we sent on it) and is worth one more try on a new connection.
 */
function guardedTransport(request: RequestFunction, timeoutMs: number): Transport {
  const guarded: RequestFunction = (options, callback) => {
    const req = request({ ...options, timeout: timeoutMs }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 500 && status !== 501 && status !== 505) {
        // Drain so the socket can be reused; minio is waiting on the request's 'error' event.
        response.resume();
        req.emit('error', new UpstreamStatusError(status));
        return;
      }
      callback(response);
    });
    req.on('timeout', () => req.destroy(new RequestTimeoutError(timeoutMs)));
    // Registered before minio's own listener, so the mark is there when minio rejects.
    req.on('error', (error) => {
      if (req.reusedSocket && networkCodeOf(error) === 'ECONNRESET') staleConnectionErrors.add(error);
    });
    return req;
  };
  return { request: guarded as typeof http.request };
}

// Duck-typed rather than `instanceof`: errors raised by Node's own modules can come from another
// realm (Jest's module sandbox does this), where that check fails.
function networkCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  // Node 20 tries every address of a host name (happy eyeballs) and may report an AggregateError.
  if ('errors' in error && Array.isArray(error.errors)) {
    for (const inner of error.errors as unknown[]) {
      const innerCode = networkCodeOf(inner);
      if (innerCode) return innerCode;
    }
  }
  return undefined;
}

function s3CodeOf(error: unknown): string | undefined {
  return error instanceof S3Error ? error.code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof S3Error && error.code) return `${error.code}: ${error.message}`;
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
}

/**
 * Runs an operation once more after a 5xx answer (following a short pause) or a reset of a reused
 * keep-alive connection (at once): what minio would do itself for 5xx had its retry not been
 * turned off (see the constructor), what AWS asks clients to do for 500 and 503, and what Node
 * advises for `reusedSocket` resets. Every operation here is idempotent. Other network errors are
 * not retried, so an outage is reported without delay.
 */
async function withRetry<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof UpstreamStatusError) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * (1 + Math.random())));
    } else if (!(typeof error === 'object' && error !== null && staleConnectionErrors.has(error))) {
      throw error;
    }
    return operation();
  }
}

/** The ObjectStore on any S3-compatible service (MinIO, AWS S3, R2; s3rver in tests), through the minio client. */
export class MinioObjectStore implements ObjectStore {
  readonly kind = 's3';
  readonly bucket: string;
  private readonly region: string;
  private readonly client: Client;
  /** Signs presigned URLs for the public endpoint (the same client when there is none). */
  private readonly presigner: Client;
  private readonly agent: http.Agent;

  constructor(options: MinioObjectStoreOptions) {
    const { endPoint, port, useSSL } = parseS3Endpoint(options.endpoint);
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const agentOptions: http.AgentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS };
    this.agent = useSSL ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.bucket = options.bucket;
    this.region = options.region;
    this.client = new Client({
      endPoint,
      port,
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      // Known region: minio then never asks the service for the bucket location (an extra round trip).
      region: options.region,
      pathStyle: options.pathStyle,
      partSize: SINGLE_PUT_LIMIT,
      transport: guardedTransport(useSSL ? https.request : http.request, timeoutMs),
      transportAgent: this.agent,
      // minio retries a 5xx once, logging with console.warn, and then throws an error that has lost
      // the status (and leaves the failed response undrained); withRetry does the same retry.
      retryOptions: { disableRetry: true },
    });
    if (options.publicEndpoint) {
      const pub = parseS3Endpoint(options.publicEndpoint);
      this.presigner = new Client({
        endPoint: pub.endPoint,
        port: pub.port,
        useSSL: pub.useSSL,
        accessKey: options.accessKey,
        secretKey: options.secretKey,
        region: options.region,
        pathStyle: options.pathStyle,
      });
    } else {
      this.presigner = this.client;
    }
  }

  async ensureReady(): Promise<void> {
    try {
      if (await withRetry(() => this.client.bucketExists(this.bucket))) return;
      try {
        await withRetry(() => this.client.makeBucket(this.bucket, this.region));
      } catch (error) {
        // Another instance created it in between. s3rver (and some services) say BucketAlreadyExists
        // even to the owner; on AWS that code means someone else's bucket, and bucketExists then
        // fails with AccessDenied instead of returning true.
        const code = s3CodeOf(error);
        if (code === 'BucketAlreadyOwnedByYou') return;
        if (code === 'BucketAlreadyExists' && (await withRetry(() => this.client.bucketExists(this.bucket)))) return;
        throw error;
      }
    } catch (error) {
      // A HEAD has no error body: minio reports a refused signature there as AccessDenied.
      if (s3CodeOf(error) === 'AccessDenied') {
        throw new ObjectStoreUnavailableError(
          `S3 object store: preparing bucket ${this.bucket} failed: access denied; check S3_ACCESS_KEY, S3_SECRET_KEY and the bucket's permissions`,
          { cause: error },
        );
      }
      throw this.toStoreError(error, `preparing bucket ${this.bucket}`);
    }
  }

  async put(key: string, body: Uint8Array, options: PutObjectOptions): Promise<void> {
    assertValidKey(key);
    const headers = { ...metadataHeaders(options.metadata), 'Content-Type': options.contentType };
    // minio accepts only a real Buffer (or a stream); this view shares the caller's memory.
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    try {
      await withRetry(() => this.client.putObject(this.bucket, key, buffer, buffer.byteLength, headers));
    } catch (error) {
      throw this.toStoreError(error, `writing ${JSON.stringify(key)}`);
    }
  }

  async putFile(key: string, path: string, options: PutObjectOptions): Promise<void> {
    assertValidKey(key);
    const headers = { ...metadataHeaders(options.metadata), 'Content-Type': options.contentType };
    try {
      // fPutObject reads the file as it sends it (multipart above minio's part size).
      await withRetry(() => this.client.fPutObject(this.bucket, key, path, headers));
    } catch (error) {
      throw this.toStoreError(error, `writing ${JSON.stringify(key)}`);
    }
  }

  /** S3 answers a presigned URL instead (presignedGetUrl). */
  openBlob(): Promise<Blob | undefined> {
    return Promise.resolve(undefined);
  }

  async get(key: string): Promise<Uint8Array> {
    assertValidKey(key);
    try {
      return await withRetry(async () => {
        const stream = await this.client.getObject(this.bucket, key);
        const chunks: Buffer[] = [];
        for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
        return concatBytes(chunks);
      });
    } catch (error) {
      if (NOT_FOUND_S3_CODES.has(s3CodeOf(error) ?? '')) throw new ObjectNotFoundError(key, { cause: error });
      throw this.toStoreError(error, `reading ${JSON.stringify(key)}`);
    }
  }

  async stat(key: string): Promise<StoredObjectInfo | undefined> {
    assertValidKey(key);
    try {
      const info = await withRetry(() => this.client.statObject(this.bucket, key));
      return { key, size: info.size, lastModified: info.lastModified };
    } catch (error) {
      if (NOT_FOUND_S3_CODES.has(s3CodeOf(error) ?? '')) return undefined;
      throw this.toStoreError(error, `stat of ${JSON.stringify(key)}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)];
    // Validate everything first so a bad key in the batch deletes nothing.
    unique.forEach(assertValidKey);
    // One batch at a time: minio would send all batches at once.
    for (let start = 0; start < unique.length; start += DELETE_BATCH) {
      let results: RemoveObjectsResponse[];
      try {
        const batch = unique.slice(start, start + DELETE_BATCH);
        results = await withRetry(() => this.client.removeObjects(this.bucket, batch));
      } catch (error) {
        throw this.toStoreError(error, `deleting ${unique.length} object(s)`);
      }
      const failures = deleteFailures(results).filter((failure) => failure.code !== 'NoSuchKey');
      if (failures.length > 0) {
        const summary = failures.slice(0, 5).map((failure) => `${failure.key}: ${failure.code} ${failure.message}`).join('; ');
        const ErrorClass = failures.every((failure) => UNAVAILABLE_S3_CODES.has(failure.code))
          ? ObjectStoreUnavailableError
          : ObjectStoreError;
        throw new ErrorClass(`S3 object store: could not delete ${failures.length} object(s): ${summary}`);
      }
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    assertValidPrefix(prefix);
    try {
      const stream = this.client.listObjectsV2(this.bucket, prefix, true);
      for await (const item of stream as AsyncIterable<BucketItem>) {
        // Recursive listings carry no common prefixes, but the type allows them.
        if (item.name === undefined) continue;
        yield { key: item.name, size: item.size, lastModified: item.lastModified };
      }
    } catch (error) {
      throw this.toStoreError(error, `listing ${JSON.stringify(prefix)}`);
    }
  }

  async presignedGetUrl(key: string, expirySeconds: number): Promise<string | undefined> {
    assertValidKey(key);
    if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS) {
      throw new ObjectStoreError(`Presigned URL expiry must be a whole number of seconds in 1..${MAX_PRESIGN_SECONDS}`);
    }
    try {
      // Signing happens locally (the region is configured), so this works even while the service is down.
      return await this.presigner.presignedGetObject(this.bucket, key, expirySeconds);
    } catch (error) {
      throw this.toStoreError(error, `presigning ${JSON.stringify(key)}`);
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private toStoreError(error: unknown, action: string): ObjectStoreError {
    if (error instanceof ObjectStoreError) return error;
    const s3Code = s3CodeOf(error) ?? '';
    if (CREDENTIAL_S3_CODES.has(s3Code)) {
      return new ObjectStoreUnavailableError(
        `S3 object store: ${action} failed: the service refused the configured credentials (${s3Code}); check S3_ACCESS_KEY and S3_SECRET_KEY`,
        { cause: error },
      );
    }
    const message = `S3 object store: ${action} failed: ${messageOf(error)}`;
    const unavailable =
      error instanceof UpstreamStatusError ||
      UNAVAILABLE_NETWORK_CODES.has(networkCodeOf(error) ?? '') ||
      UNAVAILABLE_S3_CODES.has(s3CodeOf(error) ?? '');
    return unavailable ? new ObjectStoreUnavailableError(message, { cause: error }) : new ObjectStoreError(message, { cause: error });
  }
}

/** User metadata as `x-amz-meta-*` headers, so a name like `content-type` can never override a real header. */
function metadataHeaders(metadata: Record<string, string> | undefined): Record<string, string> {
  assertValidMetadata(metadata);
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([name, value]) => [`x-amz-meta-${name.toLowerCase()}`, value]));
}

interface DeleteFailure {
  key: string;
  code: string;
  message: string;
}

/**
 * minio types each entry as `{ Error: {...} }` but, at least in 8.0.7, returns the contents of the
 * `<Error>` elements themselves; accept both. Keys that look numeric come back as numbers.
 */
function deleteFailures(results: readonly RemoveObjectsResponse[]): DeleteFailure[] {
  const failures: DeleteFailure[] = [];
  for (const result of results) {
    if (!result) continue;
    const entry: Record<string, unknown> = result.Error ?? (result as Record<string, unknown>);
    if (entry['Code'] === undefined && entry['Key'] === undefined) continue;
    failures.push({ key: String(entry['Key'] ?? ''), code: String(entry['Code'] ?? 'Unknown'), message: String(entry['Message'] ?? '') });
  }
  return failures;
}
