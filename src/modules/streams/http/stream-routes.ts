/**
 * What the streams' routes do beyond the defaults, declared by StreamsRouter's `transport` and
 * mounted by the API's procedure routes (src/modules/api/transport), still handled by oRPC (the same
 * validation, errors and answers as every other procedure):
 *
 * - `PUT /api/v1/activities/{id}/streams/{type}` (`restBody`: registerStreamUploadParsers) with a JSON
 *   body larger than SCAN_MIN_BYTES: the body is scanned chunk by chunk as it arrives, on the stream
 *   scan thread (stream-body-scan), straight into typed arrays (no JS arrays, no 100 MiB string, and
 *   no scanning on the event loop), and reaches the procedure as `context.upload` (a
 *   StreamUploadBody), while oRPC validates an empty Parquet File in its place. A body of another
 *   shape is validated by the contract as before (see the scanner); smaller bodies keep Fastify's parser.
 *   A Parquet body is read once into one buffer that moves to the worker (no copies on the way).
 * - `GET /api/v1/activities/{id}/streams/{type}` (`streamedRead`): the procedure hands the JSON,
 *   written from the typed arrays (stream-json-response), to `context.reply` and returns an empty
 *   placeholder in its place: piece by piece (chunked) above `streamedReads.minSamples` samples, in
 *   one buffer below.
 */
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { PARQUET_MEDIA_TYPE } from '@unified-activity/contract';
import { ReadBody } from '../../api/transport/procedure-transport.js';
import type { BodyScan } from './stream-body-scan.js';
import type { ScannedColumns } from './stream-columns-scanner.js';

/** Largest stream upload (JSON or Parquet): a 2,000,000-sample position stream fits. */
export const MAX_BODY_BYTES = 128 * 1024 * 1024;

/** JSON bodies up to this size are parsed by Fastify's parser as before (one JSON.parse is cheaper there). */
export const SCAN_MIN_BYTES = 1024 * 1024;

/** Reads returning more samples than this are written as a stream, others in one piece (mutable for tests). */
export const streamedReads = { minSamples: 50_000 };

export interface StreamUploadParsersOptions {
  /** Largest upload body. */
  limit: number;
  /** Starts the scan of a large JSON upload body (StreamsService.scanJsonBody). */
  scanBody: (sizeHint?: number) => BodyScan;
}

/** What the upload route read from a body, for the procedure (`context.upload`). */
export class StreamUploadBody {
  constructor(readonly body: { columns: ScannedColumns } | { parquet: Uint8Array }) {}
}

/** The upload route's body in oRPC's hands: an empty Parquet File (the contract accepts one) standing for what was read. */
const readBody = (body: StreamUploadBody) => new ReadBody(body, new File([], 'upload', { type: PARQUET_MEDIA_TYPE }));

/** The upload route's content-type parsers, on its own scope (`restBody` of streams.upload). */
export function registerStreamUploadParsers(scope: FastifyInstance, options: StreamUploadParsersOptions): void {
  const defaultJsonParser = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', (request, payload, done) => {
    readJsonBody(request, payload, options.limit, (text) => new Promise((resolve, reject) => {
      defaultJsonParser(request, text, (error, value) => (error ? reject(error as Error) : resolve(value)));
    }), options.scanBody).then((body) => done(null, body), (error: Error) => done(error, undefined));
  });
  // A Parquet body: read once into one exact-size buffer that moves to the worker (Fastify's parser
  // concatenates, and a File and its arrayBuffer() copy it twice more).
  scope.removeContentTypeParser([PARQUET_MEDIA_TYPE, 'application/octet-stream']);
  scope.addContentTypeParser([PARQUET_MEDIA_TYPE, 'application/octet-stream'], (request, payload, done) => {
    readBytes(request, payload, options.limit).then(
      (bytes) => done(null, readBody(new StreamUploadBody({ parquet: bytes }))),
      (error: Error) => done(error, undefined),
    );
  });
}

type Payload = NodeJS.ReadableStream & { pause(): unknown; resume(): unknown };

/**
 * Reads a JSON body within `limit` with Fastify's checks (empty body, declared length, size): small
 * bodies by `parse` (Fastify's JSON parser), larger ones by a scan (`scanBody`, on the scan thread in
 * the app), which takes each chunk as it arrives; the body is paused while the scan is behind.
 * Exported for its tests.
 */
export function readJsonBody(
  request: FastifyRequest,
  payload: Payload,
  limit: number,
  parse: (text: string) => Promise<unknown>,
  scanBody: (sizeHint?: number) => BodyScan,
): Promise<unknown> {
  const header = request.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) return Promise.reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  const scan = declared !== undefined && declared <= SCAN_MIN_BYTES ? undefined : scanBody(declared);
  const chunks: Buffer[] = [];

  return new Promise((resolve, reject) => {
    let received = 0;
    let settled = false;
    let ended = false;
    let waiting = false;
    const cleanUp = () => {
      settled = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      cleanUp();
      scan?.abort();
      reject(error);
    };
    const finish = () => {
      if (settled) return;
      if (received === 0) return fail(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY());
      if (declared !== undefined && received !== declared) return fail(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      cleanUp();
      if (!scan) return resolve(parse(Buffer.concat(chunks).toString('utf8')));
      scan.end().then((result) => (result.kind === 'irregular' ? parse(result.json) : readBody(new StreamUploadBody({ columns: result.columns })))).then(resolve, reject);
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      received += chunk.length;
      if (received > limit) return fail(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      if (!scan) return void chunks.push(chunk);
      if (scan.write(chunk) || waiting) return;
      // The scan is behind: wait for it (or for the syntax error it found).
      waiting = true;
      payload.pause();
      scan.ready().then(() => {
        waiting = false;
        if (settled) return;
        if (ended) finish();
        else payload.resume();
      }, fail);
    };
    const onEnd = () => {
      ended = true;
      if (!waiting) finish();
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', fail);
  });
}

/** A binary body within `limit`, into one buffer of its declared size (chunks are copied in once). */
function readBytes(request: FastifyRequest, payload: Payload, limit: number): Promise<Uint8Array> {
  const header = request.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) return Promise.reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  return new Promise((resolve, reject) => {
    let bytes = new Uint8Array(declared ?? 0);
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      if (received + chunk.length > limit || (declared !== undefined && received + chunk.length > declared)) {
        payload.removeListener('data', onData);
        payload.removeListener('end', onEnd);
        reject(received + chunk.length > limit ? new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE() : new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      if (declared === undefined) chunks.push(chunk);
      else bytes.set(chunk, received);
      received += chunk.length;
    };
    const onEnd = () => {
      payload.removeListener('data', onData);
      if (declared !== undefined && received !== declared) return reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      if (declared === undefined) bytes = new Uint8Array(Buffer.concat(chunks));
      resolve(bytes);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', reject);
  });
}
