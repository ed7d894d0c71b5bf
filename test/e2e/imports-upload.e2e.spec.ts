/**
 * Issue 23: the multipart body of POST /athletes/{id}/imports is read file by file (to disk) instead
 * of whole into memory, with the behaviour it had: the 128 MiB limit of the whole body (413, declared
 * or counted), an unreadable body (400), the contract's 1,000 files (422), only `files` parts kept.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { MAX_IMPORT_UPLOAD_BYTES } from '@unified-activity/contract';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { upload } from '../factories/imports.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const MiB = 1024 * 1024;
const BOUNDARY = 'test-boundary-3f9a';

let t: TestApp;
let port: number;
let user: SignedUpUser;

beforeAll(async () => {
  t = await createTestApp({ IMPORT_WORKERS: '1' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.getHttpServer().address() as AddressInfo).port;
  user = await signUp(t);
});
afterAll(async () => {
  await t?.close();
});

const fit = (day: number) =>
  fitActivityFixture({ sport: 'running', startTime: new Date(Date.UTC(2024, 7, day, 6)), seconds: 300, channels: { heartRate: true, speed: true } }).bytes;

const listOf = async (who: SignedUpUser) => (await t.http().get(`/api/v1/activities?athleteId=${who.athleteId}`).set(who.auth)).body.items as unknown[];

interface Answer {
  status: number;
  body: string;
  connection: string | undefined;
  /** Bytes of the body written before the answer arrived. */
  sent: number;
}

/**
 * POSTs `chunks` (a generator, so that no large body is built in memory) to the import route, and
 * stops writing as soon as the server answers.
 */
function post(who: SignedUpUser, chunks: Iterable<Buffer>, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const request = httpRequest(
      { host: '127.0.0.1', port, path: `/api/v1/athletes/${who.athleteId}/imports`, method: 'POST', headers: { ...who.auth, ...headers } },
      (response) => {
        answered = true;
        const body: Buffer[] = [];
        response.on('data', (chunk: Buffer) => body.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(body).toString('utf8'), connection: response.headers.connection, sent });
          request.destroy();
        });
      },
    );
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    const iterator = chunks[Symbol.iterator]();
    const write = () => {
      for (;;) {
        if (answered || request.destroyed) return;
        const next = iterator.next();
        if (next.done) return void request.end();
        sent += next.value.length;
        if (!request.write(next.value)) return void request.once('drain', write);
      }
    };
    write();
  });
}

function* multipartFile(size: number, field = 'files', name = 'big.bin'): Generator<Buffer> {
  yield Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${field}"; filename="${name}"\r\ncontent-type: application/octet-stream\r\n\r\n`);
  const chunk = Buffer.alloc(MiB, 0x41);
  for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  yield Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
}

const multipart = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
const uploadTemporaries = () => readdirSync(tmpdir()).filter((name) => name.startsWith('import-upload-'));

/** The temporary files created since `before`, once the server has had up to 2 s to remove them (after its answer). */
async function leftBehind(before: string[]): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 40; i++) {
    left = uploadTemporaries().filter((name) => !before.includes(name));
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return left;
}

describe('import uploads read as multipart streams', () => {
  it('a declared body over 128 MiB → 413 before it is read, in the one error shape, connection closed', async () => {
    const answer = await post(user, multipartFile(MAX_IMPORT_UPLOAD_BYTES + MiB), { ...multipart, 'content-length': String(MAX_IMPORT_UPLOAD_BYTES + MiB + 200) });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    expect(answer.connection).toBe('close');
    expect(answer.sent).toBeLessThan(32 * MiB);
  });

  it('a chunked body that grows over 128 MiB → 413 once it passes the limit; nothing is imported, nothing left on disk', async () => {
    const who = await signUp(t);
    const before = uploadTemporaries();
    const answer = await post(who, multipartFile(MAX_IMPORT_UPLOAD_BYTES + 8 * MiB), { ...multipart, 'transfer-encoding': 'chunked' });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    expect(answer.sent).toBeLessThan(MAX_IMPORT_UPLOAD_BYTES + 8 * MiB);
    expect(await listOf(who)).toHaveLength(0);
    expect(await leftBehind(before)).toEqual([]);
  });

  it('an unreadable multipart body → 400 naming it, connection closed', async () => {
    const truncated = await post(user, [Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="files"; filename="a.fit"\r\n\r\nabc`)], multipart);
    expect(truncated.status).toBe(400);
    expect(JSON.parse(truncated.body)).toEqual({ code: 'BAD_REQUEST', message: 'The body is not valid multipart/form-data' });
    expect(truncated.connection).toBe('close');
    const noBoundary = await post(user, [Buffer.from('files=1')], { 'content-type': 'multipart/form-data' });
    expect(noBoundary.status).toBe(400);
    expect(JSON.parse(noBoundary.body)).toEqual({ code: 'BAD_REQUEST', message: 'The body is not valid multipart/form-data' });
  });

  it('more than 1,000 files → 422 from the contract, nothing imported', async () => {
    const who = await signUp(t);
    const files = Array.from({ length: 1001 }, (_, i) => ({ name: `f${i}.gpx`, bytes: new Uint8Array([60]) }));
    const response = await upload(t, who, files);
    expect(response.status).toBe(422);
    expect(response.body).toEqual({
      code: 'UNPROCESSABLE_CONTENT',
      message: 'The request breaks a rule of the data model',
      issues: [{ path: ['files'], message: 'Too big: expected array to have <=1000 items' }],
    });
    expect(await listOf(who)).toHaveLength(0);
  });

  it('keeps only the `files` parts, in order and byte for byte, whatever else the form carries', async () => {
    const who = await signUp(t);
    const [a, b] = [fit(1), fit(2)];
    const response = await t
      .http()
      .post(`/api/v1/athletes/${who.athleteId}/imports`)
      .set(who.auth)
      .field('note', 'ignored')
      .attach('files', Buffer.from(a), 'a.fit')
      .attach('other', Buffer.from(fit(3)), 'c.fit')
      .attach('files', Buffer.from(b), 'b.fit');
    expect(response.status).toBe(200);
    expect(response.body.files.map((f: { fileName: string; status: string }) => [f.fileName, f.status])).toEqual([
      ['a.fit', 'created'],
      ['b.fit', 'created'],
    ]);
    const [first] = response.body.files as { activityIds: string[] }[];
    const original = await t.http().get(`/api/v1/activities/${first!.activityIds[0]}/original`).set(who.auth).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(new Uint8Array(original.body as Buffer)).toEqual(a);
  });

  it('an upload over 16 MiB becomes a job that imports each of its files, and leaves no temporary file behind', async () => {
    const who = await signUp(t);
    const good = fit(4);
    const before = uploadTemporaries();
    const padding = new Uint8Array(17 * MiB).fill(0x42);
    const response = await upload(t, who, [
      { name: 'good.fit', bytes: good },
      { name: 'padding.bin', bytes: padding },
    ]);
    expect(response.status).toBe(202);
    let job = response.body;
    for (let i = 0; i < 120 && job.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = (await t.http().get(`/api/v1/imports/${job.id}`).set(who.auth)).body;
    }
    expect(job).toMatchObject({ status: 'completed', filesDone: 2, summary: { created: 1, rejected: 1 } });
    expect(job.files[0]).toMatchObject({ fileName: 'good.fit', status: 'created' });
    expect(job.files[1]).toMatchObject({ fileName: 'padding.bin', status: 'rejected' });
    expect(await leftBehind(before)).toEqual([]);
  });
});
