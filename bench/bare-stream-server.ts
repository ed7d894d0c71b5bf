/**
 * bench:streams' third floor: a bare `node:http` server that answers a stream read with exactly the
 * in-process floor's work — Parquet decode plus JSON.stringify of the same answer object — and
 * nothing else: no framework, no session, no database row, the object already in memory. What is
 * left between it and the in-process floor is what any Node HTTP server pays for one request over
 * loopback (the socket, HTTP parsing and writing, the client's request and its read of the answer).
 *
 * PUT /objects/{name}?type={streamType} keeps a Parquet object in memory; GET /objects/{name} reads it.
 * Started by bench/streams.ts with the project's server's node flags and bench/probe.js (its CPU).
 */
import { createServer, type IncomingMessage } from 'node:http';
import { parquetStreamCodec, type StreamType } from '@unified-activity/parquet-streams';
import { columnsFromSamples } from '../src/modules/streams/stream-samples.js';

const objects = new Map<string, { bytes: Uint8Array; type: StreamType }>();

async function body(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://bare');
  const name = url.pathname.slice('/objects/'.length);
  const answer = async () => {
    if (request.method === 'PUT') {
      objects.set(name, { bytes: await body(request), type: url.searchParams.get('type') as StreamType });
      response.writeHead(204).end();
      return;
    }
    const object = objects.get(name);
    if (!object) {
      response.writeHead(404).end();
      return;
    }
    const { samples } = await parquetStreamCodec.decode(object.bytes, object.type);
    const json = Buffer.from(JSON.stringify(columnsFromSamples(object.type, samples, samples.timestamps.length)));
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': json.byteLength }).end(json);
  };
  answer().catch((error: unknown) => response.writeHead(500).end(String(error)));
});

server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
