import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SCAN_MIN_BYTES, streamedReads } from '../../src/modules/streams/http/stream-routes.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { rng, timestamps, track } from '../factories/streams.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const START = new Date('2026-05-01T06:00:00.000Z');
const END = new Date('2026-05-01T16:00:00.000Z');

/** Large JSON bodies are read by the upload route's scanner, large reads are streamed (stream-routes). */
describe('2,000,000-sample paths: scanned JSON uploads and streamed reads', () => {
  let t: TestApp;
  let user: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp();
    user = await signUp(t);
  });
  afterAll(async () => {
    await t.close();
  });

  /** The app's port (supertest uses the same server once it listens). */
  const listeningPort = async () => {
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const newActivity = async () => (await createActivity(t, user, { startTime: START.toISOString(), endTime: END.toISOString() })).id;
  const put = (activityId: string, type: string, json: string) =>
    t.http().put(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).set('Content-Type', 'application/json').send(json);
  /** The raw bytes of a read, as the client received them. */
  const readRaw = async (activityId: string, type: string) => {
    const response = await t
      .http()
      .get(`/api/v1/activities/${activityId}/streams/${type}`)
      .set(user.auth)
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    return { status: response.status, headers: response.headers, bytes: response.body as Buffer };
  };

  it('a large JSON upload and the streamed full read round-trip bit-exact, byte for byte the JSON of the regular path', async () => {
    const activityId = await newActivity();
    const count = 150_000;
    const random = rng(11);
    const { latitude, longitude } = track(count, random);
    // Full doubles, negative zero is not a valid altitude edge case here; nulls in an optional column.
    const altitudeM = Array.from({ length: count }, (_, i) => (i % 97 === 0 ? null : 400 + (random() - 0.5) * 123.456789));
    const body = { timestamps: timestamps(START, count, { stepMs: 200 }), latitude, longitude, altitudeM };
    const json = JSON.stringify(body);
    expect(json.length).toBeGreaterThan(SCAN_MIN_BYTES);
    const uploaded = await put(activityId, 'position', json);
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ streamType: 'position', sampleCount: count });

    const streamed = await readRaw(activityId, 'position');
    expect(streamed.status).toBe(200);
    expect(streamed.headers['content-type']).toMatch(/^application\/json/);
    expect(streamed.headers['content-length']).toBeUndefined();
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    const expected = { streamType: 'position', sampleCount: count, returnedCount: count, downsampled: false, ...body };
    // Byte-exact: the same text JSON.stringify gives for the answer object (what the RPC route's answer holds).
    expect(streamed.bytes.equals(Buffer.from(JSON.stringify(expected)))).toBe(true);
    const parsed = JSON.parse(streamed.bytes.toString('utf8')) as typeof expected;
    for (const column of ['timestamps', 'latitude', 'longitude', 'altitudeM'] as const) {
      const mismatches = (body[column] as (number | null)[]).filter((value, i) => !Object.is(value, parsed[column][i]));
      expect({ column, mismatches }).toEqual({ column, mismatches: [] });
    }

    // The answer written in one buffer (reads of up to streamedReads.minSamples) is the same bytes.
    const threshold = streamedReads.minSamples;
    streamedReads.minSamples = Number.POSITIVE_INFINITY;
    try {
      const regular = await readRaw(activityId, 'position');
      expect(regular.status).toBe(200);
      expect(regular.headers['content-length']).toBe(String(regular.bytes.length));
      expect(regular.bytes.equals(streamed.bytes)).toBe(true);
    } finally {
      streamedReads.minSamples = threshold;
    }

    // A downsampled read stays on the regular path and is consistent with the stored samples.
    const reduced = await t.http().get(`/api/v1/activities/${activityId}/streams/position?maxPoints=1000`).set(user.auth).expect(200);
    expect(reduced.body).toMatchObject({ sampleCount: count, downsampled: true });
    expect(reduced.body.timestamps.length).toBeLessThanOrEqual(1000);
  }, 120_000);

  /** A request through node:http (supertest's client holds bodies in memory its own way), the answer's bytes. */
  const rawRequest = async (method: string, path: string, body?: Buffer) => {
    const port = await listeningPort();
    return new Promise<{ status: number; bytes: Buffer }>((resolve, reject) => {
      const headers = { ...user.auth, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) };
      const request = httpRequest({ port, host: '127.0.0.1', method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, bytes: Buffer.concat(chunks) }));
      });
      request.on('error', reject);
      request.end(body);
    });
  };

  it('a 2,000,000-sample JSON upload and full read keep the JS heap small (no arrays, no body string)', async () => {
    const activityId = await newActivity();
    const count = 2_000_000;
    const values = Array.from({ length: count }, (_, i) => 60 + (i % 120));
    const json = Buffer.from(JSON.stringify({ timestamps: timestamps(START, count, { stepMs: 18 }), values }));
    /** Peak JS heap (this process: the server and the test client) above its level before `work`. */
    const heapPeak = async (work: () => Promise<unknown>) => {
      global.gc?.();
      const before = process.memoryUsage().heapUsed;
      let peak = before;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
      try {
        await work();
      } finally {
        clearInterval(timer);
      }
      return (Math.max(peak, process.memoryUsage().heapUsed) - before) / 2 ** 20;
    };
    const path = `/api/v1/activities/${activityId}/streams/heart_rate`;
    // Parsed on the main thread, this 36 MiB body is a 36 MiB string and two 2,000,000-element arrays (~70 MiB of heap).
    const upload = await heapPeak(async () => expect((await rawRequest('PUT', path, json)).status).toBe(200));
    expect(upload).toBeLessThan(32);
    let bytes: Buffer = Buffer.alloc(0);
    const read = await heapPeak(async () => (bytes = (await rawRequest('GET', path)).bytes));
    expect(read).toBeLessThan(32);
    expect(bytes.length).toBe(json.length + bytes.indexOf('"timestamps"') - 1);
  }, 180_000);

  it('accepts a large body sent without a content-length (chunked), bit-exact', async () => {
    const activityId = await newActivity();
    const count = 80_000;
    const random = rng(5);
    const values = Array.from({ length: count }, () => Math.round((60 + random() * 120) * 1000) / 1000);
    const body = { timestamps: timestamps(START, count, { stepMs: 250 }).map((ms, i) => (i % 3 === 0 ? new Date(ms).toISOString() : ms)), values };
    const json = Buffer.from(JSON.stringify(body));
    const port = await listeningPort();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { port, host: '127.0.0.1', method: 'PUT', path: `/api/v1/activities/${activityId}/streams/heart_rate`, headers: { ...user.auth, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      for (let offset = 0; offset < json.length; offset += 100_000) req.write(json.subarray(offset, offset + 100_000));
      req.end();
    });
    expect(status).toBe(200);
    const read = await readRaw(activityId, 'heart_rate');
    const parsed = JSON.parse(read.bytes.toString('utf8')) as { timestamps: number[]; values: number[] };
    expect(parsed.timestamps).toEqual(body.timestamps.map((value) => (typeof value === 'string' ? Date.parse(value) : value)));
    expect(parsed.values.every((value, i) => Object.is(value, values[i]))).toBe(true);
  }, 120_000);

  describe('a bad large JSON body gets the same answer as a small one', () => {
    const t0 = START.getTime();
    /** `count` good heart-rate samples, with `spoil` applied to the columns (the mistake sits at the start). */
    const bodyOf = (count: number, spoil: (columns: { timestamps: unknown[]; values: unknown[] } & Record<string, unknown>) => void) => {
      const columns = { timestamps: Array.from({ length: count }, (_, i) => t0 + i * 100) as unknown[], values: Array.from({ length: count }, (_, i) => 60 + (i % 50)) as unknown[] };
      spoil(columns);
      return JSON.stringify(columns);
    };
    const cases: [string, (columns: { timestamps: unknown[]; values: unknown[] } & Record<string, unknown>) => void, number][] = [
      ['a value that is not a number', (c) => (c.values[1] = '80'), 400],
      ['a null value', (c) => (c.values[1] = null), 400],
      ['an unknown field', (c) => (c.unit = 'bpm'), 400],
      ['a heart rate outside 20–260 bpm', (c) => (c.values[1] = 300), 422],
      ['decreasing timestamps', (c) => (c.timestamps[1] = t0 - 5), 422],
      ['a malformed ISO timestamp', (c) => (c.timestamps[1] = 'yesterday'), 422],
      ['a fractional timestamp', (c) => (c.timestamps[1] = t0 + 0.5), 422],
      ['a position column on a scalar stream', (c) => (c.latitude = c.values), 422],
      ['no values column', (c) => delete (c as Partial<typeof c>).values, 422],
      ['timestamps that are not an array', (c) => (c.timestamps = { list: c.timestamps } as never), 400],
    ];

    it.each(cases)('%s', async (_name, spoil, status) => {
      const activityId = await newActivity();
      const small = await put(activityId, 'heart_rate', bodyOf(10, spoil));
      const largeJson = bodyOf(120_000, spoil);
      expect(largeJson.length).toBeGreaterThan(SCAN_MIN_BYTES);
      const large = await put(activityId, 'heart_rate', largeJson);
      expect(small.status).toBe(status);
      expect({ status: large.status, body: large.body }).toEqual({ status: small.status, body: small.body });
    });

    it('unequal column lengths, and JSON that is not valid', async () => {
      const activityId = await newActivity();
      const unequal = (count: number) => bodyOf(count, (c) => c.values.pop());
      const small = await put(activityId, 'heart_rate', unequal(10));
      const large = await put(activityId, 'heart_rate', unequal(120_000));
      expect(small.status).toBe(422);
      expect(large.status).toBe(422);
      expect(large.body.issues).toEqual([{ path: ['values'], message: 'has 119999 entries but timestamps has 120000' }]);
      expect(large.body.code).toBe(small.body.code);

      for (const broken of [(json: string) => json.slice(0, -1), (json: string) => json.replace('],', '],,'), (json: string) => json.replace(',61,', ',061,')]) {
        const smallBad = await put(activityId, 'heart_rate', broken(bodyOf(100, () => undefined)));
        const largeBad = await put(activityId, 'heart_rate', broken(bodyOf(120_000, () => undefined)));
        expect(smallBad.status).toBe(400);
        expect({ status: largeBad.status, body: largeBad.body }).toEqual({ status: smallBad.status, body: smallBad.body });
      }
      const rows = await t.http().get(`/api/v1/activities/${activityId}/streams`).set(user.auth).expect(200);
      expect(rows.body.items).toEqual([]);
    });
  });
});
