import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { StreamColumnsScanner } from './stream-columns-scanner.js';
import { ReadBody } from '../../api/transport/procedure-transport.js';
import { readJsonBody, StreamUploadBody } from './stream-routes.js';
import { StreamWorkerPool } from '../stream-worker-pool.js';

const request = (length?: number) => ({ headers: length === undefined ? {} : { 'content-length': String(length) } }) as unknown as FastifyRequest;
const noParse = () => Promise.reject(new Error('a regular body is not parsed as text'));
const LIMIT = 128 * 2 ** 20;
/** What the route hands the procedure (context.upload) when the reader scanned the body. */
const takeUploadBody = (read: unknown) => (read instanceof ReadBody && read.value instanceof StreamUploadBody ? read.value.body : undefined);

/** A 2,000,000-sample body arrives in many chunks; one socket read can hand over dozens of them at once. */
describe('readJsonBody (the large JSON upload route), scanning on the scan thread', () => {
  const pool = new StreamWorkerPool({ threads: 1 });
  afterAll(() => pool.close());
  const scanBody = (sizeHint?: number) => pool.scanJson(sizeHint);

  const count = 200_000;
  const timestamps = Array.from({ length: count }, (_, i) => 1_777_615_200_000 + i * 18);
  const values = timestamps.map((_, i) => 60 + (i % 120) + 0.25);
  const body = Buffer.from(JSON.stringify({ timestamps, values }));

  /** Writes the body as 64 KiB chunks in one synchronous burst, as a fast socket hands them over. */
  const send = (bytes: Buffer, options: { declared?: number | null; limit?: number } = {}) => {
    const payload = new PassThrough();
    const pause = jest.spyOn(payload, 'pause');
    const declared = options.declared === null ? undefined : (options.declared ?? bytes.length);
    const read = readJsonBody(request(declared), payload, options.limit ?? LIMIT, noParse, scanBody);
    for (let offset = 0; offset < bytes.length; offset += 65_536) payload.write(bytes.subarray(offset, offset + 65_536));
    payload.end();
    return { read, pause };
  };

  it('scans the body on the scan thread, not the event loop, bit-exact, pausing the body while the scan is behind', async () => {
    const mainThreadScans = jest.spyOn(StreamColumnsScanner.prototype, 'write');
    try {
      const { read, pause } = send(body);
      const columns = takeUploadBody(await read);
      if (!columns || !('columns' in columns)) throw new Error('expected the scanned columns');
      expect(Buffer.from(columns.columns.arrays.values!.buffer).equals(Buffer.from(Float64Array.from(values).buffer))).toBe(true);
      expect(Array.from(columns.columns.arrays.timestamps!)).toEqual(timestamps);
      expect(columns.columns.lengths).toEqual({ timestamps: count, values: count });
      // 4 MiB handed over at once is more than the scan may have in flight: the body was paused.
      expect(pause).toHaveBeenCalled();
      expect(mainThreadScans).not.toHaveBeenCalled();
    } finally {
      mainThreadScans.mockRestore();
    }
  });

  it('answers a body sent without a content-length (chunked) the same', async () => {
    const columns = takeUploadBody(await send(body, { declared: null }).read);
    expect(columns && 'columns' in columns && columns.columns.lengths.values).toBe(count);
  });

  it('answers a syntax error found by the scan thread as Fastify does (400), also in the middle of the body', async () => {
    const broken = Buffer.from(body);
    broken[Math.floor(body.length / 3)] = 0x78; // 'x' inside a number
    await expect(send(broken).read).rejects.toMatchObject({ statusCode: 400, message: expect.stringMatching(/JSON/) });
    const truncated = body.subarray(0, body.length - 2);
    await expect(send(truncated).read).rejects.toMatchObject({ statusCode: 400, message: 'Unexpected end of JSON input' });
  });

  it('refuses an empty body, one over the limit and one shorter than declared, and the scan thread is free afterwards', async () => {
    await expect(send(Buffer.alloc(0), { declared: 0 }).read).rejects.toMatchObject({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY' });
    await expect(send(Buffer.alloc(0), { declared: 2 * LIMIT }).read).rejects.toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    await expect(send(body, { limit: body.length - 1, declared: null }).read).rejects.toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    await expect(send(body.subarray(0, 3 * 2 ** 20), { declared: body.length }).read).rejects.toMatchObject({ code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' });
    // A client that goes away mid-body: the scan is dropped.
    const payload = new PassThrough();
    const read = readJsonBody(request(body.length), payload, LIMIT, noParse, scanBody);
    payload.write(body.subarray(0, 2 * 2 ** 20));
    payload.destroy(new Error('aborted'));
    await expect(read).rejects.toThrow('aborted');
    // Every scan above has ended: a new one still completes.
    const columns = takeUploadBody(await send(body).read);
    expect(columns && 'columns' in columns && columns.columns.lengths.timestamps).toBe(count);
  });
});
