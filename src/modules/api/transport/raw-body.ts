import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

class BodyTooLargeError extends Error {
  readonly statusCode = 413;
  readonly code = 'FST_ERR_CTP_BODY_TOO_LARGE';
}

/**
 * A preParsing hook that reads the body once, hands its exact bytes to `keep` (for the procedure's
 * `context.rawBody`: the raw archive stores them), and the same bytes on to Fastify's JSON parser.
 */
export function captureRawBody(limit: number, tooLarge: string, keep: (request: FastifyRequest, bytes: Uint8Array) => void) {
  return async (request: FastifyRequest, _reply: FastifyReply, payload: AsyncIterable<Buffer | string>) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limit) throw new BodyTooLargeError(tooLarge);
      chunks.push(buffer);
    }
    const body = Buffer.concat(chunks);
    keep(request, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    const stream = Readable.from([body]) as Readable & { receivedEncodedLength?: number };
    stream.receivedEncodedLength = body.length;
    return stream;
  };
}
