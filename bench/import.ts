/**
 * `npm run bench:import` — file import throughput through the CLI (issue 12).
 *
 * Data: BENCH_FILES (200) generated one-hour 1 Hz FIT files with heart rate, GPS, altitude, speed,
 * power and cadence, written with Garmin's own encoder (libs/testing/fit-builder.ts).
 * Baseline, in the same run: `@garmin/fitsdk` decoding the same files single-threaded in this
 * process (the decode options the importer uses), nothing else. Then `npm run import` on the
 * folder as its own process (decoding and stream encoding in one worker thread per CPU, four files
 * per CPU in flight, activities and already-encoded streams written to the database and object store) on the embedded database under a temporary DATA_DIR, or on
 * BENCH_DATABASE_URL when set. Storage: Parquet bytes written against the FIT files' raw and
 * gzipped bytes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Decoder, Stream } from '@garmin/fitsdk';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { parseEnv } from '../src/config/env.js';
import { openDatabase } from '../src/database/database.js';
import { seedCatalog } from '../src/database/seed.js';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { buildFitActivity } from '../libs/testing/fit-builder.js';

const FILES = Number(process.env.BENCH_FILES ?? 200);
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const CHANNELS = { heartRate: true, position: true, altitude: true, speed: true, power: true, cadence: true };

const dataDir = mkdtempSync(join(tmpdir(), 'bench-import-'));
const folder = join(dataDir, 'fit');
mkdirSync(folder);

function env(extra: Record<string, string> = {}) {
  return parseEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SECRET: 'bench-secret-that-is-long-enough-0123456789',
    AUTH_RATE_LIMIT: 'false',
    DATA_DIR: dataDir,
    IMPORT_WORKERS: '0',
    ...(DATABASE_URL ? { DATABASE_URL } : {}),
    ...extra,
  });
}

async function main() {
  console.log(`Generating ${FILES} one-hour 1 Hz FIT files (hr, GPS, altitude, speed, power, cadence)…`);
  const files: Uint8Array[] = [];
  for (let i = 0; i < FILES; i++) {
    const bytes = buildFitActivity({
      sport: i % 2 ? 'cycling' : 'running',
      startTime: new Date(Date.UTC(2023, 0, 1) + i * 86_400_000),
      seconds: 3600,
      laps: 4,
      channels: CHANNELS,
      origin: { latitudeDeg: 46 + (i % 20) * 0.1, longitudeDeg: 7 + (i % 13) * 0.1 },
    });
    files.push(bytes);
    writeFileSync(join(folder, `activity-${String(i).padStart(4, '0')}.fit`), bytes);
  }
  const fitBytes = files.reduce((n, f) => n + f.byteLength, 0);
  const gzBytes = files.reduce((n, f) => n + gzipSync(f).byteLength, 0);

  // Baseline: the SDK alone, single-threaded, same options as the importer's FIT parser.
  let decodedRecords = 0;
  const decodeStart = performance.now();
  for (const bytes of files) {
    const { messages } = new Decoder(Stream.fromByteArray(bytes)).read({
      applyScaleAndOffset: true,
      expandSubFields: true,
      expandComponents: true,
      convertTypesToStrings: true,
      convertDateTimesToDates: true,
      includeUnknownData: false,
      mergeHeartRates: true,
    });
    decodedRecords += (messages.recordMesgs as unknown[] | undefined)?.length ?? 0;
  }
  const decodeSeconds = (performance.now() - decodeStart) / 1000;

  // An athlete to import for, in the database the CLI will open.
  const database = DATABASE_URL ? openDatabase({ url: DATABASE_URL }) : openDatabase({ pgliteDir: join(dataDir, 'pglite') });
  await database.migrate();
  await seedCatalog(database.db);
  const app = await createApp(env(), { database });
  const email = `bench-${Date.now()}@example.test`;
  const signUp = await request(app.getHttpServer()).post('/api/auth/sign-up/email').send({ name: 'Bench', email, password: 'bench-password-123' });
  const token = signUp.headers['set-auth-token'];
  const athletes = await request(app.getHttpServer()).get('/api/v1/athletes').set({ authorization: `Bearer ${token}` });
  const athleteId = athletes.body.items[0].id as string;
  await app.close();
  await database.close();

  console.log(`Importing through the CLI (${availableParallelism()} CPUs)…`);
  const reportFile = join(dataDir, 'report.json');
  const cliEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  if (DATABASE_URL) cliEnv.DATABASE_URL = DATABASE_URL;
  else delete cliEnv.DATABASE_URL;
  const machineBefore = machineCpuSeconds();
  const childrenBefore = childrenCpuSeconds();
  const wallStart = performance.now();
  const code = await new Promise<number>((resolve) =>
    execFile('node', ['dist/scripts/import.js', folder, '--athlete', athleteId, '--report', reportFile], { env: cliEnv, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      process.stdout.write(stdout);
      process.stderr.write(stderr);
      resolve(error ? ((error as { code?: number }).code ?? 1) : 0);
    }),
  );
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const cliCpu = childrenCpuSeconds() - childrenBefore;
  const machineCpu = machineCpuSeconds() - machineBefore;
  if (code !== 0) throw new Error(`the CLI exited with ${code}`);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { seconds: number; summary: { created: number; samples: number } };
  if (report.summary.created !== FILES) throw new Error(`expected ${FILES} files created, got ${report.summary.created}`);

  let parquetBytes = 0;
  const store = createObjectStore(env(DATABASE_URL ? { DATABASE_URL } : {}));
  for await (const object of store.list(`streams/athlete_id=${athleteId}/`)) parquetBytes += object.size;
  await store.close?.();

  const samples = report.summary.samples;
  const rows: [string, string, string, string][] = [
    ['', 'seconds', 'files/s', 'samples/s'],
    ['@garmin/fitsdk decode only, 1 thread (baseline)', decodeSeconds.toFixed(2), (FILES / decodeSeconds).toFixed(1), Math.round(samples / decodeSeconds).toLocaleString('en-US')],
    ['npm run import, import loop', report.seconds.toFixed(2), (FILES / report.seconds).toFixed(1), Math.round(samples / report.seconds).toLocaleString('en-US')],
    ['npm run import, whole process (boot included)', wallSeconds.toFixed(2), (FILES / wallSeconds).toFixed(1), Math.round(samples / wallSeconds).toLocaleString('en-US')],
  ];
  console.log(`\n${FILES} files, ${decodedRecords.toLocaleString('en-US')} records, ${samples.toLocaleString('en-US')} stream samples stored; ${DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, local object store`);
  for (const row of rows) console.log(`  ${row[0].padEnd(48)} ${row[1].padStart(8)} ${row[2].padStart(8)} ${row[3].padStart(12)}`);
  console.log(`  Throughput vs decode-only baseline: ${(decodeSeconds / report.seconds).toFixed(2)}× (import loop), ${(decodeSeconds / wallSeconds).toFixed(2)}× (whole process); goal ≥ 1.0`);
  // Where the CPU went: the CLI process (all its threads, boot included) and the rest of the
  // machine over the same wall time (on a quiet machine: the PostgreSQL server's backends).
  const cpus = availableParallelism();
  console.log(`\n  CPU time, whole process: the CLI ${cliCpu.toFixed(2)} s (${((cliCpu / FILES) * 1000).toFixed(1)} ms per file), the rest of the machine ${Math.max(0, machineCpu - cliCpu).toFixed(2)} s`);
  console.log(`  decode-only baseline: ${decodeSeconds.toFixed(2)} s on one thread; machine busy during the import: ${((machineCpu / (wallSeconds * cpus)) * 100).toFixed(0)} % of ${cpus} CPUs`);
  console.log(`  (CPU-bound: ${cpus} CPUs cannot run ${machineCpu.toFixed(2)} CPU-s in less than ${(machineCpu / cpus).toFixed(2)} s; 1.0× on this machine needs ≤ ${(decodeSeconds * cpus).toFixed(2)} CPU-s)`);
  console.log(`\n  FIT files, raw        ${fitBytes.toLocaleString('en-US').padStart(14)} bytes`);
  console.log(`  FIT files, gzipped    ${gzBytes.toLocaleString('en-US').padStart(14)} bytes`);
  console.log(`  Parquet objects       ${parquetBytes.toLocaleString('en-US').padStart(14)} bytes`);
  console.log(`  Parquet / FIT raw ${(parquetBytes / fitBytes).toFixed(3)}×, Parquet / FIT gzipped ${(parquetBytes / gzBytes).toFixed(3)}× (goal ≤ 0.4×)`);
}

/** CPU seconds (user + system) of this process's exited children (Linux /proc; 0 elsewhere). */
function childrenCpuSeconds(): number {
  const stat = readProc('/proc/self/stat');
  if (!stat) return 0;
  // Fields after the parenthesised command: state is field 3; cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** CPU seconds the whole machine has been busy (every CPU, every process) since boot. */
function machineCpuSeconds(): number {
  const line = readProc('/proc/stat')?.split('\n')[0];
  if (!line) return 0;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

/** USER_HZ, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dataDir, { recursive: true, force: true }));
