import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { readJsonBody, takeUploadBody, TURN_BYTES } from './stream-routes.js';

const request = (length: number) => ({ headers: { 'content-length': String(length) } }) as unknown as FastifyRequest;
const noParse = () => Promise.reject(new Error('a regular body is not parsed as text'));

/** A 2,000,000-sample body arrives in many chunks; one socket read can hand over dozens of them at once. */
describe('readJsonBody (the large JSON upload route)', () => {
  const count = 200_000;
  const timestamps = Array.from({ length: count }, (_, i) => 1_777_615_200_000 + i * 18);
  const values = timestamps.map((_, i) => 60 + (i % 120) + 0.25);
  const body = Buffer.from(JSON.stringify({ timestamps, values }));

  it('scans at most TURN_BYTES per turn of the event loop, even when every chunk is handed over at once', async () => {
    const payload = new PassThrough();
    const turns: number[] = [];
    let scanned = 0;
    // Counts the turns of the event loop until the body is read, and how far the reader got in each.
    let reading = true;
    const tick = () => {
      turns.push(scanned);
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    const original = payload.on.bind(payload);
    payload.on = ((event: string, listener: (...args: unknown[]) => void) =>
      original(event, event === 'data' ? (chunk: Buffer) => ((scanned += chunk.length), listener(chunk)) : listener)) as typeof payload.on;
    const read = readJsonBody(request(body.length), payload, 128 * 2 ** 20, noParse).finally(() => (reading = false));
    // Every 64 KiB chunk written in one synchronous burst, as a fast socket delivers them.
    for (let offset = 0; offset < body.length; offset += 65_536) payload.write(body.subarray(offset, offset + 65_536));
    payload.end();
    const marker = (await read) as Blob;

    const columns = takeUploadBody(marker);
    expect(columns && 'columns' in columns && Array.from(columns.columns.arrays.values!)).toEqual(values);
    expect(turns.length).toBeGreaterThanOrEqual(Math.floor(body.length / TURN_BYTES));
    // Between two turns the reader took at most one turn's budget, plus the chunk it paused on.
    const perTurn = turns.slice(1).map((at, i) => at - turns[i]!);
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(2 * TURN_BYTES + 65_536);
    expect(scanned).toBe(body.length);
  });

  it('still answers a syntax error, and an empty or oversized body, as Fastify does', async () => {
    const broken = Buffer.concat([body.subarray(0, body.length - 2), Buffer.from('x}')]);
    const send = (bytes: Buffer, limit = 128 * 2 ** 20, declared = bytes.length) => {
      const payload = new PassThrough();
      const read = readJsonBody(request(declared), payload, limit, noParse);
      payload.end(bytes);
      return read;
    };
    await expect(send(broken)).rejects.toMatchObject({ statusCode: 400 });
    await expect(send(Buffer.alloc(0))).rejects.toMatchObject({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY' });
    await expect(send(Buffer.alloc(0), 1024, 2 * 2 ** 20)).rejects.toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    await expect(send(body, body.length - 1, body.length - 1)).rejects.toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
  });
});
