import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { fitActivityFixture, buildFitMultisport, type ExpectedSession } from '../../libs/testing/fit-builder.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { appleHealthExport, appleSampleRecords, gpxDocument, gzip, tcxDocument, trackPoints, upload, utf8, zip } from '../factories/imports.js';
import { createObjectStore } from '../../src/modules/streams/storage/create-object-store.js';
import type { ObjectStore } from '../../src/modules/streams/storage/object-store.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { parseAndPrepare } from '../../src/modules/imports/prepare-streams.js';
import { SampleValidationError } from '../../src/modules/streams/stream-samples.js';
import { StreamsService } from '../../src/modules/streams/streams.service.js';

const START = new Date('2024-05-01T06:00:00.000Z');
const RUN_CHANNELS = { heartRate: true, position: true, altitude: true, speed: true, distance: true, cadence: true };

/** FIT counts running cadence in strides (one foot); the import stores steps per minute (§9). */
const STRIDE_SPORTS = new Set(['running', 'walking', 'hiking', 'transition']);

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('file imports over the API', () => {
  let t: TestApp;
  let user: SignedUpUser;
  let store: ObjectStore;

  beforeAll(async () => {
    t = await createTestApp({ IMPORT_WORKERS: '1' });
    user = await signUp(t);
    store = createObjectStore(t.env);
  });
  afterAll(async () => {
    await store.close?.();
    await t.close();
  });

  const get = (path: string, who = user) => t.http().get(path).set(who.auth);
  const detail = async (id: string, who = user) => (await get(`/api/v1/activities/${id}`, who)).body;
  const stream = async (id: string, type: string, who = user) => {
    const response = await get(`/api/v1/activities/${id}/streams/${type}`, who);
    expect(response.status).toBe(200);
    return response.body as { timestamps: number[]; values?: number[]; latitude?: number[]; longitude?: number[] };
  };
  const listOf = async (who: SignedUpUser) => (await get(`/api/v1/activities?athleteId=${who.athleteId}`, who)).body.items as { id: string }[];
  const rawObjects = async (who: SignedUpUser) => {
    const keys: string[] = [];
    for await (const object of store.list(`raw/athlete_id=${who.athleteId}/`)) keys.push(object.key);
    return keys;
  };

  /** Every sample of every channel the fixture wrote, compared with what the API stored. */
  async function expectStreamsOf(activityId: string, session: ExpectedSession, who = user) {
    const records = session.records;
    const channels: [string, keyof (typeof records)[number]][] = [
      ['heart_rate', 'heartRateBpm'],
      ['altitude', 'altitudeM'],
      ['speed', 'speedMS'],
      ['power', 'powerW'],
      ['cadence', 'cadenceRpm'],
      ['distance', 'distanceM'],
      ['temperature', 'temperatureC'],
    ];
    const listed = (await detail(activityId, who)).streams.map((s: { streamType: string }) => s.streamType);
    for (const [type, field] of channels) {
      const written = records.filter((r) => r[field] !== undefined);
      if (written.length === 0) {
        expect(listed).not.toContain(type);
        continue;
      }
      const got = await stream(activityId, type, who);
      expect(got.timestamps).toEqual(written.map((r) => r.timestampMs));
      const factor = type === 'cadence' && STRIDE_SPORTS.has(session.sport) ? 2 : 1;
      expect(got.values).toEqual(written.map((r) => (r[field] as number) * factor));
    }
    const fixes = records.filter((r) => r.latitudeDeg !== undefined);
    if (fixes.length > 0) {
      const got = await stream(activityId, 'position', who);
      expect(got.timestamps).toEqual(fixes.map((r) => r.timestampMs));
      expect(got.latitude).toEqual(fixes.map((r) => r.latitudeDeg));
      expect(got.longitude).toEqual(fixes.map((r) => r.longitudeDeg));
    }
  }

  function expectLaps(activity: { events: { eventType: string; startTime: string; endTime: string | null }[] }, session: ExpectedSession) {
    const laps = activity.events.filter((e) => e.eventType === 'lap');
    expect(laps.map((l) => [Date.parse(l.startTime), Date.parse(l.endTime!)])).toEqual(session.laps.map((l) => [l.startTimeMs, l.endTimeMs]));
  }

  describe('a FIT run with heart rate and GPS', () => {
    const fixture = fitActivityFixture({ sport: 'running', startTime: START, seconds: 900, laps: 3, channels: RUN_CHANNELS, pauses: [{ atS: 400, durationS: 30 }] });
    let activityId: string;

    it('is created with every record sample and every lap as encoded', async () => {
      const response = await upload(t, user, [{ name: 'run.fit', bytes: fixture.bytes }]);
      expect(response.status).toBe(200);
      const [file] = response.body.files;
      expect(file).toMatchObject({ fileName: 'run.fit', status: 'created', format: 'fit', sha256: sha256(fixture.bytes), reason: null });
      expect(file.activityIds).toHaveLength(1);
      expect(response.body.summary).toMatchObject({ created: 1, skipped: 0, rejected: 0, activities: 1 });
      activityId = file.activityIds[0];

      const activity = await detail(activityId);
      expect(activity).toMatchObject({ activityType: 'running', source: 'file', externalId: sha256(fixture.bytes) });
      expect(Date.parse(activity.startTime)).toBe(fixture.sessions[0]!.startTimeMs);
      expect(Date.parse(activity.endTime)).toBe(fixture.sessions[0]!.endTimeMs);
      expectLaps(activity, fixture.sessions[0]!);
      expect(activity.events.filter((e: { eventType: string }) => e.eventType === 'pause')).toHaveLength(1);
      await expectStreamsOf(activityId, fixture.sessions[0]!);
      expect(file.sampleCount).toBe(activity.streams.reduce((n: number, s: { sampleCount: number }) => n + s.sampleCount, 0));
    });

    it('keeps the original: GET /original answers the exact bytes, stored under its hash', async () => {
      const response = await get(`/api/v1/activities/${activityId}/original`).buffer(true).parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toContain('application/vnd.ant.fit');
      expect(Buffer.compare(response.body as Buffer, Buffer.from(fixture.bytes))).toBe(0);
      expect(await rawObjects(user)).toContain(`raw/athlete_id=${user.athleteId}/source=file/${sha256(fixture.bytes)}.fit.br`);
    });

    it('skips the same bytes under another name as a duplicate, naming the existing activity', async () => {
      const response = await upload(t, user, [{ name: 'copy of run.FIT', bytes: fixture.bytes }]);
      expect(response.status).toBe(200);
      expect(response.body.files[0]).toMatchObject({ status: 'skipped', existingIds: [activityId], activityIds: [] });
      expect(await listOf(user)).toHaveLength(1);
    });

    it('imports a gzipped and a zipped copy exactly like the plain file (and skips them as the same file)', async () => {
      const plain = await signUp(t);
      const compressed = await signUp(t);
      const plainResult = (await upload(t, plain, [{ name: 'run.fit', bytes: fixture.bytes }])).body.files[0];
      const gz = await upload(t, compressed, [{ name: 'run.fit.gz', bytes: gzip(fixture.bytes) }]);
      expect(gz.body.files[0]).toMatchObject({ status: 'created', sha256: plainResult.sha256, sampleCount: plainResult.sampleCount });
      const zipped = await upload(t, compressed, [{ name: 'runs.zip', bytes: zip({ 'watch/run.fit': fixture.bytes }) }]);
      expect(zipped.body.files[0]).toMatchObject({ fileName: 'runs.zip/watch/run.fit', status: 'skipped', existingIds: gz.body.files[0].activityIds });

      const strip = (a: Record<string, unknown>) => {
        const { id: _id, athleteId: _a, createdAt: _c, updatedAt: _u, streams, sourceArchiveKey, ...rest } = a as Record<string, unknown> & {
          streams: Record<string, unknown>[];
        };
        // The archived original lives under its athlete: the same content-addressed name, another prefix.
        const archived = String(sourceArchiveKey).replace(/athlete_id=[^/]+/, 'athlete_id=…');
        return { ...rest, archived, streams: streams.map(({ updatedAt: _s, ...s }) => s) };
      };
      const a = await detail(plainResult.activityIds[0], plain);
      const b = await detail(gz.body.files[0].activityIds[0], compressed);
      expect(strip(b)).toEqual(strip(a));
      await expectStreamsOf(b.id, fixture.sessions[0]!, compressed);

      // A zip of a fresh athlete imports the same way as the plain file.
      const third = await signUp(t);
      const fromZip = (await upload(t, third, [{ name: 'runs.zip', bytes: zip({ 'watch/run.fit': fixture.bytes }) }])).body.files[0];
      expect(fromZip).toMatchObject({ status: 'created', sha256: plainResult.sha256, sampleCount: plainResult.sampleCount });
      expect(strip(await detail(fromZip.activityIds[0], third))).toEqual(strip(a));
    });
  });

  it('imports a bike ride with power, cadence and temperature sample for sample', async () => {
    const fixture = fitActivityFixture({
      sport: 'cycling',
      startTime: new Date('2024-05-02T06:00:00Z'),
      seconds: 1200,
      laps: 2,
      channels: { heartRate: true, position: true, altitude: true, speed: true, power: true, cadence: true, distance: true, temperature: true },
    });
    const response = await upload(t, user, [{ name: 'ride.fit', bytes: fixture.bytes }]);
    expect(response.body.files[0]).toMatchObject({ status: 'created', format: 'fit' });
    const activity = await detail(response.body.files[0].activityIds[0]);
    expect(activity.activityType).toBe('cycling');
    expectLaps(activity, fixture.sessions[0]!);
    await expectStreamsOf(activity.id, fixture.sessions[0]!);
  });

  it('stores each stream as the parse pool encoded it, once; a prepared stream outside its activity is refused', async () => {
    const fixture = fitActivityFixture({
      sport: 'cycling',
      startTime: new Date('2024-05-03T06:00:00Z'),
      seconds: 900,
      channels: { heartRate: true, power: true },
    });
    const response = await upload(t, user, [{ name: 'short-ride.fit', bytes: fixture.bytes }]);
    const activityId = response.body.files[0].activityIds[0] as string;
    // What the import's workers hand the streams service, computed here from the same file.
    const { prepared } = await parseAndPrepare(fixture.bytes, 'short-ride.fit');
    const power = prepared[0]?.power;
    if (!power?.ok) throw new Error('power was not prepared');
    const listed = (await get(`/api/v1/activities/${activityId}/streams`)).body.items as { streamType: string; checksumSha256: string; byteSize: number }[];
    const row = listed.find((item) => item.streamType === 'power')!;
    expect(row).toMatchObject({ checksumSha256: power.value.checksumSha256, byteSize: power.value.bytes.byteLength });
    const file = await get(`/api/v1/activities/${activityId}/streams/power/file?redirect=false`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(sha256(new Uint8Array(file.body as Buffer))).toBe(power.value.checksumSha256);

    const streams = t.app.get(StreamsService);
    const elsewhere = { id: activityId, athleteId: user.athleteId, startTime: new Date('2024-05-04T06:00:00Z'), endTime: new Date('2024-05-04T07:00:00Z') };
    const outside = await streams.storePreparedStreams(elsewhere, { power: power.value });
    expect(outside.stored).toEqual([]);
    expect(outside.rejected.map(({ type }) => type)).toEqual(['power']);
    expect(outside.rejected[0]!.error).toBeInstanceOf(SampleValidationError);
    // Nothing of the rejected stream was stored: the row still points at the imported object.
    const after = (await get(`/api/v1/activities/${activityId}/streams`)).body.items as { streamType: string; checksumSha256: string }[];
    expect(after.find((item) => item.streamType === 'power')!.checksumSha256).toBe(power.value.checksumSha256);
  });

  it('imports a triathlon as one session with a child per leg, each with its own streams and laps', async () => {
    const fixture = buildFitMultisport({
      startTime: new Date('2024-05-03T06:00:00Z'),
      legs: [
        { sport: 'swimming', subSport: 'openWater', seconds: 300, channels: { heartRate: true, position: true } },
        { sport: 'transition', seconds: 60, channels: { heartRate: true } },
        { sport: 'cycling', seconds: 600, laps: 2, channels: { heartRate: true, position: true, power: true, speed: true } },
        { sport: 'transition', seconds: 45, channels: { heartRate: true } },
        { sport: 'running', seconds: 480, channels: RUN_CHANNELS },
      ],
    });
    const response = await upload(t, user, [{ name: 'tri.fit', bytes: fixture.bytes }]);
    const [file] = response.body.files;
    expect(file).toMatchObject({ status: 'created', format: 'fit' });
    expect(file.activityIds).toHaveLength(1);
    const parent = await detail(file.activityIds[0]);
    expect(parent.externalId).toBe(file.sha256);
    expect(parent.children).toHaveLength(5);
    expect(parent.children.map((c: { externalId: string }) => c.externalId)).toEqual([1, 2, 3, 4, 5].map((n) => `${file.sha256}#${n}`));
    let legSamples = 0;
    for (const [index, session] of fixture.sessions.entries()) {
      const child = await detail(parent.children[index].id);
      expect(Date.parse(child.startTime)).toBe(session.startTimeMs);
      expectLaps(child, session);
      await expectStreamsOf(child.id, session);
      legSamples += child.streams.reduce((n: number, s: { sampleCount: number }) => n + s.sampleCount, 0);
    }
    // The file's count is every leg's, though the legs' streams are stored side by side.
    expect(legSamples).toBeGreaterThan(0);
    expect(file.sampleCount).toBe(legSamples);
  });

  it('imports a pool swim with one segment event per length, and heart rate from hr messages', async () => {
    const fixture = fitActivityFixture({
      sport: 'swimming',
      subSport: 'lapSwimming',
      startTime: new Date('2024-05-06T06:00:00Z'),
      seconds: 0,
      pool: { lengthM: 25, lengths: 16, secondsPerLength: 30, strokesPerLength: 14 },
      laps: 2,
      channels: { heartRate: true },
      heartRateIn: 'hr_messages',
    });
    const session = fixture.sessions[0]!;
    const response = await upload(t, user, [{ name: 'pool.fit', bytes: fixture.bytes }]);
    expect(response.body.files[0]).toMatchObject({ status: 'created', format: 'fit' });
    const activity = await detail(response.body.files[0].activityIds[0]);
    expect(activity.isIndoor).toBe(true);
    const lengths = activity.events.filter((e: { eventType: string; metadata: { kind?: string } | null }) => e.eventType === 'segment' && e.metadata?.kind === 'length');
    expect(lengths.map((e: { startTime: string; endTime: string }) => [Date.parse(e.startTime), Date.parse(e.endTime)])).toEqual(
      session.lengths.map((l) => [l.startTimeMs, l.endTimeMs]),
    );
    expectLaps(activity, session);
    // The strap's hr messages become the heart_rate stream, one sample per merged record.
    await expectStreamsOf(activity.id, session);
    expect(activity.streams.map((s: { streamType: string }) => s.streamType)).toContain('heart_rate');
  });

  it('imports GPX with its track and heart-rate extension, and TCX with its lap', async () => {
    const points = trackPoints(120);
    const start = new Date('2024-05-04T06:00:00Z');
    const response = await upload(t, user, [
      { name: 'run.gpx', bytes: utf8(gpxDocument(start, points)) },
      { name: 'run.tcx', bytes: utf8(tcxDocument(new Date('2024-05-05T06:00:00Z'), points)) },
    ]);
    expect(response.status).toBe(200);
    const [gpx, tcx] = response.body.files;
    expect(gpx).toMatchObject({ status: 'created', format: 'gpx' });
    expect(tcx).toMatchObject({ status: 'created', format: 'tcx' });
    for (const [result, at] of [
      [gpx, start],
      [tcx, new Date('2024-05-05T06:00:00Z')],
    ] as const) {
      const id = result.activityIds[0];
      const position = await stream(id, 'position');
      expect(position.timestamps).toEqual(points.map((p) => at.getTime() + p.seconds * 1000));
      expect(position.latitude).toEqual(points.map((p) => p.latitude));
      expect(position.longitude).toEqual(points.map((p) => p.longitude));
      expect((await stream(id, 'heart_rate')).values).toEqual(points.map((p) => p.heartRateBpm));
    }
    expect((await stream(tcx.activityIds[0], 'distance')).values).toEqual(points.map((p) => p.distanceM));
    const tcxActivity = await detail(tcx.activityIds[0]);
    expect(tcxActivity.events.filter((e: { eventType: string }) => e.eventType === 'lap')).toHaveLength(1);
    expect((await detail(gpx.activityIds[0])).name).toBe('Morning Run');
  });

  it('imports an Apple Health export.zip: its workouts with statistics and the linked route', async () => {
    const who = await signUp(t);
    const start = new Date('2024-04-01T06:00:00Z');
    const route = trackPoints(60);
    const response = await upload(t, who, [{ name: 'export.zip', bytes: appleHealthExport(start, route).zip }]);
    expect(response.status).toBe(200);
    const [file] = response.body.files;
    expect(file).toMatchObject({ fileName: 'export.zip/apple_health_export/export.xml', status: 'created', format: 'apple_health' });
    expect(file.activityIds).toHaveLength(2);
    const activities = await Promise.all(file.activityIds.map((id: string) => detail(id, who)));
    const run = activities.find((a) => a.activityType === 'running')!;
    const walk = activities.find((a) => a.activityType === 'walking')!;
    expect(run).toMatchObject({ source: 'file', distanceM: 5100, activeEnergyKcal: 320, sourceActivityType: 'HKWorkoutActivityTypeRunning' });
    expect(Date.parse(run.startTime)).toBe(start.getTime());
    expect(walk.distanceM).toBe(1500);
    const position = await stream(run.id, 'position', who);
    expect(position.latitude).toEqual(route.map((p) => p.latitude));
    expect(position.longitude).toEqual(route.map((p) => p.longitude));
    // The same export again (a newer export repeats old workouts): nothing new.
    const again = await upload(t, who, [{ name: 'export.zip', bytes: appleHealthExport(start, route).zip }]);
    expect(again.body.files[0]).toMatchObject({ status: 'skipped', activityIds: [] });
    expect(again.body.files[0].existingIds.sort()).toEqual([...file.activityIds].sort());
  });

  it('imports an Apple Health export with the sample records inside each workout as its streams, one source each', async () => {
    const who = await signUp(t);
    const start = new Date('2024-04-08T06:00:00Z');
    const route = trackPoints(60);
    const records = appleSampleRecords(start, true);
    const response = await upload(t, who, [{ name: 'export.zip', bytes: appleHealthExport(start, route, { samples: true }).zip }]);
    expect(response.status).toBe(200);
    const [file] = response.body.files;
    expect(file).toMatchObject({ status: 'created', format: 'apple_health' });
    const [run, walk] = await Promise.all(file.activityIds.map((id: string) => detail(id, who)));
    expect([run.activityType, walk.activityType]).toEqual(['running', 'walking']);
    const windowOf = (a: { startTime: string; endTime: string }) => ({ from: Date.parse(a.startTime), to: Date.parse(a.endTime) });
    const inside = (type: string, source: string, a: { startTime: string; endTime: string }) => {
      const { from, to } = windowOf(a);
      return records.filter((r) => r.type === `HKQuantityTypeIdentifier${type}` && r.sourceName === source && r.startMs >= from && r.endMs <= to);
    };

    // The run: the watch's heart rate (the workout's own source) and power, bit for bit; the strap's left out.
    const runHr = inside('HeartRate', 'Apple Watch', run).sort((x, y) => x.startMs - y.startMs);
    expect(runHr).toHaveLength(181);
    expect(await stream(run.id, 'heart_rate', who)).toMatchObject({ timestamps: runHr.map((r) => r.startMs), values: runHr.map((r) => Number(r.value)) });
    const power = inside('RunningPower', 'Apple Watch', run);
    expect(await stream(run.id, 'power', who)).toMatchObject({ timestamps: power.map((r) => r.startMs), values: power.map((r) => Number(r.value)) });
    expect(file.warnings).toContain(`workout 1 (${start.toISOString()}): records: kept the 181 HeartRate samples of "Apple Watch"; left out 31 from "Polar Flow"`);

    // The walk was recorded on the phone: its distance from the phone (m, summed), its heart rate from the watch.
    const walkHr = inside('HeartRate', 'Apple Watch', walk);
    expect(walkHr).toHaveLength(81);
    expect(await stream(walk.id, 'heart_rate', who)).toMatchObject({ timestamps: walkHr.map((r) => r.startMs), values: walkHr.map((r) => Number(r.value)) });
    let total = 0;
    const distance = inside('DistanceWalkingRunning', 'iPhone', walk);
    expect(await stream(walk.id, 'distance', who)).toMatchObject({ timestamps: distance.map((r) => r.endMs), values: distance.map((r) => (total += Number(r.value))) });
    expect(file.warnings).toContain(`workout 2 (${walk.startTime}): records: kept the 20 DistanceWalkingRunning samples of "iPhone"; left out 40 from "Apple Watch"`);
    expect(walk.streams.map((s: { streamType: string }) => s.streamType).sort()).toEqual(['distance', 'heart_rate']);
    expect(file.sampleCount).toBe(runHr.length + power.length + route.length * 2 + walkHr.length + distance.length);
  });

  const good = fitActivityFixture({ sport: 'running', startTime: new Date('2024-06-01T06:00:00Z'), seconds: 120, channels: RUN_CHANNELS }).bytes;
  const corrupt = good.slice();
  corrupt.fill(0x5a, 40, 90);
  it.each([
    ['truncated.fit', good.slice(0, 20)],
    ['corrupt.fit', corrupt],
    ['empty.fit', new Uint8Array(0)],
    ['picture.fit', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])],
    ['notes.gpx', utf8('just some text, not xml')],
    ['broken.gpx.gz', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3])],
    ['broken.zip', Uint8Array.from([0x50, 0x4b, 3, 4, 9, 9, 9, 9])],
  ])('rejects %s with a reason, creates nothing and keeps the file among the rejected originals', async (name, bytes) => {
    const who = await signUp(t);
    const response = await upload(t, who, [{ name, bytes }]);
    expect(response.status).toBe(200);
    const [file] = response.body.files;
    expect(file.status).toBe('rejected');
    expect(typeof file.reason).toBe('string');
    expect(file.reason.length).toBeGreaterThan(5);
    expect(response.body.summary).toMatchObject({ rejected: 1, created: 0 });
    expect(await listOf(who)).toHaveLength(0);
    // Issue 28: a file that reached the parser is archived and listed as rejected; a gzip or zip that
    // does not open has no file in it (no sha256) and leaves nothing.
    const objects = await rawObjects(who);
    expect(objects).toHaveLength(file.sha256 ? 1 : 0);
    const originals = await t.http().get(`/api/v1/athletes/${who.athleteId}/originals?status=rejected`).set(who.auth).expect(200);
    expect(originals.body.items.map((o: { sha256: string; reason: string }) => [o.sha256, o.reason])).toEqual(file.sha256 ? [[file.sha256, file.reason]] : []);
  });

  it('a file cut off in the middle keeps what is readable and says what was lost', async () => {
    const who = await signUp(t);
    const response = await upload(t, who, [{ name: 'cut.fit', bytes: good.slice(0, Math.floor(good.length / 2)) }]);
    const [file] = response.body.files;
    expect(file.status).toBe('created');
    expect(file.warnings.length).toBeGreaterThan(0);
    expect(file.sampleCount).toBeGreaterThan(0);
  });

  it('a bad file fails alone: the others of the same upload still import', async () => {
    const who = await signUp(t);
    const response = await upload(t, who, [
      { name: 'bad.fit', bytes: good.slice(0, 30) },
      { name: 'good.fit', bytes: good },
    ]);
    expect(response.body.files.map((f: { status: string }) => f.status)).toEqual(['rejected', 'created']);
    expect(await listOf(who)).toHaveLength(1);
  });

  it('answers 400 without files, and 404 for someone else’s athlete, activity original or job', async () => {
    const other = await signUp(t);
    expect((await t.http().post(`/api/v1/athletes/${user.athleteId}/imports`).set(user.auth).field('note', 'x')).status).toBe(400);
    const foreign = await upload(t, other, [{ name: 'x.fit', bytes: good }], '', user.athleteId);
    expect(foreign.status).toBe(404);
    expect(await listOf(user)).not.toContainEqual(expect.objectContaining({ externalId: sha256(good) }));
    const [mine] = await listOf(user);
    expect((await get(`/api/v1/activities/${mine!.id}/original`, other)).status).toBe(404);
    const job = await upload(t, user, [{ name: 'y.fit', bytes: good }], '?async=true');
    expect(job.status).toBe(202);
    expect((await get(`/api/v1/imports/${job.body.id}`, other)).status).toBe(404);
    expect((await get(`/api/v1/imports/${job.body.id}`)).status).toBe(200);
  });

  it('?async=true answers 202 with a job whose progress and per-file results can be polled', async () => {
    const who = await signUp(t);
    const files = [0, 1, 2].map((n) => ({
      name: `day-${n}.fit`,
      bytes: fitActivityFixture({ sport: 'running', startTime: new Date(Date.UTC(2024, 6, 1 + n, 6)), seconds: 300, channels: RUN_CHANNELS }).bytes,
    }));
    const response = await upload(t, who, [...files, { name: 'bad.fit', bytes: utf8('nope') }], '?async=true');
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'queued', filesTotal: 4, filesDone: 0 });
    let job = response.body;
    for (let i = 0; i < 120 && job.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = (await get(`/api/v1/imports/${job.id}`, who)).body;
    }
    expect(job).toMatchObject({ status: 'completed', filesDone: 4, summary: { created: 3, rejected: 1, activities: 3 } });
    expect(job.files.map((f: { fileName: string }) => f.fileName)).toEqual(['day-0.fit', 'day-1.fit', 'day-2.fit', 'bad.fit']);
    expect(await listOf(who)).toHaveLength(3);
  });
});
