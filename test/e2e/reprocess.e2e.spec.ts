/**
 * Reprocess (README "Reprocess"): every activity derived again from its archived original with
 * today's parsers and mappers. "Today's code" is changed through the one injection point for that,
 * MappingTweaks (createApp's `mappingTweaks`), never by touching the database.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { and, count, eq, inArray } from 'drizzle-orm';
import type { ReprocessJob, ReprocessResult } from '@unified-activity/contract';
import { buildFitMultisport, fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { activities, activityStreams, changes, originals, reprocessJobs } from '../../src/database/schema/index.js';
import type { MappingTweaks } from '../../src/modules/imports/mapping-tweaks.js';
import { UnreadableFileError, type ImportedActivity } from '../../src/modules/imports/parsers/types.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { gpxDocument, trackPoints, upload, utf8 } from '../factories/imports.js';
import { healthKitRun } from '../fixtures/sync-payloads.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const tweaks: MappingTweaks = {};
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ IMPORT_WORKERS: '1' }, { mappingTweaks: tweaks });
});
afterAll(async () => {
  await t.close();
});

/** A job as the route answers it, once it has a result. */
type Job = Omit<ReprocessJob, 'result'> & { result: ReprocessResult };

async function reprocess(user: SignedUpUser, body: Record<string, unknown> = {}): Promise<Job> {
  const accepted = await t.http().post(`/api/v1/athletes/${user.athleteId}/reprocess`).set(user.auth).send(body).expect(202);
  expect(accepted.body).toMatchObject({ athleteId: user.athleteId, status: 'queued', dryRun: body.dryRun === true, result: null });
  let job = accepted.body as Job;
  for (let i = 0; i < 400 && job.status !== 'completed' && job.status !== 'failed'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    job = (await t.http().get(`/api/v1/reprocess/${job.id}`).set(user.auth).expect(200)).body as Job;
  }
  expect(job.status).toBe('completed');
  expect(job.progress.done).toBe(job.progress.total);
  return job;
}

/** Every row a reprocess could write, for "nothing was written". */
async function snapshot(athleteId: string) {
  const db = t.database.db;
  const rows = await db
    .select({ id: activities.id, revision: activities.revision, name: activities.name, deviceName: activities.deviceName, updatedAt: activities.updatedAt })
    .from(activities)
    .where(eq(activities.athleteId, athleteId))
    .orderBy(activities.id);
  const ids = rows.map((row) => row.id);
  const streams = await db
    .select({ activityId: activityStreams.activityId, type: activityStreams.streamType, checksum: activityStreams.checksumSha256, key: activityStreams.objectKey })
    .from(activityStreams)
    .where(inArray(activityStreams.activityId, ids))
    .orderBy(activityStreams.activityId, activityStreams.streamType);
  const [feed] = await db.select({ n: count() }).from(changes).where(eq(changes.athleteId, athleteId));
  const listed = await db.select({ sha256: originals.sha256, status: originals.status }).from(originals).where(eq(originals.athleteId, athleteId)).orderBy(originals.sha256);
  return { rows, streams, feed: feed!.n, originals: listed };
}

const revisionOf = async (id: string) => (await t.database.db.select({ revision: activities.revision }).from(activities).where(eq(activities.id, id)))[0]!.revision;

/** The test-only rule of the first import: this file is refused, as an older parser might have refused it. */
const holdBack = (_activity: ImportedActivity, file: { name: string }) => {
  if (file.name === 'held-back.gpx') throw new UnreadableFileError('held back by a test-only rule');
};

/** "Today's parser": GPX activities get a device name, and the walk's heart rate reads one beat higher. */
const betterGpx = (activity: ImportedActivity, file: { name: string; format: string }) => {
  if (file.format !== 'gpx') return;
  activity.deviceName = 'Tweaked GPS';
  if (file.name === 'walk.gpx') {
    activity.name = 'Evening Walk';
    const heartRate = activity.streams.heart_rate as { timestamps: Float64Array; values: Float64Array } | undefined;
    if (heartRate) heartRate.values = heartRate.values.map((value) => value + 1);
  }
};

describe('reprocess', () => {
  it('derives every activity again: unchanged without a change, exactly the affected ones with one, user edits kept, dry run writes nothing', async () => {
    const user = await signUp(t);
    tweaks.file = holdBack;
    const day = (d: number) => new Date(Date.UTC(2025, 5, d, 7));
    const fit = fitActivityFixture({ sport: 'running', startTime: day(1), seconds: 300, channels: { heartRate: true, position: true, cadence: true } }).bytes;
    const imported = await upload(t, user, [
      { name: 'run.fit', bytes: fit },
      { name: 'ride.gpx', bytes: utf8(gpxDocument(day(2), trackPoints(120), 'Ride')) },
      { name: 'walk.gpx', bytes: utf8(gpxDocument(day(3), trackPoints(120, 7), 'Walk')) },
      { name: 'held-back.gpx', bytes: utf8(gpxDocument(day(4), trackPoints(90, 3), 'Held back')) },
      { name: 'broken.gpx', bytes: utf8('<gpx version="1.1"><trk><trkseg><trkpt lat="nope"/></trkseg></trk></gpx>') },
    ]).expect(200);
    expect(imported.body.files.map((f: { status: string }) => f.status)).toEqual(['created', 'created', 'created', 'rejected', 'rejected']);
    const [runId, rideId, walkId] = imported.body.files.slice(0, 3).map((f: { activityIds: string[] }) => f.activityIds[0] as string);
    const synced = await t
      .http()
      .post(`/api/v1/athletes/${user.athleteId}/sync/healthkit/batches`)
      .set(user.auth)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ activities: [healthKitRun()] }))
      .expect(200);
    const syncedId = synced.body.results[0].id as string;
    const walkStreams = (await t.http().get(`/api/v1/activities/${walkId}/streams`).set(user.auth).expect(200)).body;
    expect(walkStreams.items.map((s: { streamType: string }) => s.streamType).sort()).toEqual(['altitude', 'heart_rate', 'position']);

    // Nothing changed in the code: everything unchanged, and nothing written.
    const before = await snapshot(user.athleteId);
    const first = await reprocess(user);
    expect(first.result).toEqual({ unchanged: 4, updated: 0, created: 0, failed: 0, stillRejected: 2, skipped: 0, changes: [], failures: [], truncated: false });
    expect(first.progress).toEqual({ done: 6, total: 6 });
    expect(await snapshot(user.athleteId)).toEqual(before);

    // The user renames the ride: that name is theirs from now on.
    await t.http().patch(`/api/v1/activities/${rideId}`).set(user.auth).send({ name: 'My ride' }).expect(200);

    // A better GPX parser and HealthKit mapper. A dry run says what would change and writes nothing.
    tweaks.file = (activity, file) => {
      holdBack(activity, file);
      betterGpx(activity, file);
    };
    tweaks.sync = (activity) => {
      activity.deviceName = 'Tweaked watch';
    };
    const edited = await snapshot(user.athleteId);
    const dry = await reprocess(user, { dryRun: true });
    const expectedChanges = expect.arrayContaining([
      expect.objectContaining({ activityId: rideId, outcome: 'updated', fields: ['deviceName'], streams: [] }),
      expect.objectContaining({ activityId: walkId, outcome: 'updated', fields: ['name', 'deviceName'], streams: ['heart_rate'] }),
      expect.objectContaining({ activityId: syncedId, outcome: 'updated', fields: ['deviceName'], streams: [] }),
    ]);
    expect(dry.result).toMatchObject({ unchanged: 1, updated: 3, created: 0, failed: 0, stillRejected: 2, changes: expectedChanges });
    expect(dry.result.changes).toHaveLength(3);
    expect(await snapshot(user.athleteId)).toEqual(edited);

    // The real run: exactly the affected activities, revision + 1 once, the new heart rate stored, the user's name kept.
    const revisions = { run: await revisionOf(runId), ride: await revisionOf(rideId), walk: await revisionOf(walkId), synced: await revisionOf(syncedId) };
    const run = await reprocess(user);
    expect(run.result).toMatchObject({ unchanged: 1, updated: 3, created: 0, failed: 0, stillRejected: 2, changes: expectedChanges });
    expect(await revisionOf(runId)).toBe(revisions.run);
    expect(await revisionOf(rideId)).toBe(revisions.ride + 1);
    expect(await revisionOf(walkId)).toBe(revisions.walk + 1);
    expect(await revisionOf(syncedId)).toBe(revisions.synced + 1);
    const ride = (await t.http().get(`/api/v1/activities/${rideId}`).set(user.auth).expect(200)).body;
    expect(ride).toMatchObject({ name: 'My ride', deviceName: 'Tweaked GPS' });
    const walk = (await t.http().get(`/api/v1/activities/${walkId}`).set(user.auth).expect(200)).body;
    expect(walk).toMatchObject({ name: 'Evening Walk', deviceName: 'Tweaked GPS' });
    const heartRate = (await t.http().get(`/api/v1/activities/${walkId}/streams/heart_rate`).set(user.auth).expect(200)).body;
    expect(heartRate.values.slice(0, 3)).toEqual(trackPoints(3, 7).map((p) => p.heartRateBpm + 1));
    const after = await snapshot(user.athleteId);
    const streamsOf = (s: typeof after, id: string) => s.streams.filter((row) => row.activityId === id);
    // Only the walk's heart rate got a new version; every other stream object is the one stored before.
    expect(streamsOf(after, runId)).toEqual(streamsOf(edited, runId));
    expect(streamsOf(after, rideId)).toEqual(streamsOf(edited, rideId));
    expect(streamsOf(after, walkId).filter((row) => row.type !== 'heart_rate')).toEqual(streamsOf(edited, walkId).filter((row) => row.type !== 'heart_rate'));
    expect(streamsOf(after, walkId).find((row) => row.type === 'heart_rate')!.checksum).not.toBe(streamsOf(edited, walkId).find((row) => row.type === 'heart_rate')!.checksum);
    // The change feed saw the rewrite (its triggers, in the write's own transaction).
    const walkChanges = await t.database.db
      .select({ revision: changes.revision })
      .from(changes)
      .where(and(eq(changes.entityId, walkId), eq(changes.entity, 'activity')));
    expect(walkChanges.map((c) => c.revision)).toContain(revisions.walk + 1);

    // Idempotent: right after, everything is unchanged and nothing is written.
    const second = await reprocess(user);
    expect(second.result).toMatchObject({ unchanged: 4, updated: 0, created: 0, failed: 0, stillRejected: 2, changes: [] });
    expect(await snapshot(user.athleteId)).toEqual(after);

    // The rule goes: the held-back file parses now and becomes an activity; its original becomes imported.
    tweaks.file = betterGpx;
    const dryCreate = await reprocess(user, { dryRun: true, sources: ['file'] });
    expect(dryCreate.result).toMatchObject({ unchanged: 3, updated: 0, created: 1, stillRejected: 1, changes: [expect.objectContaining({ activityId: null, outcome: 'created', streams: expect.arrayContaining(['heart_rate', 'position']) })] });
    expect(await snapshot(user.athleteId)).toEqual(after);
    const created = await reprocess(user, { sources: ['file'] });
    expect(created.result).toMatchObject({ unchanged: 3, updated: 0, created: 1, failed: 0, stillRejected: 1 });
    expect(created.result.changes).toEqual([expect.objectContaining({ outcome: 'created', streams: expect.arrayContaining(['heart_rate', 'position']) })]);
    const newId = created.result.changes[0]!.activityId!;
    const heldBack = (await t.http().get(`/api/v1/activities/${newId}`).set(user.auth).expect(200)).body;
    expect(heldBack).toMatchObject({ name: 'Held back', source: 'file', deviceName: 'Tweaked GPS', revision: 1 });
    const listed = (await t.http().get(`/api/v1/athletes/${user.athleteId}/originals?status=rejected`).set(user.auth).expect(200)).body;
    expect(listed.items.map((o: { fileName: string }) => o.fileName)).toEqual(['broken.gpx']);
    expect((await reprocess(user)).result).toMatchObject({ unchanged: 5, updated: 0, created: 0, stillRejected: 1 });

    // An original that no longer parses: its activity stays as it is, reported with the reason.
    tweaks.file = (activity, file) => {
      betterGpx(activity, file);
      if (file.format === 'fit') throw new UnreadableFileError('FIT refused by a test-only rule');
    };
    const failing = await reprocess(user, { sources: ['file'] });
    expect(failing.result).toMatchObject({ unchanged: 3, updated: 0, failed: 1, failures: [{ activityId: runId, reason: expect.stringContaining('FIT refused by a test-only rule') }] });
    expect(await revisionOf(runId)).toBe(revisions.run);
    tweaks.file = undefined;
    tweaks.sync = undefined;
  });

  it('derives a session with its legs: unchanged, then only the changed leg, with an edited statistic kept', async () => {
    const user = await signUp(t);
    const tri = buildFitMultisport({
      startTime: new Date(Date.UTC(2025, 8, 6, 6)),
      legs: [
        { sport: 'swimming', subSport: 'openWater', seconds: 120, channels: { heartRate: true, position: true } },
        { sport: 'transition', seconds: 30, channels: { heartRate: true } },
        { sport: 'cycling', seconds: 240, channels: { heartRate: true, position: true, power: true } },
      ],
    });
    const imported = await upload(t, user, [{ name: 'tri.fit', bytes: tri.bytes }]).expect(200);
    const parentId = imported.body.files[0].activityIds[0] as string;
    const parent = (await t.http().get(`/api/v1/activities/${parentId}`).set(user.auth).expect(200)).body;
    const [swim, transition, bike] = parent.children.map((child: { id: string }) => child.id) as string[];
    expect((await reprocess(user)).result).toMatchObject({ unchanged: 1, updated: 0, failed: 0 });

    // The user sets the bike leg's statistics; a better FIT reader names the legs' device and doubles the bike's power.
    await t.http().patch(`/api/v1/activities/${bike}`).set(user.auth).send({ statistics: [{ key: 'avg_power_w', value: 1, unit: 'W' }] }).expect(200);
    const revisions = await Promise.all([parentId, swim!, transition!, bike!].map(revisionOf));
    tweaks.file = (activity) => {
      if (!activity.activityType.includes('cycling') && !activity.activityType.includes('biking')) return;
      activity.deviceName = 'Tweaked bike computer';
      activity.statistics = [];
      const power = activity.streams.power as { timestamps: Float64Array; values: Float64Array } | undefined;
      if (power) power.values = power.values.map((value) => value * 2);
    };
    const run = await reprocess(user);
    tweaks.file = undefined;
    expect(run.result).toMatchObject({ unchanged: 0, updated: 1, failed: 0, changes: [{ activityId: parentId, fields: ['children[2].deviceName'], streams: ['children[2].power'] }] });
    expect(await Promise.all([parentId, swim!, transition!, bike!].map(revisionOf))).toEqual([revisions[0], revisions[1], revisions[2], revisions[3]! + 1]);
    const leg = (await t.http().get(`/api/v1/activities/${bike}`).set(user.auth).expect(200)).body;
    expect(leg).toMatchObject({ deviceName: 'Tweaked bike computer', statistics: [{ key: 'avg_power_w', value: 1, unit: 'W' }] });
  });

  it('takes only the originals asked for: sources and since', async () => {
    const user = await signUp(t);
    await upload(t, user, [{ name: 'ride.gpx', bytes: utf8(gpxDocument(new Date(Date.UTC(2025, 6, 1, 7)), trackPoints(60), 'Ride')) }]).expect(200);
    expect((await reprocess(user, { sources: ['strava'] })).progress).toEqual({ done: 0, total: 0 });
    expect((await reprocess(user, { since: '2200-01-01T00:00:00Z' })).progress).toEqual({ done: 0, total: 0 });
    expect((await reprocess(user, { sources: ['file'], since: '2000-01-01T00:00:00Z' })).result).toMatchObject({ unchanged: 1 });
  });

  it('refuses bad input with nothing queued', async () => {
    const user = await signUp(t);
    const post = (body: unknown) => t.http().post(`/api/v1/athletes/${user.athleteId}/reprocess`).set(user.auth).send(body as object);
    expect((await post({ since: 'yesterday' }).expect(400)).body).toMatchObject({ code: expect.any(String) });
    expect((await post({ sources: ['fax'] }).expect(422)).body).toMatchObject({ code: expect.any(String) });
    await post({ dryRun: 'yes' }).expect(400);
    await post({ extra: true }).expect(400);
    const [queued] = await t.database.db.select({ n: count() }).from(reprocessJobs).where(eq(reprocessJobs.athleteId, user.athleteId));
    expect(queued!.n).toBe(0);
  });

  it('answers 404 for another user’s athlete and job (BOLA)', async () => {
    const owner = await signUp(t);
    const other = await signUp(t, 'Other');
    await t.http().post(`/api/v1/athletes/${owner.athleteId}/reprocess`).set(other.auth).send({}).expect(404);
    const job = await t.http().post(`/api/v1/athletes/${owner.athleteId}/reprocess`).set(owner.auth).send({ dryRun: true }).expect(202);
    await t.http().get(`/api/v1/reprocess/${job.body.id}`).set(other.auth).expect(404);
    await t.http().get(`/api/v1/reprocess/${job.body.id}`).set(owner.auth).expect(200);
    await t.http().get('/api/v1/reprocess/00000000-0000-4000-8000-000000000000').set(owner.auth).expect(404);
  });

  it('runs as `npm run reprocess -- --athlete <id> [--dry-run]` with a progress bar and a summary', async () => {
    // The compiled CLI, as `npm run reprocess` runs it (CI has built it already: API_DIST_BUILT).
    if (process.env.API_DIST_BUILT !== 'true') execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'pipe' });
    const user = await signUp(t);
    await upload(t, user, [
      { name: 'ride.gpx', bytes: utf8(gpxDocument(new Date(Date.UTC(2025, 7, 1, 7)), trackPoints(60), 'Ride')) },
      { name: 'junk.gpx', bytes: utf8('not a track') },
    ]).expect(200);
    const before = await snapshot(user.athleteId);
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL, DATA_DIR: t.env.DATA_DIR, AUTH_SECRET: t.env.AUTH_SECRET, LOG_LEVEL: 'silent', NODE_OPTIONS: '' };
        execFile('node', ['dist/scripts/reprocess.js', ...args], { env, timeout: 120_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const dry = await cli(['--athlete', user.athleteId, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/Reprocess dry run finished \(nothing written\)/);
    expect(dry.stdout).toMatch(/Unchanged\s+1\n/);
    expect(dry.stdout).toMatch(/Rejected files still unreadable\s+1\n/);
    expect(await snapshot(user.athleteId)).toEqual(before);
    const bad = await cli(['--athlete', user.athleteId, '--source', 'fax']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown source/);
  }, 120_000);
});
