/**
 * Multipart uploads (POST /v1/athletes/{id}/imports, the `restBody` of imports.create: registered on
 * that route's own scope only; its RPC route keeps oRPC's own body) read as streams with @fastify/multipart, file by
 * file: each `files` part is written to a temporary file as it arrives and handed to the procedure
 * as a File backed by that file on disk (fs.openAsBlob), so a 100 MiB upload never sits in memory
 * whole (docs/benchmarks.md, "Import uploads"). The temporary files are removed when the response
 * has been sent, or the client went away (the plugin's own clean-up of `request.tmpUploads`).
 *
 * What the procedure sees is what it saw when the body was parsed in memory: `{ files: File[] }`
 * (only parts of the field `files`; other fields and files are read and dropped). The limits are
 * the route's body limit (the whole body; a declared Content-Length over it is refused before
 * reading, as Fastify does) → 413, an unreadable body → 400, both with the connection closed since
 * the client may still be sending.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fastifyMultipart from '@fastify/multipart';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/** The contract takes at most 1,000 files; one more is kept so that its validation answers (422), as before. */
const MAX_FILES_READ = 1001;

const malformed = () => Object.assign(new Error('The body is not valid multipart/form-data'), { statusCode: 400 });

/** Registers the parser and the hook on the route's scope: its multipart body becomes `{ files }` for oRPC. */
export async function registerMultipartUploads(api: FastifyInstance): Promise<void> {
  // No limit of the plugin's own stands in for the body limit: it is counted here on the raw body.
  await api.register(fastifyMultipart, { limits: { parts: Infinity, files: Infinity, fileSize: Infinity, fields: Infinity } });
  api.addHook('preValidation', async (request, reply) => {
    if (!request.isMultipart()) return;
    try {
      request.body = { files: await readFiles(request) };
    } catch (error) {
      reply.header('connection', 'close');
      throw error;
    }
  });
}

/** The `files` parts of the body, each written to a temporary file as it arrives. */
async function readFiles(request: FastifyRequest): Promise<File[]> {
  const limit = request.routeOptions.bodyLimit ?? Infinity;
  const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
  if (declared !== undefined && declared > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
  request.tmpUploads ??= [];

  // The first step pipes the body into the parser; the counter listens beside it from then on.
  const parts = request.parts();
  const first = parts.next();
  // The whole body is counted (boundaries, headers and fields too), as Fastify's limit counts it.
  let received = 0;
  let current: Readable | undefined;
  let overLimit: (error: Error) => void = () => undefined;
  const tooLarge = new Promise<never>((_, reject) => (overLimit = reject));
  tooLarge.catch(() => undefined);
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= limit) return;
    request.raw.removeListener('data', count);
    request.raw.unpipe();
    const error = new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
    current?.destroy(error);
    overLimit(error);
  };
  request.raw.on('data', count);

  const files: File[] = [];
  const read = async () => {
    for (let step = await first; !step.done; step = await parts.next()) {
      const part = step.value;
      if (part.type !== 'file') continue;
      current = part.file;
      if (part.fieldname !== 'files' || files.length >= MAX_FILES_READ) {
        await pipeline(part.file, discard());
        continue;
      }
      const path = join(tmpdir(), `import-upload-${randomUUID()}`);
      request.tmpUploads!.push(path);
      await pipeline(part.file, createWriteStream(path));
      files.push(new File([await openAsBlob(path)], part.filename ?? '', { type: part.mimetype }));
    }
    current = undefined;
    return files;
  };
  try {
    return await Promise.race([read(), tooLarge]);
  } catch (error) {
    if (received > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
    // The disk (ENOSPC, EACCES) is our failure, not the client's.
    if (isSystemError(error)) throw error;
    throw malformed();
  } finally {
    request.raw.removeListener('data', count);
  }
}

function isSystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (error as { syscall?: unknown }).syscall === 'string';
}

/** A sink for parts that are not kept. */
function discard(): Writable {
  return new Writable({
    write(_chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
      done();
    },
  });
}
