/**
 * An athlete's export (README "Your originals, reprocessing and export"): a job writes one zip —
 * manifest.json with every entry's SHA-256, activities.ndjson, streams/ (the current Parquet
 * objects), gpx/ and originals/ (rejected files and sync bodies too) — downloadable for 7 days.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { unzipSync, zipSync } from 'fflate';
import { eq } from 'drizzle-orm';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { exportJobs } from '../../src/database/schema/index.js';
import { ExportsService } from '../../src/modules/exports/exports.service.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { asBytes, signUp, type SignedUpUser } from '../factories/api.js';
import { upload, utf8 } from '../factories/imports.js';
import { healthKitRun } from '../fixtures/sync-payloads.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let t: TestApp;
let store: ObjectStore;

beforeAll(async () => {
  t = await createTestApp({ IMPORT_WORKERS: '1' });
  store = createObjectStore(t.env);
});
afterAll(async () => {
  await store.close?.();
  await t.close();
});

async function exported(user: SignedUpUser): Promise<{ job: Record<string, unknown>; files: Record<string, Uint8Array>; zip: Uint8Array }> {
  const accepted = await t.http().post(`/api/v1/athletes/${user.athleteId}/exports`).set(user.auth).expect(202);
  expect(accepted.body).toMatchObject({ athleteId: user.athleteId, status: 'queued', byteSize: null });
  const jobId = accepted.body.id as string;
  let job: Record<string, unknown> = accepted.body;
  for (let i = 0; i < 240 && job.status !== 'completed' && job.status !== 'failed'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    job = (await t.http().get(`/api/v1/exports/${jobId}`).set(user.auth).expect(200)).body;
  }
  expect(job.status).toBe('completed');
  const download = await t.http().get(`/api/v1/exports/${jobId}/download`).set(user.auth).buffer(true).parse(asBytes).expect(200);
  expect(download.headers['content-type']).toMatch(/application\/zip/);
  const zip = new Uint8Array(download.body as Buffer);
  return { job, files: unzipSync(zip), zip };
}

describe('exports', () => {
  it('writes every activity, stream, track and original into one zip whose manifest checksums verify', async () => {
    const user = await signUp(t);
    const fit = fitActivityFixture({
      sport: 'running',
      startTime: new Date(Date.UTC(2025, 4, 3, 7)),
      seconds: 300,
      channels: { heartRate: true, position: true, altitude: true, cadence: true },
    }).bytes;
    const broken = utf8('<gpx version="1.1"><trk><trkseg><trkpt lat="nope"/></trkseg></trk></gpx>');
    const imported = await upload(t, user, [
      { name: 'run.fit', bytes: fit },
      { name: 'broken.gpx', bytes: broken },
    ]).expect(200);
    const runId = imported.body.files[0].activityIds[0] as string;
    const body = JSON.stringify({ activities: [healthKitRun()] });
    await t.http().post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`).set(user.auth).set('content-type', 'application/json').send(body).expect(200);

    const { job, files, zip } = await exported(user);
    expect(job).toMatchObject({ byteSize: zip.byteLength, sha256: sha256(zip), counts: { activities: 2, originals: 3, gpx: 2 } });
    expect(new Date(job.expiresAt as string).getTime() - new Date(job.finishedAt as string).getTime()).toBe(7 * 24 * 3600 * 1000);

    const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json'])) as {
      formatVersion: number;
      athlete: { id: string };
      counts: Record<string, number>;
      entries: { path: string; byteSize: number; sha256: string }[];
      streams: { activityId: string; streamType: string; path: string; checksumSha256: string }[];
      originals: { path: string; sha256: string; fileName: string | null; status: string }[];
    };
    expect(manifest).toMatchObject({ formatVersion: 1, athlete: { id: user.athleteId }, counts: job.counts });
    // Every entry but the manifest is listed with its checksum, and every checksum verifies.
    expect(manifest.entries.map((e) => e.path).sort()).toEqual(Object.keys(files).filter((path) => path !== 'manifest.json').sort());
    for (const entry of manifest.entries) {
      expect({ path: entry.path, sha256: sha256(files[entry.path]!), byteSize: files[entry.path]!.byteLength }).toEqual({ path: entry.path, sha256: entry.sha256, byteSize: entry.byteSize });
    }

    // activities.ndjson: each activity as GET /activities/{id} answers it.
    const lines = new TextDecoder().decode(files['activities.ndjson']).trim().split('\n').map((line) => JSON.parse(line) as { id: string });
    expect(lines).toHaveLength(2);
    const detail = (await t.http().get(`/api/v1/activities/${runId}`).set(user.auth).expect(200)).body;
    expect(lines.find((line) => line.id === runId)).toEqual(detail);

    // streams/: the stored Parquet objects byte for byte (their checksum is the stream metadata's).
    const metadata = (await t.http().get(`/api/v1/activities/${runId}/streams`).set(user.auth).expect(200)).body.items as { streamType: string; checksumSha256: string }[];
    expect(manifest.streams.filter((s) => s.activityId === runId).map((s) => [s.streamType, s.checksumSha256]).sort()).toEqual(metadata.map((m) => [m.streamType, m.checksumSha256]).sort());
    for (const stream of manifest.streams) {
      expect(stream.path).toMatch(new RegExp(`^streams/athlete_id=${user.athleteId}/activity_id=${stream.activityId}/stream_type=${stream.streamType}/`));
      expect(sha256(files[stream.path]!)).toBe(stream.checksumSha256);
    }

    // originals/: the imported file, the rejected one and the sync body, exact bytes, named in the manifest.
    expect(manifest.originals.map((o) => [o.sha256, o.fileName, o.status]).sort()).toEqual(
      [
        [sha256(fit), 'run.fit', 'imported'],
        [sha256(broken), 'broken.gpx', 'rejected'],
        [sha256(utf8(body)), null, 'imported'],
      ].sort(),
    );
    for (const original of manifest.originals) expect(sha256(files[original.path]!)).toBe(original.sha256);

    // gpx/: GPX 1.1 with the TrackPointExtension, one point per position sample (the HealthKit run has a route too).
    const gpx = new TextDecoder().decode(files[`gpx/${runId}.gpx`]);
    expect(gpx).toContain('<gpx version="1.1"');
    expect(gpx).toContain('xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"');
    const position = metadata.find((m) => m.streamType === 'position') as { sampleCount?: number } | undefined;
    expect(position?.sampleCount).toBeGreaterThan(0);
    expect(gpx.match(/<trkpt /g)).toHaveLength(position!.sampleCount!);
    expect(gpx).toMatch(/<gpxtpx:hr>\d+<\/gpxtpx:hr><gpxtpx:cad>\d+<\/gpxtpx:cad>/);

    // The same track for one activity: GET /activities/{id}/gpx answers the export's entry, byte for byte.
    const single = await t.http().get(`/api/v1/activities/${runId}/gpx`).set(user.auth).buffer(true).parse(asBytes).expect(200);
    expect(single.headers['content-type']).toMatch(/^application\/gpx\+xml/);
    expect(single.headers['content-disposition']).toBe(`attachment; filename="${runId}.gpx"`);
    expect(new TextDecoder().decode(single.body as Buffer)).toBe(gpx);
  });

  it('GET /activities/{id}/gpx: 404 for an activity without a position stream, and for another user’s activity', async () => {
    const user = await signUp(t);
    const stranger = await signUp(t);
    const fit = (channels: Parameters<typeof fitActivityFixture>[0]['channels']) =>
      fitActivityFixture({ sport: 'running', startTime: new Date(Date.UTC(2025, 4, 9, 7)), seconds: 120, channels }).bytes;
    const withTrack = (await upload(t, user, [{ name: 'track.fit', bytes: fit({ heartRate: true, position: true }) }]).expect(200)).body.files[0].activityIds[0] as string;
    const indoor = (await upload(t, stranger, [{ name: 'indoor.fit', bytes: fit({ heartRate: true }) }]).expect(200)).body.files[0].activityIds[0] as string;
    expect((await t.http().get(`/api/v1/activities/${indoor}/gpx`).set(stranger.auth).expect(404)).body).toEqual({ code: 'NOT_FOUND', message: expect.stringMatching(/position/) });
    expect((await t.http().get(`/api/v1/activities/${withTrack}/gpx`).set(stranger.auth).expect(404)).body.code).toBe('NOT_FOUND');
    await t.http().get(`/api/v1/activities/${withTrack}/gpx`).set(user.auth).expect(200);
  });

  it('round trip: the zip imported into an empty athlete reproduces activities, streams bit-exact and originals; a truncated or tampered zip is refused with the reason', async () => {
    const source = await signUp(t);
    const fit = fitActivityFixture({ sport: 'cycling', startTime: new Date(Date.UTC(2025, 5, 3, 7)), seconds: 240, channels: { heartRate: true, position: true, power: true, cadence: true } }).bytes;
    await upload(t, source, [
      { name: 'ride.fit', bytes: fit },
      { name: 'bad.gpx', bytes: utf8('<gpx version="1.1"><trk><trkseg><trkpt lat="x"/></trkseg></trk></gpx>') },
    ]).expect(200);
    const body = JSON.stringify({ activities: [healthKitRun('D5B0E0E2-8F4B-4C43-9D4A-6E7F3E2B1A02', '2025-06-04T06:00:00.000+02:00')] });
    await t.http().post(`/api/v1/athletes/${source.athleteId}/sync/healthkit/batches`).set(source.auth).set('content-type', 'application/json').send(body).expect(200);
    const { zip, files } = await exported(source);

    const target = await signUp(t);
    // Refused whole, with the reason, and nothing written: cut off, and one entry changed after the export.
    const truncated = await upload(t, target, [{ name: 'export.zip', bytes: zip.slice(0, Math.floor(zip.byteLength * 0.7)) }]).expect(200);
    expect(truncated.body.files[0]).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/truncated or damaged/) });
    const changed = { ...files, 'activities.ndjson': utf8(new TextDecoder().decode(files['activities.ndjson']).replace('"cycling"', '"running"')) };
    const tampered = await upload(t, target, [{ name: 'export.zip', bytes: zipSync(changed) }]).expect(200);
    expect(tampered.body.files[0]).toMatchObject({ status: 'rejected', reason: 'activities.ndjson does not match the SHA-256 in manifest.json (changed after the export); nothing was imported' });
    expect((await t.http().get(`/api/v1/activities?athleteId=${target.athleteId}`).set(target.auth).expect(200)).body.items).toEqual([]);
    expect((await t.http().get(`/api/v1/athletes/${target.athleteId}/originals`).set(target.auth).expect(200)).body.items).toEqual([]);

    const restored = await upload(t, target, [{ name: 'export.zip', bytes: zip }]).expect(200);
    expect(restored.body.files[0]).toMatchObject({ status: 'created', reason: null });

    const all = async (user: SignedUpUser) => {
      const list = (await t.http().get(`/api/v1/activities?athleteId=${user.athleteId}&includeDuplicates=true&limit=200`).set(user.auth).expect(200)).body.items as { id: string }[];
      const details = await Promise.all(list.map(async (item) => (await t.http().get(`/api/v1/activities/${item.id}`).set(user.auth).expect(200)).body as Record<string, unknown>));
      return details.sort((a, b) => String(a.startTime).localeCompare(String(b.startTime)));
    };
    const volatile = new Set(['id', 'athleteId', 'parentId', 'createdAt', 'updatedAt', 'activityId', 'duplicateOf', 'primaryId']);
    const strip = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(strip) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([key]) => !volatile.has(key)).map(([key, v]) => [key, strip(v)])) : value;
    const before = await all(source);
    const after = await all(target);
    expect(after).toHaveLength(before.length);
    // The archive keys name the athlete: the same originals, under the new athlete's prefix.
    const rekey = (details: unknown, athleteId: string) => JSON.parse(JSON.stringify(strip(details)).replaceAll(`athlete_id=${athleteId}/`, 'athlete_id=…/')) as unknown;
    expect(rekey(after, target.athleteId)).toEqual(rekey(before, source.athleteId));

    // Streams bit-exact: the same Parquet checksums and the same samples.
    for (const [index, activity] of before.entries()) {
      const streams = activity.streams as { streamType: string; checksumSha256: string }[];
      expect((after[index]!.streams as { checksumSha256: string }[]).map((s) => s.checksumSha256)).toEqual(streams.map((s) => s.checksumSha256));
      for (const stream of streams) {
        const a = (await t.http().get(`/api/v1/activities/${activity.id as string}/streams/${stream.streamType}`).set(source.auth).expect(200)).body;
        const b = (await t.http().get(`/api/v1/activities/${after[index]!.id as string}/streams/${stream.streamType}`).set(target.auth).expect(200)).body;
        expect(b).toEqual(a);
      }
    }
    const originalsOf = async (user: SignedUpUser) =>
      ((await t.http().get(`/api/v1/athletes/${user.athleteId}/originals`).set(user.auth).expect(200)).body.items as Record<string, unknown>[])
        .map(({ sha256, source: from, fileName, format, byteSize, status, reason, activityIds }) => ({ sha256, from, fileName, format, byteSize, status, reason, activities: (activityIds as string[]).length }))
        .sort((a, b) => String(a.sha256).localeCompare(String(b.sha256)));
    expect(await originalsOf(target)).toEqual(await originalsOf(source));
    const fitOriginal = await t.http().get(`/api/v1/athletes/${target.athleteId}/originals/${sha256(fit)}`).set(target.auth).buffer(true).parse(asBytes).expect(200);
    expect(sha256(new Uint8Array(fitOriginal.body as Buffer))).toBe(sha256(fit));

    // Imported again: every activity is there already.
    const again = await upload(t, target, [{ name: 'export.zip', bytes: zip }]).expect(200);
    expect(again.body.files[0]).toMatchObject({ status: 'skipped', activityIds: [] });
  });

  it('removes a zip once it expired (download 404, the row stays) and the zip of a deleted athlete', async () => {
    const user = await signUp(t);
    const { job } = await exported(user);
    const [row] = await t.database.db.select().from(exportJobs).where(eq(exportJobs.id, job.id as string));
    expect(await store.stat(row!.objectKey!)).toBeDefined();
    await t.database.db.update(exportJobs).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(exportJobs.id, row!.id));
    await t.app.get(ExportsService).removeExpired();
    expect(await store.stat(row!.objectKey!)).toBeUndefined();
    const gone = await t.http().get(`/api/v1/exports/${row!.id}/download`).set(user.auth).expect(404);
    expect(gone.body.message).toMatch(/expired/);
    expect((await t.http().get(`/api/v1/exports/${row!.id}`).set(user.auth).expect(200)).body.status).toBe('completed');

    const leaving = await signUp(t);
    const second = await exported(leaving);
    const [secondRow] = await t.database.db.select().from(exportJobs).where(eq(exportJobs.id, second.job.id as string));
    await t.http().delete(`/api/v1/athletes/${leaving.athleteId}`).set(leaving.auth).expect(204);
    await t.app.get(ExportsService).removeExpired();
    expect(await store.stat(secondRow!.objectKey!)).toBeUndefined();
  });

  it('answers 404 for another user’s athlete and job (BOLA), and 409 for a download before the zip is written', async () => {
    const owner = await signUp(t);
    const stranger = await signUp(t);
    expect((await t.http().post(`/api/v1/athletes/${owner.athleteId}/exports`).set(stranger.auth).expect(404)).body.code).toBe('NOT_FOUND');
    const { job } = await exported(owner);
    await t.http().get(`/api/v1/exports/${job.id as string}`).set(stranger.auth).expect(404);
    await t.http().get(`/api/v1/exports/${job.id as string}/download`).set(stranger.auth).expect(404);

    const [queued] = await t.database.db.insert(exportJobs).values({ athleteId: owner.athleteId, userId: owner.userId }).returning();
    const early = await t.http().get(`/api/v1/exports/${queued!.id}/download`).set(owner.auth).expect(409);
    expect(early.body).toMatchObject({ code: 'CONFLICT' });
    await t.database.db.delete(exportJobs).where(eq(exportJobs.id, queued!.id));
  });
});
