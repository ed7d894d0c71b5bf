/**
 * Issue 24, a smaller lake: the stream objects are written with ZSTD pages and decimal-valued
 * columns as PLAIN now, and every value still comes back with the same 64 bits — through a file
 * import (every stream of every `../shared/corpus/fit` file against the parser's own samples) and
 * through a JSON upload (a property over integer-valued, decimal, fractional, mixed and extreme
 * columns, read back over HTTP).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import fc from 'fast-check';
import { parquetMetadata } from 'hyparquet';
import { decodeStream, isPositionSamples, type StreamSamples, type StreamType } from '@unified-activity/parquet-streams';
import { activityStreams } from '../../src/database/schema/index.js';
import { parseFit } from '../../src/modules/imports/parsers/fit.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { STREAM_TYPE_DESCRIPTORS, STREAM_TYPES } from '../../src/modules/streams/stream-types.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { upload } from '../factories/imports.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'fit');
const FILES = readdirSync(CORPUS).filter((f) => f.endsWith('.fit')).sort();

const bits = (values: Float64Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

function expectBitExact(label: string, actual: Float64Array | null | undefined, expected: Float64Array): void {
  expect({ label, length: actual?.length }).toEqual({ label, length: expected.length });
  if (!bits(actual!).equals(bits(expected))) {
    const at = expected.findIndex((v, i) => !Object.is(v, actual![i]));
    throw new Error(`${label}: first difference at ${at}: got ${actual![at]}, expected ${expected[at]}`);
  }
}

/** The columns of one stream's samples, by name, as the codec returns them. */
function columnsOf(samples: StreamSamples): Record<string, Float64Array | null | undefined> {
  if (isPositionSamples(samples)) {
    const { timestamps, latitude, longitude, altitudeM, horizontalAccuracyM } = samples;
    return { timestamps, latitude, longitude, altitudeM, horizontalAccuracyM };
  }
  return { timestamps: samples.timestamps, values: samples.values };
}

describe('stream values come back bit-identical after the issue 24 encodings', () => {
  let t: TestApp;
  let user: SignedUpUser;
  let store: ObjectStore;

  beforeAll(async () => {
    t = await createTestApp();
    user = await signUp(t);
    store = createObjectStore(t.env);
  });
  afterAll(async () => {
    await t.close();
    await store.close?.();
  });

  const detail = async (id: string) => (await t.http().get(`/api/v1/activities/${id}`).set(user.auth)).body;

  async function storedObject(activityId: string, type: StreamType): Promise<Uint8Array> {
    const [row] = await t.database.db
      .select({ objectKey: activityStreams.objectKey })
      .from(activityStreams)
      .where(and(eq(activityStreams.activityId, activityId), eq(activityStreams.streamType, type)));
    if (!row) throw new Error(`no ${type} stream for ${activityId}`);
    return store.get(row.objectKey);
  }

  it.each(FILES)('%s: every imported sample, stream by stream, as the parser read it', async (name) => {
    const bytes = readFileSync(join(CORPUS, name));
    const parsed = parseFit(bytes);
    const response = await upload(t, user, [{ name, bytes }]);
    expect(response.status).toBe(200);
    const [file] = response.body.files;
    expect(file.activityIds).toHaveLength(parsed.activities.length);
    for (const [index, activity] of parsed.activities.entries()) {
      const legs = activity.children.length > 0 ? activity.children : [activity];
      const legIds: string[] = activity.children.length > 0 ? (await detail(file.activityIds[index])).children.map((c: { id: string }) => c.id) : [file.activityIds[index]];
      for (const [legIndex, leg] of legs.entries()) {
        for (const [type, samples] of Object.entries(leg.streams) as [StreamType, StreamSamples][]) {
          if (samples.timestamps.length === 0) continue;
          const object = await storedObject(legIds[legIndex]!, type);
          const codecs = new Set(parquetMetadata(object.slice().buffer).row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!.codec)));
          expect(codecs.has('GZIP')).toBe(false);
          const decoded = columnsOf((await decodeStream(object, type)).samples);
          for (const [column, expected] of Object.entries(columnsOf(samples))) {
            if (expected == null || expected.every((v) => Number.isNaN(v))) expect(decoded[column] ?? null).toBeNull();
            else expectBitExact(`${name} ${type}.${column}`, decoded[column], expected);
          }
        }
      }
    }
  });

  it('JSON uploads of integer-valued, decimal, fractional, mixed and extreme columns read back unchanged', async () => {
    const start = Date.parse('2026-05-01T06:00:00.000Z');
    const activityId = (await createActivity(t, user, { startTime: new Date(start).toISOString(), endTime: new Date(start + 36_000_000).toISOString() })).id;
    // Each type's plausibility range bounds its values (a 422 otherwise). JSON has no -0
    // (JSON.stringify writes 0), so it is left out here; the codec's spec has it.
    const kindsWithin = (min: number, max: number) => [
      fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
      fc.integer({ min: Math.ceil(min * 100), max: Math.floor(max * 100) }).map((cm) => cm / 100),
      fc.integer({ min: Math.ceil(min * 1000), max: Math.floor(max * 1000) }).map((mm) => mm / 1000),
      fc.double({ min, max, noNaN: true }).map((v) => (Object.is(v, -0) ? 0 : v)),
      fc.constantFrom(...[min, max, (min + max) / 3, 0.1 + 0.2, 72.35, 5e-324, 2.2250738585072014e-308].filter((v) => v >= min && v <= max)),
    ];
    const column = (type: StreamType, count: number) => {
      const { min, max } = STREAM_TYPE_DESCRIPTORS[type];
      const kinds = kindsWithin(min, max);
      return fc.array(fc.integer({ min: 0, max: kinds.length - 1 }), { minLength: 1, maxLength: 3 }).chain((picked) =>
        fc.array(fc.oneof(...picked.map((k) => kinds[k]!)), { minLength: count, maxLength: count }),
      );
    };
    const body = fc.record({ type: fc.constantFrom(...STREAM_TYPES.filter((type) => type !== 'position')), count: fc.integer({ min: 1, max: 400 }) }).chain(({ type, count }) =>
      fc.record({
        type: fc.constant(type),
        gaps: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: count, maxLength: count }),
        values: column(type, count),
      }),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ type, gaps, values }) => {
        let at = start;
        const timestamps = gaps.map((gap) => (at += gap));
        await t.http().put(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).send({ timestamps, values }).expect(200);
        const fetched = await t.http().get(`/api/v1/activities/${activityId}/streams/${type}`).set(user.auth).expect(200);
        expectBitExact(`${type} timestamps`, Float64Array.from(fetched.body.timestamps as number[]), Float64Array.from(timestamps));
        expectBitExact(`${type} values`, Float64Array.from(fetched.body.values as number[]), Float64Array.from(values));
      }),
      { numRuns: 40, seed: 20_261_206 },
    );
  });

  it('JSON uploads of positions, with and without altitude and accuracy, read back unchanged', async () => {
    const start = Date.parse('2026-05-02T06:00:00.000Z');
    const activityId = (await createActivity(t, user, { startTime: new Date(start).toISOString(), endTime: new Date(start + 36_000_000).toISOString() })).id;
    const position = fc.integer({ min: 1, max: 300 }).chain((count) =>
      fc.record({
        gaps: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: count, maxLength: count }),
        latitude: fc.array(fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.integer({ min: -(2 ** 30), max: 2 ** 30 }).map((s) => s * (180 / 2 ** 31))), { minLength: count, maxLength: count }),
        longitude: fc.array(fc.double({ min: -180, max: 180, noNaN: true }), { minLength: count, maxLength: count }),
        altitudeM: fc.option(fc.array(fc.option(fc.integer({ min: -2000, max: 40_000 }).map((dm) => dm / 5)), { minLength: count, maxLength: count })),
        horizontalAccuracyM: fc.option(fc.array(fc.option(fc.double({ min: 0, max: 100, noNaN: true })), { minLength: count, maxLength: count })),
      }),
    );
    const noNegativeZero = (values: number[]) => values.map((v) => (Object.is(v, -0) ? 0 : v));
    const asColumn = (values: (number | null)[]) => Float64Array.from(values, (v) => (v === null ? Number.NaN : Object.is(v, -0) ? 0 : v));
    await fc.assert(
      fc.asyncProperty(position, async ({ gaps, latitude, longitude, altitudeM, horizontalAccuracyM }) => {
        let at = start;
        const timestamps = gaps.map((gap) => (at += gap));
        const sent = {
          timestamps,
          latitude: noNegativeZero(latitude),
          longitude: noNegativeZero(longitude),
          ...(altitudeM ? { altitudeM } : {}),
          ...(horizontalAccuracyM ? { horizontalAccuracyM } : {}),
        };
        await t.http().put(`/api/v1/activities/${activityId}/streams/position`).set(user.auth).send(sent).expect(200);
        const fetched = (await t.http().get(`/api/v1/activities/${activityId}/streams/position`).set(user.auth).expect(200)).body;
        expectBitExact('timestamps', Float64Array.from(fetched.timestamps as number[]), Float64Array.from(timestamps));
        expectBitExact('latitude', Float64Array.from(fetched.latitude as number[]), Float64Array.from(sent.latitude));
        expectBitExact('longitude', Float64Array.from(fetched.longitude as number[]), Float64Array.from(sent.longitude));
        for (const [name, values] of [['altitudeM', altitudeM], ['horizontalAccuracyM', horizontalAccuracyM]] as const) {
          if (!values || values.every((v) => v === null)) expect(fetched[name] ?? null).toBeNull();
          else expectBitExact(name, asColumn(fetched[name] as (number | null)[]), asColumn(values));
        }
      }),
      { numRuns: 25, seed: 20_261_206 },
    );
  });
});
