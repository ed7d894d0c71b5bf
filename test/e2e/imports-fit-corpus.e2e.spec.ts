/**
 * The real device files of `../shared/corpus/fit` through the import API: every sample the parser
 * reads is stored (nothing refused by the streams' window rule, §10), the answer's warnings are the
 * parser's, a decoder failure on an intact file is logged at error level, and every file's original
 * is archived compressed and answered byte for byte (docs/data-model.md §6).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { CrcCalculator } from '@garmin/fitsdk';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFit } from '../../src/modules/imports/parsers/fit.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import type { ImportedActivity } from '../../src/modules/imports/parsers/types.js';
import { asBytes, signUp, type SignedUpUser } from '../factories/api.js';
import { upload } from '../factories/imports.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'fit');
const FILES = readdirSync(CORPUS).filter((f) => f.endsWith('.fit')).sort();
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface StoredStream {
  streamType: string;
  sampleCount: number;
}

describe('the FIT corpus through the import API', () => {
  let t: TestApp;
  let user: SignedUpUser;
  let store: ObjectStore;
  /** File name → [raw bytes, stored bytes] of its archived original. */
  const archived = new Map<string, [number, number]>();

  beforeAll(async () => {
    t = await createTestApp();
    user = await signUp(t);
    store = createObjectStore(t.env);
  });
  afterAll(async () => {
    await store.close?.();
    await t.close();
  });

  const original = (id: string) =>
    t
      .http()
      .get(`/api/v1/activities/${id}/original`)
      .set(user.auth)
      .buffer(true)
      .parse(asBytes);

  const detail = async (id: string) => (await t.http().get(`/api/v1/activities/${id}`).set(user.auth)).body;

  /** Stream type → sample count of one parsed activity. */
  const parsedCounts = (activity: ImportedActivity) =>
    Object.fromEntries(Object.entries(activity.streams).map(([type, samples]) => [type, samples.timestamps.length]));
  const storedCounts = (streams: StoredStream[]) => Object.fromEntries(streams.map((s) => [s.streamType, s.sampleCount]));

  it.each(FILES)('%s: every parsed sample is stored, leg by leg', async (name) => {
    const bytes = readFileSync(join(CORPUS, name));
    const parsed = parseFit(bytes);
    const response = await upload(t, user, [{ name, bytes }]);
    expect(response.status).toBe(200);
    const [file] = response.body.files;
    expect(file).toMatchObject({ status: 'created', format: 'fit', warnings: parsed.warnings });
    expect(file.activityIds).toHaveLength(parsed.activities.length);
    let samples = 0;
    for (const [index, activity] of parsed.activities.entries()) {
      const stored = await detail(file.activityIds[index]);
      expect(Date.parse(stored.startTime)).toBe(activity.startTime.getTime());
      expect(Date.parse(stored.endTime)).toBe(activity.endTime.getTime());
      const legs = activity.children.length > 0 ? activity.children : [activity];
      const storedLegs = activity.children.length > 0 ? await Promise.all(stored.children.map((c: { id: string }) => detail(c.id))) : [stored];
      expect(storedLegs).toHaveLength(legs.length);
      legs.forEach((leg, i) => {
        expect(storedCounts(storedLegs[i].streams)).toEqual(parsedCounts(leg));
        samples += Object.values(parsedCounts(leg)).reduce((a, b) => a + b, 0);
      });
    }
    expect(file.sampleCount).toBe(samples);

    // The original: compressed in the store under the sha256 of the file, the file's bytes over the API.
    const answer = await original(file.activityIds[0]).expect(200);
    expect(sha256(answer.body as Buffer)).toBe(sha256(bytes));
    expect(answer.headers['content-type']).toBe('application/vnd.ant.fit');
    expect(Number(answer.headers['content-length'])).toBe(bytes.byteLength);
    expect(answer.headers['x-archive-key']).toBe(`raw/athlete_id=${user.athleteId}/source=file/${sha256(bytes)}.fit.br`);
    archived.set(name, [bytes.byteLength, (await store.stat(answer.headers['x-archive-key']))!.size]);
  });

  it('stores every original of the corpus in fewer bytes than the file', () => {
    expect([...archived.keys()].sort()).toEqual(FILES);
    // Every file of the corpus compresses, from 0.06× (big_activity.fit) to 0.87× (compressed-speed-distance.fit).
    const larger = [...archived].filter(([, [raw, stored]]) => stored >= raw).map(([name]) => name);
    expect(larger).toEqual([]);
  });

  it('logs a decoder failure on an intact file at error level, and names it so to the athlete', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error');
    try {
      // A CRC-valid file whose only data message has a compressed-timestamp header before any timestamp.
      const bytes = fitFile([0x40, 0, 0, 20, 0, 1, 3, 1, 0x02, 0x80 | 5, 120]);
      const response = await upload(t, user, [{ name: 'no-timestamp.fit', bytes }]);
      const [file] = response.body.files;
      expect(file.status).toBe('rejected');
      expect(file.reason).toMatch(/^unreadable FIT file: FIT decoder failure on an intact file \(CRC valid\)/);
      expect(file.reason).not.toMatch(/damaged/);
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(/^no-timestamp\.fit \(sha256 [0-9a-f]{64}\): FIT decoder failure on an intact file/));
    } finally {
      errors.mockRestore();
    }
  });
});

/** A FIT file around raw record bytes: 14-byte header with CRC, data, file CRC. */
function fitFile(body: number[]): Uint8Array {
  const size = body.length;
  const header = [14, 0x20, 0x08, 0x52, size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, size >>> 24, 0x2e, 0x46, 0x49, 0x54];
  const headerCrc = CrcCalculator.calculateCRC(Uint8Array.from(header), 0, 12);
  const bytes = [...header, headerCrc & 0xff, headerCrc >> 8, ...body];
  const crc = CrcCalculator.calculateCRC(Uint8Array.from(bytes), 0, bytes.length);
  return Uint8Array.from([...bytes, crc & 0xff, crc >> 8]);
}
