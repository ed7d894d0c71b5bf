/**
 * `npm run bench:export` — an athlete's export (README "Your originals, reprocessing and export"):
 * the memory the zip writer takes above idle and its speed against a plain `zip` of the same files.
 *
 * Seeds one athlete with EXPORT_ACTIVITIES activities (default 10,000), each with a heart-rate and
 * a cadence stream of EXPORT_SAMPLES samples (default 1,800: half an hour at 1 Hz) and every tenth
 * with a position stream (so a GPX track), through the services' own write path (PGlite under a
 * temporary DATA_DIR, local object store). Then, EXPORT_REPEATS times (default 3), side by side:
 *   ours — ExportsService.writeZip (the job's body) into a temporary file, in this process: the peak
 *          RSS above idle (VmHWM reset just before), the peaks of V8's heap and ArrayBuffers above
 *          idle (sampled every 5 ms), wall and CPU seconds of this process;
 *   zip  — `zip -q -r -n .parquet` (Info-ZIP; Parquet stored, the rest deflated, as ours does) of the
 *          same files unpacked into a folder, wall and CPU seconds of the child (/usr/bin/time).
 * MB/s is the entries' uncompressed bytes over wall seconds. Without `zip` the comparison is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { openDatabase } from '../src/database/database.js';
import { seedCatalog } from '../src/database/seed.js';
import { ActivitiesService } from '../src/modules/activities/activities.service.js';
import { ExportsService } from '../src/modules/exports/exports.service.js';
import { StreamsService } from '../src/modules/streams/streams.service.js';
import { benchEnv } from './bench-env.js';

const MiB = 1024 * 1024;
const ACTIVITIES = Number(process.env.EXPORT_ACTIVITIES ?? 10_000);
const SAMPLES = Number(process.env.EXPORT_SAMPLES ?? 1_800);
const REPEATS = Number(process.env.EXPORT_REPEATS ?? 3);
const dataDir = mkdtempSync(join(tmpdir(), 'bench-export-'));

const peakRss = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN) * 1024;
const resetPeakRss = () => writeFileSync('/proc/self/clear_refs', '5');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const hasCommand = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

async function main() {
  const database = openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  await database.migrate();
  await seedCatalog(database.db);
  const app = await createApp(benchEnv(dataDir), { database });
  const http = request(app.getHttpServer());
  const signUp = await http.post('/api/auth/sign-up/email').send({ name: 'Bench', email: 'bench@example.test', password: 'bench-password-123' });
  const userId = signUp.body.user.id as string;
  const token = signUp.headers['set-auth-token'] as string;
  const athleteId = (await http.get('/api/v1/athletes').set({ authorization: `Bearer ${token}` })).body.items[0].id as string;
  const activities = app.get(ActivitiesService);
  const streams = app.get(StreamsService);
  const exports = app.get(ExportsService);

  const seedStarted = performance.now();
  const seedOne = async (i: number) => {
    const start = new Date(Date.UTC(2020, 0, 1) + i * 6 * 3600 * 1000);
    const end = new Date(start.getTime() + SAMPLES * 1000);
    const row = await activities.insert(userId, { athleteId, activityType: 'running', source: 'manual', startTime: start, endTime: end, name: `Run ${i}` } as never);
    const ref = { id: row.id, athleteId, startTime: row.startTime, endTime: row.endTime };
    const timestamps = Float64Array.from({ length: SAMPLES }, (_, k) => start.getTime() + k * 1000);
    await streams.replaceStream(ref, 'heart_rate', { timestamps, values: Float64Array.from({ length: SAMPLES }, (_, k) => 120 + ((k * 7 + i) % 50)) });
    await streams.replaceStream(ref, 'cadence', { timestamps, values: Float64Array.from({ length: SAMPLES }, (_, k) => 80 + ((k * 3 + i) % 15)) });
    if (i % 10 === 0) {
      await streams.replaceStream(ref, 'position', {
        timestamps,
        latitude: Float64Array.from({ length: SAMPLES }, (_, k) => 47.37 + k * 0.00003),
        longitude: Float64Array.from({ length: SAMPLES }, (_, k) => 8.54 + k * 0.00002),
        altitudeM: Float64Array.from({ length: SAMPLES }, (_, k) => 410 + Math.sin(k / 10) * 5),
        horizontalAccuracyM: null,
      });
    }
  };
  for (let i = 0; i < ACTIVITIES; i += 8) await Promise.all(Array.from({ length: Math.min(8, ACTIVITIES - i) }, (_, k) => seedOne(i + k)));
  console.log(`Node ${process.version}; ${ACTIVITIES} activities, ${SAMPLES} samples per stream (heart_rate, cadence; position on every 10th), seeded in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s\n`);

  const zipPresent = hasCommand('zip') && hasCommand('unzip') && hasCommand('/usr/bin/time');
  if (!zipPresent) console.log('zip, unzip or /usr/bin/time is missing: the comparison with a plain zip is skipped (apt-get install -y zip unzip time)\n');
  const rows: { rss: number; heap: number; buffers: number; wall: number; cpu: number; zipWall?: number; zipCpu?: number; bytes: number; zipBytes: number; plainBytes?: number }[] = [];
  for (let run = 0; run < REPEATS; run++) {
    const path = join(dataDir, `export-${run}.zip`);
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = process.memoryUsage();
    resetPeakRss();
    const rssBefore = peakRss();
    let heapPeak = before.heapUsed;
    let buffersPeak = before.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      heapPeak = Math.max(heapPeak, now.heapUsed);
      buffersPeak = Math.max(buffersPeak, now.arrayBuffers);
    }, 5);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await exports.writeZip({ userId, athleteId }, path);
    const wall = (performance.now() - started) / 1000;
    const cpuUsed = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    const row: (typeof rows)[number] = {
      rss: (peakRss() - rssBefore) / MiB,
      heap: (heapPeak - before.heapUsed) / MiB,
      buffers: (buffersPeak - before.arrayBuffers) / MiB,
      wall,
      cpu: (cpuUsed.user + cpuUsed.system) / 1e6,
      bytes: 0,
      zipBytes: statSync(path).size,
    };
    const listing = execFileSync('unzip', ['-Z', '-t', path]).toString();
    row.bytes = Number(/(\d+) bytes uncompressed/.exec(listing)?.[1] ?? Number.NaN);
    if (zipPresent) {
      const folder = join(dataDir, `files-${run}`);
      mkdirSync(folder);
      execFileSync('unzip', ['-q', path, '-d', folder]);
      const plain = join(dataDir, `plain-${run}.zip`);
      const timed = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'zip', '-q', '-r', '-n', '.parquet', plain, '.'], { cwd: folder, encoding: 'utf8' });
      const [e, u, s] = timed.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
      row.zipWall = e!;
      row.zipCpu = u! + s!;
      row.plainBytes = statSync(plain).size;
      rmSync(folder, { recursive: true, force: true });
      rmSync(plain);
    }
    rmSync(path);
    rows.push(row);
    const mbs = (bytes: number, seconds: number) => (bytes / 1e6 / seconds).toFixed(1);
    console.log(
      `run ${run + 1}: ours ${row.wall.toFixed(1)} s wall, ${row.cpu.toFixed(1)} s CPU, ${mbs(row.bytes, row.wall)} MB/s; peak RSS +${row.rss.toFixed(0)} MiB, heap +${row.heap.toFixed(0)} MiB, ArrayBuffers +${row.buffers.toFixed(0)} MiB; ` +
        `${(row.bytes / MiB).toFixed(0)} MiB in, zip ${(row.zipBytes / MiB).toFixed(0)} MiB` +
        (row.zipWall !== undefined ? ` | zip ${row.zipWall.toFixed(1)} s wall, ${row.zipCpu!.toFixed(1)} s CPU, ${mbs(row.bytes, row.zipWall)} MB/s, ${(row.plainBytes! / MiB).toFixed(0)} MiB` : ''),
    );
  }
  const m = (pick: (row: (typeof rows)[number]) => number) => median(rows.map(pick));
  console.log(`\nmedian of ${REPEATS}: peak RSS above idle ${m((r) => r.rss).toFixed(0)} MiB (goal ≤ 64), heap +${m((r) => r.heap).toFixed(0)} MiB, ArrayBuffers +${m((r) => r.buffers).toFixed(0)} MiB`);
  console.log(`  ours ${(m((r) => r.bytes) / 1e6 / m((r) => r.wall)).toFixed(1)} MB/s wall (${m((r) => r.cpu).toFixed(1)} s CPU)`);
  if (zipPresent) {
    console.log(
      `  zip  ${(m((r) => r.bytes) / 1e6 / m((r) => r.zipWall!)).toFixed(1)} MB/s wall (${m((r) => r.zipCpu!).toFixed(1)} s CPU); ours/zip wall ${(m((r) => r.wall) / m((r) => r.zipWall!)).toFixed(2)}×, CPU ${(m((r) => r.cpu) / m((r) => r.zipCpu!)).toFixed(2)}× (ours also reads the database and the object store)`,
    );
  }
  await app.close();
  await database.close();
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dataDir, { recursive: true, force: true }));
