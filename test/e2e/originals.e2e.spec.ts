/**
 * Every archived original of an athlete (docs/data-model.md, "Originals"): imported files, rejected
 * ones too (archived, listed with the reason, counted in storage), and sync batch bodies; listed at
 * GET /athletes/{id}/originals and answered byte for byte at GET /athletes/{id}/originals/{sha256}.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { originals, streamObjectDeletions } from '../../src/database/schema/index.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { asBytes, signUp, type SignedUpUser } from '../factories/api.js';
import { gpxDocument, trackPoints, upload, utf8, zip } from '../factories/imports.js';
import { healthKitRun } from '../fixtures/sync-payloads.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let t: TestApp;
let store: ObjectStore;

beforeAll(async () => {
  t = await createTestApp();
  store = createObjectStore(t.env);
});
afterAll(async () => {
  await store.close?.();
  await t.close();
});

const list = (user: SignedUpUser, query = '', athleteId = user.athleteId) => t.http().get(`/api/v1/athletes/${athleteId}/originals${query}`).set(user.auth);
const bytesOf = (user: SignedUpUser, sha: string, athleteId = user.athleteId) =>
  t.http().get(`/api/v1/athletes/${athleteId}/originals/${sha}`).set(user.auth).buffer(true).parse(asBytes);

interface ListedOriginal {
  sha256: string;
  source: string;
  fileName: string | null;
  format: string | null;
  byteSize: number | null;
  storedByteSize: number | null;
  status: string;
  reason: string | null;
  activityIds: string[];
}

describe('originals', () => {
  it('archives and lists imported and rejected files, answers their exact bytes, and counts them in storage', async () => {
    const user = await signUp(t);
    const good = utf8(gpxDocument(new Date('2026-04-02T07:00:00Z'), trackPoints(30)));
    const broken = utf8('<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="oops"');
    const empty = utf8(gpxDocument(new Date('2026-04-03T07:00:00Z'), []));
    const imported = await upload(t, user, [
      { name: 'run.gpx', bytes: good },
      { name: 'bundle.zip', bytes: zip({ 'broken.gpx': broken, 'nothing.gpx': empty }) },
    ]).expect(200);
    const files = imported.body.files as { fileName: string; status: string; activityIds: string[]; reason: string | null }[];
    expect(files.map((f) => [f.fileName, f.status])).toEqual([
      ['run.gpx', 'created'],
      ['bundle.zip/broken.gpx', 'rejected'],
      ['bundle.zip/nothing.gpx', 'rejected'],
    ]);

    const all = await list(user).expect(200);
    const items = all.body.items as ListedOriginal[];
    expect(items).toHaveLength(3);
    const bySha = new Map(items.map((item) => [item.sha256, item]));
    expect(bySha.get(sha256(good))).toMatchObject({
      source: 'file',
      fileName: 'run.gpx',
      format: 'gpx',
      byteSize: good.byteLength,
      status: 'imported',
      reason: null,
      activityIds: files[0]!.activityIds,
    });
    expect(bySha.get(sha256(broken))).toMatchObject({ fileName: 'bundle.zip/broken.gpx', status: 'rejected', reason: files[1]!.reason, activityIds: [], byteSize: broken.byteLength });
    expect(bySha.get(sha256(empty))).toMatchObject({ status: 'rejected', reason: files[2]!.reason, format: null, activityIds: [] });
    for (const item of items) expect(item.storedByteSize).toBeGreaterThan(0);
    expect(all.body.totals).toEqual({
      count: 3,
      byteSize: good.byteLength + broken.byteLength + empty.byteLength,
      storedByteSize: items.reduce((n, item) => n + item.storedByteSize!, 0),
    });

    // The bytes as received, rejected or not.
    for (const original of [good, broken, empty]) {
      const response = await bytesOf(user, sha256(original)).expect(200);
      expect(sha256(new Uint8Array(response.body as Buffer))).toBe(sha256(original));
      expect(response.headers['x-original-sha256']).toBe(sha256(original));
    }
    expect((await bytesOf(user, sha256(broken))).headers['content-disposition']).toBe('attachment; filename="broken.gpx"');

    const rejectedOnly = await list(user, '?status=rejected').expect(200);
    expect((rejectedOnly.body.items as ListedOriginal[]).map((item) => item.sha256).sort()).toEqual([sha256(broken), sha256(empty)].sort());
    expect(rejectedOnly.body.totals.count).toBe(2);
    expect((await list(user, '?status=imported').expect(200)).body.items.map((item: ListedOriginal) => item.sha256)).toEqual([sha256(good)]);
  });

  it('keeps one original per content: a rejected file sent again stays one row, and nothing queues its object for removal', async () => {
    const user = await signUp(t);
    const broken = utf8('<gpx version="1.1"><trk><trkseg><trkpt lat="1" lon="2"><time>not a time</time></trkpt></trkseg></trk></gpx>');
    await upload(t, user, [{ name: 'a.gpx', bytes: broken }]).expect(200);
    await upload(t, user, [{ name: 'again.gpx', bytes: broken }]).expect(200);
    const rows = await t.database.db.select().from(originals).where(eq(originals.athleteId, user.athleteId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ fileName: 'a.gpx', status: 'rejected' });
    expect(await store.stat(rows[0]!.objectKey)).toBeDefined();
    expect(await t.database.db.select().from(streamObjectDeletions).where(eq(streamObjectDeletions.objectKey, rows[0]!.objectKey))).toEqual([]);
  });

  it('a rejected original that imports later becomes imported, with its activities', async () => {
    const user = await signUp(t);
    const bytes = utf8(gpxDocument(new Date('2026-04-05T07:00:00Z'), trackPoints(20)));
    const sha = sha256(bytes);
    // As a parser that rejected the file would have left it.
    await t.database.db.insert(originals).values({
      athleteId: user.athleteId,
      sha256: sha,
      source: 'file',
      objectKey: `raw/athlete_id=${user.athleteId}/source=file/${sha}.gpx.br`,
      fileName: 'old.gpx',
      format: null,
      byteSize: bytes.byteLength,
      storedByteSize: 1,
      status: 'rejected',
      reason: 'an old parser could not read it',
    });
    const imported = await upload(t, user, [{ name: 'new-name.gpx', bytes }]).expect(200);
    const [row] = await t.database.db.select().from(originals).where(and(eq(originals.athleteId, user.athleteId), eq(originals.sha256, sha)));
    expect(row).toMatchObject({ status: 'imported', reason: null, fileName: 'old.gpx', format: 'gpx' });
    const listed = (await list(user).expect(200)).body.items as ListedOriginal[];
    expect(listed).toEqual([expect.objectContaining({ sha256: sha, status: 'imported', activityIds: imported.body.files[0].activityIds })]);
  });

  it('lists sync batch bodies with their activities and answers the body byte for byte', async () => {
    const user = await signUp(t);
    const body = JSON.stringify({ activities: [healthKitRun()] });
    const batch = await t
      .http()
      .post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`)
      .set(user.auth)
      .set('content-type', 'application/json')
      .send(body)
      .expect(200);
    const listed = (await list(user).expect(200)).body.items as ListedOriginal[];
    expect(listed).toEqual([
      expect.objectContaining({ sha256: sha256(utf8(body)), source: 'healthkit', format: 'json', status: 'imported', byteSize: utf8(body).byteLength, activityIds: [batch.body.results[0].id] }),
    ]);
    const response = await bytesOf(user, sha256(utf8(body))).expect(200);
    expect((response.body as Buffer).toString('utf8')).toBe(body);
    // The same body again is the same original.
    await t.http().post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`).set(user.auth).set('content-type', 'application/json').send(body).expect(200);
    expect((await list(user).expect(200)).body.items).toHaveLength(1);
  });

  it('lists the originals archived before the list existed: the migration’s backfill, from the activities pointing at them', async () => {
    const user = await signUp(t);
    const bytes = utf8(gpxDocument(new Date('2026-04-09T07:00:00Z'), trackPoints(20)));
    const imported = await upload(t, user, [{ name: 'before.gpx', bytes }]).expect(200);
    const body = JSON.stringify({ activities: [healthKitRun('E5B0E0E2-8F4B-4C43-9D4A-6E7F3E2B1A03')] });
    await t.http().post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`).set(user.auth).set('content-type', 'application/json').send(body).expect(200);
    const listed = await t.database.db.select().from(originals).where(eq(originals.athleteId, user.athleteId));
    // As before the migration: no rows.
    await t.database.db.delete(originals).where(eq(originals.athleteId, user.athleteId));
    const migration = readFileSync(join(process.cwd(), 'src/database/migrations/0008_originals-exports.sql'), 'utf8');
    const backfill = /-- hand-written: begin([^]*)-- hand-written: end/.exec(migration)![1]!;
    await t.database.db.execute(sql.raw(backfill));
    const rows = await t.database.db.select().from(originals).where(eq(originals.athleteId, user.athleteId));
    const pick = (row: (typeof rows)[number]) => [row.sha256, row.source, row.objectKey, row.format, row.status];
    expect(rows.map(pick).sort()).toEqual(listed.map(pick).sort());
    expect(rows.every((row) => row.fileName === null && row.byteSize === null)).toBe(true);
    const items = (await list(user).expect(200)).body.items as ListedOriginal[];
    expect(items.find((item) => item.sha256 === sha256(bytes))!.activityIds).toEqual(imported.body.files[0].activityIds);
  });

  it('pages newest first with a cursor, and refuses a cursor it did not hand out', async () => {
    const user = await signUp(t);
    const docs = [0, 1, 2].map((i) => utf8(`<gpx version="1.1"><trk><trkseg><trkpt lat="x${i}"/></trkseg></trk></gpx>`));
    for (const [i, doc] of docs.entries()) await upload(t, user, [{ name: `bad-${i}.gpx`, bytes: doc }]).expect(200);
    const first = await list(user, '?limit=2').expect(200);
    expect(first.body.items.map((item: ListedOriginal) => item.fileName)).toEqual(['bad-2.gpx', 'bad-1.gpx']);
    const second = await list(user, `?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.items.map((item: ListedOriginal) => item.fileName)).toEqual(['bad-0.gpx']);
    expect(second.body.nextCursor).toBeNull();
    const bad = await list(user, '?cursor=bm90LWEtY3Vyc29y').expect(400);
    expect(bad.body.code).toBe('BAD_REQUEST');
    await list(user, '?status=lost').expect(422);
  });

  it('answers 404 for another user’s athlete or original (BOLA), an unknown sha256, and 400 for a malformed one', async () => {
    const owner = await signUp(t);
    const other = await signUp(t);
    const bytes = utf8('<gpx version="1.1"><trk><trkseg><trkpt lat="nope"/></trkseg></trk></gpx>');
    await upload(t, owner, [{ name: 'mine.gpx', bytes }]).expect(200);
    expect((await list(other, '', owner.athleteId).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await bytesOf(other, sha256(bytes), owner.athleteId).expect(404)).body).toBeDefined();
    // Not even through the other user's own athlete.
    await bytesOf(other, sha256(bytes), other.athleteId).expect(404);
    await bytesOf(owner, 'f'.repeat(64)).expect(404);
    await bytesOf(owner, 'NOT-A-HASH').expect(400);
    await t.http().get(`/api/v1/athletes/${owner.athleteId}/originals`).expect(401);
  });
});
