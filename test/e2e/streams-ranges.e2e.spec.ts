import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createORPCClient, ORPCError } from '@orpc/client';
import { RPCLink } from '@orpc/client/fetch';
import type { ContractRouterClient } from '@orpc/contract';
import type { contract } from '@unified-activity/contract';
import { encodeStream } from '@unified-activity/parquet-streams';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { rng, scalarValues, timestamps, track } from '../factories/streams.js';
import { createTestApp, type TestApp } from '../setup/app.js';

type ApiClient = ContractRouterClient<typeof contract>;

const START = new Date('2026-05-01T06:00:00.000Z');
const END = new Date('2026-05-01T18:00:00.000Z');
/** 11 h at 1 Hz: stored in several row groups (the codec's layout beyond 32,768 samples), read by range. */
const COUNT = 40_000;

/** `from`/`to` of a read, as the query string carries them. */
const query = (params: Record<string, string | number>) =>
  Object.entries(params)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`)
    .join('&');

/** ISO 8601 with a +02:00 offset: the same instant as `ms`. */
const withOffset = (ms: number) => `${new Date(ms + 2 * 3600_000).toISOString().slice(0, -1)}+02:00`;

describe('time-range reads: GET /v1/activities/{id}/streams/{type}?from=&to= and the RPC procedure', () => {
  let t: TestApp;
  let owner: SignedUpUser;
  let activityId: string;
  let rpcUrl: string;
  const random = rng(2424);
  const ts = timestamps(START, COUNT);
  const heartRate = scalarValues('heart_rate', COUNT, random);
  const position = track(COUNT, random);

  const client = (token: string): ApiClient => createORPCClient<ApiClient>(new RPCLink({ url: rpcUrl, headers: { Authorization: `Bearer ${token}` } }));
  const read = (type: string, params: Record<string, string | number>, user = owner, id = activityId) =>
    t.http().get(`/api/v1/activities/${id}/streams/${type}?${query(params)}`).set(user.auth);

  /** The stored samples in [from, to), as the full stream gives them. */
  const slice = (from: number, to: number) => {
    const rows = ts.flatMap((time, i) => (time >= from && time < to ? [i] : []));
    return { timestamps: rows.map((i) => ts[i]!), values: rows.map((i) => heartRate[i]!) };
  };

  /** Bit-identical numbers (Object.is: -0 and NaN too). */
  const expectSame = (actual: number[], expected: number[]) => {
    expect(actual).toHaveLength(expected.length);
    const mismatches = expected.filter((value, i) => !Object.is(value, actual[i]));
    expect(mismatches).toEqual([]);
  };

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    rpcUrl = `http://127.0.0.1:${port}/api/rpc`;
    owner = await signUp(t, 'Range Reader');
    activityId = (await createActivity(t, owner, { startTime: START.toISOString(), endTime: END.toISOString() })).id;
    // As Parquet files: JSON bodies this large are scanned on the scan thread, whose typed arrays
    // belong to another realm than Jest's (the inline encode's instanceof checks fail, in tests only).
    const upload = (type: string, parquet: Uint8Array) =>
      t
        .http()
        .put(`/api/v1/activities/${activityId}/streams/${type}/file`)
        .set(owner.auth)
        .set('content-type', 'application/vnd.apache.parquet')
        .send(Buffer.from(parquet))
        .expect(200);
    await upload('heart_rate', encodeStream('heart_rate', { timestamps: Float64Array.from(ts), values: Float64Array.from(heartRate) }));
    const parquet = encodeStream('position', {
      timestamps: Float64Array.from(ts),
      latitude: Float64Array.from(position.latitude),
      longitude: Float64Array.from(position.longitude),
      altitudeM: Float64Array.from(position.altitudeM),
      horizontalAccuracyM: Float64Array.from(position.horizontalAccuracyM, (value) => value ?? Number.NaN),
    });
    await upload('position', parquet);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('is half-open: the sample at from is included, the one at to is not; values bit-identical', async () => {
    const [from, to] = [ts[3990]!, ts[4190]!]; // around sample 4,000, where the first two row groups meet
    const response = await read('heart_rate', { from, to }).expect(200);
    expect(response.body).toMatchObject({ streamType: 'heart_rate', sampleCount: COUNT, returnedCount: 200, downsampled: false });
    expect(response.body.timestamps[0]).toBe(from);
    expect(response.body.timestamps.at(-1)).toBe(ts[4189]);
    expectSame(response.body.timestamps, slice(from, to).timestamps);
    expectSame(response.body.values, slice(from, to).values);
    // One sample: [t, t + 1).
    const single = await read('heart_rate', { from: ts[77]!, to: ts[77]! + 1 }).expect(200);
    expect(single.body).toMatchObject({ returnedCount: 1, timestamps: [ts[77]], values: [heartRate[77]] });
  });

  it('takes ISO 8601 date-times (Z or an offset) for the same instants as epoch milliseconds, and either end alone', async () => {
    const [from, to] = [ts[9000]!, ts[9010]!];
    const epoch = await read('heart_rate', { from, to }).expect(200);
    const iso = await read('heart_rate', { from: new Date(from).toISOString(), to: new Date(to).toISOString() }).expect(200);
    const offset = await read('heart_rate', { from: withOffset(from), to: withOffset(to) }).expect(200);
    expect(iso.body).toEqual(epoch.body);
    expect(offset.body).toEqual(epoch.body);
    expect(epoch.body.returnedCount).toBe(10);

    const tail = await read('heart_rate', { from: ts[COUNT - 5]! }).expect(200);
    expectSame(tail.body.timestamps, ts.slice(-5));
    const head = await read('heart_rate', { to: ts[3]! }).expect(200);
    expectSame(head.body.values, heartRate.slice(0, 3));
  });

  it('answers an empty stream for an empty range and for ranges outside the stream', async () => {
    const last = ts[COUNT - 1]!;
    for (const params of [
      { from: ts[50]!, to: ts[50]! },
      { from: last + 1, to: last + 3_600_000 },
      { from: START.getTime() - 3_600_000, to: START.getTime() },
    ]) {
      const response = await read('heart_rate', params).expect(200);
      expect(response.body).toEqual({ streamType: 'heart_rate', sampleCount: COUNT, returnedCount: 0, downsampled: false, timestamps: [], values: [] });
    }
    const position = await read('position', { from: last + 1 }).expect(200);
    expect(position.body).toEqual({ streamType: 'position', sampleCount: COUNT, returnedCount: 0, downsampled: false, timestamps: [], latitude: [], longitude: [] });
  });

  it('refuses from after to (422, a cross-field rule) and malformed instants (400)', async () => {
    const reversed = await read('heart_rate', { from: ts[10]!, to: ts[9]! }).expect(422);
    expect(reversed.body).toMatchObject({ code: 'UNPROCESSABLE_CONTENT', issues: [{ path: ['to'], message: 'must not be before from' }] });
    const reversedIso = await read('heart_rate', { from: '2026-05-01T08:00:00Z', to: '2026-05-01T07:00:00Z' }).expect(422);
    expect(reversedIso.body.code).toBe('UNPROCESSABLE_CONTENT');
    for (const from of ['yesterday', '2026-05-01T06:00:00', '2026-02-30T06:00:00Z', '']) {
      const response = await read('heart_rate', { from }).expect(400);
      expect(response.body).toMatchObject({
        code: 'BAD_REQUEST',
        issues: [{ path: ['from'], message: expect.stringMatching(/^must be epoch milliseconds \(UTC\) or an ISO 8601 date-time with seconds and an offset/) }],
      });
    }
    // Outside the contract's years (1900–2200): a bound, 422, saying which.
    const outside = await read('heart_rate', { to: 99_999_999_999_999 }).expect(422);
    expect(outside.body).toMatchObject({ issues: [{ path: ['to'], message: 'must lie between 1900-01-01T00:00:00Z and 2200-12-31T23:59:59.999Z' }] });
  });

  it('downsamples the samples of the range with maxPoints', async () => {
    const [from, to] = [ts[1000]!, ts[6000]!];
    const response = await read('heart_rate', { from, to, maxPoints: 100 }).expect(200);
    expect(response.body).toMatchObject({ sampleCount: COUNT, downsampled: true });
    expect(response.body.returnedCount).toBe(response.body.timestamps.length);
    expect(response.body.returnedCount).toBeLessThanOrEqual(100);
    // LTTB keeps the first and last sample of what it reduces: the range's, not the stream's.
    expect(response.body.timestamps[0]).toBe(from);
    expect(response.body.timestamps.at(-1)).toBe(ts[5999]);
    const expected = slice(from, to);
    for (const [i, time] of (response.body.timestamps as number[]).entries()) {
      expect(response.body.values[i]).toBe(expected.values[expected.timestamps.indexOf(time)]);
    }
    // A range with fewer samples than maxPoints is answered whole.
    const small = await read('heart_rate', { from, to: ts[1050]!, maxPoints: 100 }).expect(200);
    expect(small.body).toMatchObject({ returnedCount: 50, downsampled: false });

    const track = await read('position', { from, to, maxPoints: 50 }).expect(200);
    expect(track.body.downsampled).toBe(true);
    expect(track.body.latitude.length).toBeLessThanOrEqual(50);
    expect((track.body.timestamps as number[]).every((time) => time >= from && time < to)).toBe(true);
  });

  it('reads a range of a position stream with its optional columns', async () => {
    const response = await read('position', { from: ts[8190]!, to: ts[8195]! }).expect(200);
    expect(response.body.returnedCount).toBe(5);
    expectSame(response.body.latitude, position.latitude.slice(8190, 8195));
    expectSame(response.body.longitude, position.longitude.slice(8190, 8195));
    expect(response.body.altitudeM).toEqual(position.altitudeM.slice(8190, 8195));
    expect(response.body.horizontalAccuracyM).toEqual(position.horizontalAccuracyM.slice(8190, 8195));
  });

  it('scopes ranges to the owner as full reads: someone else’s activity and a missing stream are 404', async () => {
    const stranger = await signUp(t, 'Range Stranger');
    const foreign = await read('heart_rate', { from: ts[0]!, to: ts[10]! }, stranger).expect(404);
    expect(foreign.body.code).toBe('NOT_FOUND');
    // Even for a range outside the stream, which reads no object at all.
    await read('heart_rate', { from: END.getTime() + 3_600_000 }, stranger).expect(404);
    await read('power', { from: ts[0]!, to: ts[10]! }).expect(404);
    await expect(client(stranger.token).streams.get({ id: activityId, type: 'heart_rate', from: ts[0]!, to: ts[10]! })).rejects.toMatchObject({ status: 404 });
  });

  it('takes the same input over RPC: epoch milliseconds or Dates, half-open, from after to refused', async () => {
    const rpc = client(owner.token);
    const [from, to] = [ts[300]!, ts[310]!];
    const answer = await rpc.streams.get({ id: activityId, type: 'heart_rate', from: new Date(from), to });
    expect(answer).toMatchObject({ sampleCount: COUNT, returnedCount: 10, downsampled: false });
    expectSame(answer.timestamps, slice(from, to).timestamps);
    expectSame(answer.values!, slice(from, to).values);
    const reduced = await rpc.streams.get({ id: activityId, type: 'heart_rate', from, to: ts[5000]!, maxPoints: 20 });
    expect(reduced).toMatchObject({ downsampled: true });
    expect(reduced.timestamps.length).toBeLessThanOrEqual(20);
    const empty = await rpc.streams.get({ id: activityId, type: 'heart_rate', from, to: from });
    expect(empty).toMatchObject({ returnedCount: 0, timestamps: [], values: [] });
    const refused = await rpc.streams.get({ id: activityId, type: 'heart_rate', from: to, to: from }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ORPCError);
    expect(refused).toMatchObject({ status: 422, code: 'UNPROCESSABLE_CONTENT' });
  });
});
