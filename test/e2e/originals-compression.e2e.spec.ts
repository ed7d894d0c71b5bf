/**
 * Archived originals are stored compressed (docs/data-model.md §6), and the originals archived
 * uncompressed by earlier versions are compressed by the idempotent migration that runs with the
 * stream upgrade (at boot and in `npm run streams:sweep -- --apply`): new object, pointer switch,
 * old object through the deletion outbox. The old objects are seeded exactly as the previous code
 * stored them: the bytes as received under `…/<sha256>.<ext>`, the activities pointing at that key.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { eq, inArray } from 'drizzle-orm';
import { createApp } from '../../src/app.js';
import { activities, importJobs, streamObjectDeletions } from '../../src/database/schema/index.js';
import { ArchivedOriginalsRepository } from '../../src/modules/streams/archived-originals.repository.js';
import { compressOriginals } from '../../src/modules/streams/objects/original-compression.js';
import { encodeOriginal, logicalKey } from '../../src/modules/streams/objects/original-encoding.js';
import { sweepStreams } from '../../src/modules/streams/objects/sweep.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { StreamsRepository } from '../../src/modules/streams/streams.repository.js';
import { StreamsService } from '../../src/modules/streams/streams.service.js';
import { asBytes, signUp, type SignedUpUser } from '../factories/api.js';
import { upload, zip } from '../factories/imports.js';
import { garminDaily, healthKitRun } from '../fixtures/sync-payloads.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'fit');
const FIT_NAME = 'garmin-fenix-5-walk.fit';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let t: TestApp;
let store: ObjectStore;
let originals: ArchivedOriginalsRepository;

beforeAll(async () => {
  t = await createTestApp();
  store = createObjectStore(t.env);
  originals = new ArchivedOriginalsRepository(t.database.db);
});
afterAll(async () => {
  await store.close?.();
  await t.close();
});

const getOriginal = (user: SignedUpUser, activityId: string) =>
  t
    .http()
    .get(`/api/v1/activities/${activityId}/original`)
    .set(user.auth)
    .buffer(true)
    .parse(asBytes);

const postBatch = (user: SignedUpUser, source: string, body: string) =>
  t.http().post(`/api/v1/athletes/${user.athleteId}/sync/${source}/batches`).set(user.auth).set('content-type', 'application/json').send(body);

const keysOf = async (user: SignedUpUser) => {
  const keys: string[] = [];
  for await (const object of store.list(`raw/athlete_id=${user.athleteId}/`)) keys.push(object.key);
  return keys.sort();
};

const pointers = async (user: SignedUpUser) =>
  (await t.database.db.select({ key: activities.sourceArchiveKey }).from(activities).where(eq(activities.athleteId, user.athleteId))).map((row) => row.key);

/**
 * Turns a compressed original back into what the previous code stored: the bytes as they arrived
 * under the key without `.br`, every activity pointing at it, and no compressed object.
 */
async function seedUncompressed(compressedKey: string, bytes: Uint8Array, contentType: string): Promise<string> {
  const oldKey = logicalKey(compressedKey);
  expect(oldKey).not.toBe(compressedKey);
  await store.put(oldKey, bytes, { contentType });
  await t.database.db.update(activities).set({ sourceArchiveKey: oldKey }).where(eq(activities.sourceArchiveKey, compressedKey));
  await store.delete([compressedKey]);
  return oldKey;
}

/** The outbox emptied by this server's drain (entries of other servers' stores are handed back to them). */
async function drainUntilGone(keys: string[]): Promise<void> {
  const drain = t.app.get(StreamsService).drain;
  for (let attempt = 0; attempt < 50; attempt++) {
    await drain.drainAll();
    const present = await Promise.all(keys.map((key) => store.stat(key)));
    if (present.every((info) => info === undefined)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`still in the store: ${keys.join(', ')}`);
}

describe('archived originals are stored compressed', () => {
  it('stores an imported file compressed under the sha256 of its own bytes, answers the identical bytes, and skips it the second time', async () => {
    const user = await signUp(t);
    const bytes = readFileSync(join(CORPUS, FIT_NAME));
    const first = await upload(t, user, [{ name: FIT_NAME, bytes }]).expect(200);
    const [id] = first.body.files[0].activityIds as string[];
    const key = `raw/athlete_id=${user.athleteId}/source=file/${sha256(bytes)}.fit.br`;
    expect(await keysOf(user)).toEqual([key]);
    expect((await store.stat(key))!.size).toBeLessThan(bytes.byteLength);

    const original = await getOriginal(user, id!).expect(200);
    expect(sha256(original.body as Buffer)).toBe(sha256(bytes));
    expect(original.headers['content-type']).toBe('application/vnd.ant.fit');
    expect(Number(original.headers['content-length'])).toBe(bytes.byteLength);
    expect(original.headers['content-disposition']).toBe(`attachment; filename="${id}.fit"`);
    expect(original.headers['x-archive-key']).toBe(key);

    const again = await upload(t, user, [{ name: 'again.fit', bytes }]).expect(200);
    expect(again.body.files[0]).toMatchObject({ status: 'skipped', existingIds: [id] });
    expect(await keysOf(user)).toEqual([key]);
  });

  it('stores a sync body compressed, and a synced item’s original is still its exact bytes', async () => {
    const user = await signUp(t);
    // Spacing a JSON round trip would not keep.
    const item = JSON.stringify(healthKitRun('C5B0E0E2-8F4B-4C43-9D4A-00000000b001'), null, 1);
    const body = `{"activities":[${item}],  "cursor":"a-1"}`;
    const res = await postBatch(user, 'healthkit', body).expect(200);
    const key = `raw/athlete_id=${user.athleteId}/source=healthkit/${sha256(new TextEncoder().encode(body))}.json.br`;
    expect(res.body.archiveKey).toBe(key);
    expect(await keysOf(user)).toEqual([key]);
    const original = await getOriginal(user, res.body.results[0].id).expect(200);
    expect((original.body as Buffer).toString('utf8')).toBe(item);
    expect(original.headers['x-archive-key']).toBe(key);
  });
});

describe('staged uploads of import jobs', () => {
  it('are staged compressed unless they are a zip or gzip already, as the job row records', async () => {
    // No worker runs jobs in this app (IMPORT_WORKERS 0): the staged objects stay.
    const user = await signUp(t);
    const fit = readFileSync(join(CORPUS, FIT_NAME));
    const zipped = zip({ 'walk.fit': fit });
    const accepted = await upload(t, user, [{ name: FIT_NAME, bytes: fit }, { name: 'walk.zip', bytes: zipped }], '?async=true').expect(202);
    const [job] = await t.database.db.select({ stagedFiles: importJobs.stagedFiles }).from(importJobs).where(eq(importJobs.id, accepted.body.id));
    const [fitStaged, zipStaged] = job!.stagedFiles;
    expect(fitStaged).toMatchObject({ name: FIT_NAME, size: fit.byteLength, encoding: 'br' });
    expect(Buffer.from(brotliDecompressSync(await store.get(fitStaged!.key))).equals(fit)).toBe(true);
    expect((await store.stat(fitStaged!.key))!.size).toBeLessThan(fit.byteLength);
    expect(zipStaged).toEqual({ name: 'walk.zip', key: expect.any(String), size: zipped.byteLength });
    expect(Buffer.from(await store.get(zipStaged!.key)).equals(Buffer.from(zipped))).toBe(true);
  });
});

describe('the migration of originals archived uncompressed', () => {
  it('compresses them behind the activities’ backs, readable at every step; a second run changes nothing', async () => {
    const user = await signUp(t);
    const fit = readFileSync(join(CORPUS, FIT_NAME));
    const imported = await upload(t, user, [{ name: FIT_NAME, bytes: fit }]).expect(200);
    const [fileActivity] = imported.body.files[0].activityIds as string[];
    const body = `{"activities":[${JSON.stringify(healthKitRun('C5B0E0E2-8F4B-4C43-9D4A-00000000b002'))}],"cursor":"m-1"}`;
    const synced = await postBatch(user, 'healthkit', body).expect(200);
    const syncActivity = synced.body.results[0].id as string;
    const bodyBytes = new TextEncoder().encode(body);

    const fileOld = await seedUncompressed(`raw/athlete_id=${user.athleteId}/source=file/${sha256(fit)}.fit.br`, fit, 'application/vnd.ant.fit');
    const syncOld = await seedUncompressed(synced.body.archiveKey, bodyBytes, 'application/json');
    expect(await keysOf(user)).toEqual([fileOld, syncOld].sort());
    // The previous layout is read as it is.
    expect(sha256((await getOriginal(user, fileActivity!).expect(200)).body as Buffer)).toBe(sha256(fit));
    expect((await getOriginal(user, syncActivity).expect(200)).body.toString('utf8')).toBe(JSON.stringify(healthKitRun('C5B0E0E2-8F4B-4C43-9D4A-00000000b002')));

    // A crash right after the compressed object was written: the old pointer still reads.
    const fileNew = `${fileOld}.br`;
    await store.put(fileNew, await encodeOriginal(fit), { contentType: 'application/octet-stream' });
    expect(sha256((await getOriginal(user, fileActivity!).expect(200)).body as Buffer)).toBe(sha256(fit));

    const report = await compressOriginals(originals, store, { apply: true });
    expect(report.skipped.keys.map((s) => s.key)).not.toEqual(expect.arrayContaining([fileOld, syncOld]));
    expect(report.compressed).toBeGreaterThanOrEqual(2);
    expect((await pointers(user)).sort()).toEqual([fileNew, `${syncOld}.br`].sort());
    const queued = await t.database.db
      .select({ key: streamObjectDeletions.objectKey, reason: streamObjectDeletions.reason })
      .from(streamObjectDeletions)
      .where(inArray(streamObjectDeletions.objectKey, [fileOld, syncOld]));
    expect(queued.sort((a, b) => a.key.localeCompare(b.key))).toEqual([fileOld, syncOld].sort().map((key) => ({ key, reason: 'superseded' })));
    // Until the drain removes the old objects, and after, the originals answer the same bytes.
    expect(sha256((await getOriginal(user, fileActivity!).expect(200)).body as Buffer)).toBe(sha256(fit));
    await drainUntilGone([fileOld, syncOld]);

    expect(await keysOf(user)).toEqual([fileNew, `${syncOld}.br`].sort());
    expect((await store.stat(fileNew))!.size).toBeLessThan(fit.byteLength);
    expect((await store.stat(`${syncOld}.br`))!.size).toBeLessThan(bodyBytes.byteLength);
    const file = await getOriginal(user, fileActivity!).expect(200);
    expect(sha256(file.body as Buffer)).toBe(sha256(fit));
    expect(file.headers['content-type']).toBe('application/vnd.ant.fit');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="${fileActivity}.fit"`);
    expect((await getOriginal(user, syncActivity).expect(200)).body.toString('utf8')).toBe(JSON.stringify(healthKitRun('C5B0E0E2-8F4B-4C43-9D4A-00000000b002')));
    // The file is still the same content: importing it again is skipped.
    expect((await upload(t, user, [{ name: 'again.fit', bytes: fit }]).expect(200)).body.files[0].status).toBe('skipped');

    const modified = new Map<string, number>();
    for await (const object of store.list(`raw/athlete_id=${user.athleteId}/`)) modified.set(object.key, object.lastModified!.getTime());
    const second = await compressOriginals(originals, store, { apply: true });
    expect(second.compressed).toBe(0);
    expect((await pointers(user)).sort()).toEqual([fileNew, `${syncOld}.br`].sort());
    const after = new Map<string, number>();
    for await (const object of store.list(`raw/athlete_id=${user.athleteId}/`)) after.set(object.key, object.lastModified!.getTime());
    expect(after).toEqual(modified);
  });

  it('runs at boot, in the background, on a server on the same database and store', async () => {
    const user = await signUp(t);
    const fit = readFileSync(join(CORPUS, FIT_NAME));
    const imported = await upload(t, user, [{ name: FIT_NAME, bytes: fit }]).expect(200);
    const [id] = imported.body.files[0].activityIds as string[];
    const oldKey = await seedUncompressed(`raw/athlete_id=${user.athleteId}/source=file/${sha256(fit)}.fit.br`, fit, 'application/vnd.ant.fit');
    // A second server on the same database and store (a replica, or this one after a restart).
    const replica = await createApp(t.env, { database: t.database });
    try {
      for (let attempt = 0; (await pointers(user))[0] !== `${oldKey}.br`; attempt++) {
        if (attempt >= 100) throw new Error('the boot task did not switch the activity to the compressed original');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await drainUntilGone([oldKey]);
      expect(await keysOf(user)).toEqual([`${oldKey}.br`]);
      expect(sha256((await getOriginal(user, id!).expect(200)).body as Buffer)).toBe(sha256(fit));
    } finally {
      await replica.close();
    }
  });

  it('leaves an original whose bytes are not what its key names as it is', async () => {
    const user = await signUp(t);
    const fit = readFileSync(join(CORPUS, FIT_NAME));
    const imported = await upload(t, user, [{ name: FIT_NAME, bytes: fit }]).expect(200);
    const [id] = imported.body.files[0].activityIds as string[];
    const oldKey = await seedUncompressed(`raw/athlete_id=${user.athleteId}/source=file/${sha256(fit)}.fit.br`, fit.subarray(0, 100), 'application/vnd.ant.fit');
    const report = await compressOriginals(originals, store, { apply: true });
    expect(report.skipped.keys).toContainEqual({ key: oldKey, reason: expect.stringMatching(/is not the one its key names/) });
    expect(await pointers(user)).toEqual([oldKey]);
    expect(await keysOf(user)).toEqual([oldKey]);
    expect((await getOriginal(user, id!).expect(200)).body.byteLength).toBe(100);
  });

  it('is counted by a dry sweep and done by the sweep with apply, which also compresses a body no activity points at', async () => {
    const user = await signUp(t);
    // A batch of ignored items only is still archived (with a cursor), and no activity points at it.
    const ignoredBody = JSON.stringify({ dailies: [garminDaily('sweep-1')], cursor: 'c-1' });
    const ignored = await postBatch(user, 'garmin', ignoredBody).expect(200);
    expect(ignored.body).toMatchObject({ created: 0, ignored: 1 });
    const bodyBytes = new TextEncoder().encode(ignoredBody);
    const oldKey = logicalKey(ignored.body.archiveKey as string);
    await store.put(oldKey, bodyBytes, { contentType: 'application/json' });
    await store.delete([ignored.body.archiveKey as string]);

    const repository = new StreamsRepository(t.database.db);
    const dry = await sweepStreams(repository, store, { apply: false, graceMs: 0, originals });
    expect(dry.originals.unreferenced).toBeGreaterThanOrEqual(1);
    expect(await keysOf(user)).toEqual([oldKey]);

    const applied = await sweepStreams(repository, store, { apply: true, graceMs: 0, originals, drain: t.app.get(StreamsService).drain });
    expect(applied.originals.unreferenced).toBeGreaterThanOrEqual(1);
    await drainUntilGone([oldKey]);
    expect(await keysOf(user)).toEqual([`${oldKey}.br`]);
    const again = await sweepStreams(repository, store, { apply: true, graceMs: 0, originals });
    expect(again.originals.unreferenced).toBe(0);
    expect(await keysOf(user)).toEqual([`${oldKey}.br`]);
  });
});
