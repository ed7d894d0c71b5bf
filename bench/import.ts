/**
 * `npm run bench:import` — CPU per imported file against the SDK's decode alone (issue 24).
 *
 * Data: the FIT files of a folder (default `../shared/corpus/fit`, or `--corpus DIR`: real device
 * files), or with `--generated N` N one-hour 1 Hz FIT files (heart rate, GPS, altitude, speed,
 * power, cadence) written with Garmin's own encoder (libs/testing/fit-builder.ts). `--rounds R`
 * (5); `--processes N` runs the whole bench in N fresh processes, one after the other, and prints
 * each one's figures and their medians (see acrossProcesses).
 *
 * Everything runs in this process on one thread, file after file, so that each step's CPU can be
 * read from process.cpuUsage() (every thread of the process: the main thread, libuv's pool where
 * brotli compresses the original, PGlite's WebAssembly on the main thread, the GC's threads) around
 * it. The parse pool runs inline (ParsePool `inline`): in the server and the CLI the same work runs
 * in a worker thread, which moves it off the event loop but does not change what it costs.
 *
 * Per file and round, measured one after the other on the same bytes:
 * - SDK decode: `@garmin/fitsdk` Decoder.read with the importer's options, nothing else (baseline);
 * - import: ImportsService.importLeaf for a fresh athlete (so nothing is skipped as a duplicate):
 *   sha256, duplicate check, decode, mapping, Parquet encoding, validation, original archived
 *   (brotli), activity rows, stream objects and rows;
 * - its split, each step timed on its own: decode (the SDK baseline above), stream mapping
 *   (parseFile minus the SDK decode: message grouping, records → typed samples, summaries, events),
 *   Parquet encoding (prepareStreams: validation, encoding, checksum, summary per stream), archive
 *   (encodeOriginal: brotli of the original), and database & the rest (import minus the steps
 *   before: rows, object writes, sha256 of the file, schema checks) by difference.
 * The SQL column counts the statements one import ran through Drizzle (DatabaseOptions.onQuery; not
 * BEGIN/COMMIT), in the warm-up round. Round 0 warms the JIT and is not counted; each figure is the median of the rounds per file, then
 * the median over the files. By default the rows go to the embedded PGlite, whose CPU is this
 * process's. With BENCH_DATABASE_URL they go to PostgreSQL (on this machine): the import's figure then
 * adds the CPU of the server's backends serving this database (/proc/PID/schedstat of each
 * pg_stat_activity row of the database but the bench's own, nanoseconds), so both runs count the
 * database's work.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Decoder, Stream } from '@garmin/fitsdk';
import { parquetStreamCodec } from '@unified-activity/parquet-streams';
import { eq } from 'drizzle-orm';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { benchEnv } from './bench-env.js';
import { databaseCpu, type DatabaseCpu } from './database-cpu.js';
import { openDatabase } from '../src/database/database.js';
import { athletes } from '../src/database/schema/index.js';
import { seedCatalog } from '../src/database/seed.js';
import { ImportsService, type ImportOwner } from '../src/modules/imports/imports.service.js';
import { ParsePool } from '../src/modules/imports/parse-pool.js';
import { FIT_DECODE_OPTIONS } from '../src/modules/imports/parsers/fit.js';
import { parseFile } from '../src/modules/imports/parsers/index.js';
import { prepareStreams } from '../src/modules/imports/prepare-streams.js';
import { encodeOriginal } from '../src/modules/streams/objects/original-encoding.js';
import { buildFitActivity } from '../libs/testing/fit-builder.js';

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', default: '../shared/corpus/fit' },
    generated: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    processes: { type: 'string', default: '1' },
  },
});
const ROUNDS = Number(args.rounds);
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const dataDir = mkdtempSync(join(tmpdir(), 'bench-import-'));


const STEPS = ['decode', 'mapping', 'parquet', 'archive', 'rest'] as const;
type Step = (typeof STEPS)[number];
const STEP_LABELS: Record<Step, string> = {
  decode: 'decode (@garmin/fitsdk)',
  mapping: 'stream mapping (parser → samples, summaries, events)',
  parquet: 'Parquet encoding (validation, encoding, checksum)',
  archive: 'archive (brotli of the original)',
  rest: 'database, object store & the rest (by difference)',
};

interface FileInput {
  name: string;
  bytes: Uint8Array;
}

const env = () => benchEnv(dataDir, DATABASE_URL);

function inputs(): FileInput[] {
  if (args.generated !== undefined) {
    const count = Number(args.generated);
    return Array.from({ length: count }, (_, i) => ({
      name: `generated-${i}.fit`,
      bytes: buildFitActivity({
        sport: i % 2 ? 'cycling' : 'running',
        startTime: new Date(Date.UTC(2023, 0, 1) + i * 86_400_000),
        seconds: 3600,
        laps: 4,
        channels: { heartRate: true, position: true, altitude: true, speed: true, power: true, cadence: true },
        origin: { latitudeDeg: 46 + (i % 20) * 0.1, longitudeDeg: 7 + (i % 13) * 0.1 },
      }),
    }));
  }
  const folder = resolve(args.corpus);
  return readdirSync(folder)
    .filter((name) => name.toLowerCase().endsWith('.fit'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(folder, name))) }));
}

/**
 * CPU milliseconds (user + system, every thread of this process) that `work` took, including what it
 * left running after it answered (the stream drain's look at the deletion outbox after a row swap):
 * the clock stops after a pause in which the process has nothing else to do. The pause before
 * keeps the previous step's leftovers out.
 */
async function cpuMs(work: () => unknown, database?: DatabaseCpu): Promise<number> {
  await settle();
  const backends = database ? await database.backends() : [];
  const databaseBefore = database ? database.cpuMs(backends) : 0;
  const before = process.cpuUsage();
  await work();
  await settle();
  const used = process.cpuUsage(before);
  const databaseUsed = database ? database.cpuMs(backends) - databaseBefore : 0;
  return (used.user + used.system) / 1000 + databaseUsed;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 25));

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main() {
  const files = inputs();
  if (files.length === 0) throw new Error('no FIT files to import');
  // Statements per file: counted once, in the warm-up round (the same each round).
  let statements = 0;
  const onQuery = () => void statements++;
  const serverCpu = DATABASE_URL ? databaseCpu(DATABASE_URL) : undefined;
  const database = DATABASE_URL ? openDatabase({ url: DATABASE_URL, onQuery }) : openDatabase({ pgliteDir: join(dataDir, 'pglite'), onQuery });
  await database.migrate();
  await seedCatalog(database.db);
  const app = await createApp(env(), { database });
  const imports = app.get(ImportsService);
  const pool = new ParsePool({ inline: true });

  // One athlete per round: a file is imported once per athlete (the second time it is a duplicate).
  const owners: ImportOwner[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const email = `bench-import-${Date.now()}-${round}@example.test`;
    const signUp = await request(app.getHttpServer()).post('/api/auth/sign-up/email').send({ name: 'Bench', email, password: 'bench-password-123' });
    const token = signUp.headers['set-auth-token'] as string;
    const listed = await request(app.getHttpServer()).get('/api/v1/athletes').set({ authorization: `Bearer ${token}` });
    const athleteId = listed.body.items[0].id as string;
    const [row] = await database.db.select({ userId: athletes.userId }).from(athletes).where(eq(athletes.id, athleteId));
    owners.push({ userId: row!.userId, athleteId });
  }

  console.log(
    `${files.length} FIT files, ${ROUNDS} rounds after a warm-up round; ${DATABASE_URL ? "PostgreSQL (the import's CPU includes its backends')" : 'embedded PGlite'}, local object store`,
  );
  const statementsPerFile = files.map(() => 0);
  const perFile = files.map(() => ({ decode: [] as number[], parse: [] as number[], parquet: [] as number[], archive: [] as number[], total: [] as number[] }));
  const statuses = new Map<string, number>();
  let samples = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [index, file] of files.entries()) {
      const decode = await cpuMs(() => new Decoder(Stream.fromByteArray(file.bytes)).read(FIT_DECODE_OPTIONS));
      let parsed: ReturnType<typeof parseFile> | undefined;
      const parse = await cpuMs(() => {
        try {
          parsed = parseFile(file.bytes, file.name);
        } catch {
          parsed = undefined; // rejected: its import costs what it costs, with no streams to encode
        }
      });
      // The codec remembers the pages it compressed last (an activity's streams share their timestamp
      // pages): each step that encodes starts with an empty memory, as an import of another file does.
      parquetStreamCodec.forgetRecentPages();
      const parquet = parsed ? await cpuMs(() => prepareStreams(parsed!.activities)) : 0;
      parquetStreamCodec.forgetRecentPages();
      const archive = await cpuMs(() => encodeOriginal(file.bytes));
      let status = '';
      await settle();
      statements = 0;
      const total = await cpuMs(async () => {
        const result = await imports.importLeaf(owners[round]!, { kind: 'file', name: file.name, bytes: file.bytes }, pool);
        status = result.status;
        if (round === 0) samples += result.sampleCount;
      }, serverCpu);
      if (round === 0) {
        statementsPerFile[index] = statements;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        continue;
      }
      const times = perFile[index]!;
      times.decode.push(decode);
      times.parse.push(parse);
      times.parquet.push(parquet);
      times.archive.push(archive);
      times.total.push(total);
    }
  }
  await pool.close();
  await app.close();
  await database.close();
  await serverCpu?.close();

  const rows = files.map((file, index) => {
    const times = perFile[index]!;
    const decode = median(times.decode);
    const total = median(times.total);
    const parse = median(times.parse);
    const parquet = median(times.parquet);
    const archive = median(times.archive);
    const split: Record<Step, number> = { decode, mapping: parse - decode, parquet, archive, rest: total - parse - parquet - archive };
    return { file, decode, total, ratio: total / decode, split, statements: statementsPerFile[index]! };
  });
  console.log(`Files: ${[...statuses].map(([status, n]) => `${n} ${status}`).join(', ')}; ${samples.toLocaleString('en-US')} stream samples stored per round\n`);
  console.log(`  ${'file'.padEnd(34)} ${'KB'.padStart(6)} ${'decode ms'.padStart(10)} ${'import ms'.padStart(10)} ${'ratio'.padStart(6)} ${'SQL'.padStart(4)}`);
  for (const row of rows) {
    const name = row.file.name.length > 34 ? `${row.file.name.slice(0, 31)}…` : row.file.name;
    console.log(
      `  ${name.padEnd(34)} ${(row.file.bytes.byteLength / 1024).toFixed(0).padStart(6)} ${row.decode.toFixed(2).padStart(10)} ${row.total.toFixed(2).padStart(10)} ${row.ratio.toFixed(2).padStart(6)} ${String(row.statements).padStart(4)}`,
    );
  }
  const decodeMedian = median(rows.map((r) => r.decode));
  const importMedian = median(rows.map((r) => r.total));
  const ratioMedian = median(rows.map((r) => r.ratio));
  console.log(`\n  Median over ${rows.length} files: SDK decode ${decodeMedian.toFixed(2)} ms, import ${importMedian.toFixed(2)} ms of CPU per file`);
  console.log(`  Import / decode: ${(importMedian / decodeMedian).toFixed(2)}× (medians), median of the per-file ratios ${ratioMedian.toFixed(2)}× (goal ≤ 3×)`);
  const summary: ProcessSummary = { decode: decodeMedian, import: importMedian, ratio: importMedian / decodeMedian, perFileRatio: ratioMedian };
  if (process.env.BENCH_IMPORT_CHILD === '1') console.log(`${SUMMARY_PREFIX}${JSON.stringify(summary)}`);
  console.log(`  SQL statements per file (Drizzle's, without BEGIN/COMMIT): median ${median(rows.map((r) => r.statements))}, ${Math.min(...rows.map((r) => r.statements))}–${Math.max(...rows.map((r) => r.statements))}`);
  console.log('\n  Where an import\'s CPU goes (median over the files of each step; steps timed separately, so they need not add up exactly):');
  const totals = Object.fromEntries(STEPS.map((step) => [step, rows.reduce((n, r) => n + r.split[step], 0)])) as Record<Step, number>;
  const sum = STEPS.reduce((n, step) => n + totals[step], 0);
  console.log(`  ${'step'.padEnd(52)} ${'median ms'.padStart(10)} ${'share'.padStart(7)}`);
  for (const step of STEPS) {
    const share = (totals[step] / sum) * 100;
    console.log(`  ${STEP_LABELS[step].padEnd(52)} ${median(rows.map((r) => r.split[step])).toFixed(2).padStart(10)} ${`${share.toFixed(0)} %`.padStart(7)}`);
  }
  console.log('  (share: of the CPU summed over every file)');
}

interface ProcessSummary {
  decode: number;
  import: number;
  ratio: number;
  perFileRatio: number;
}

const SUMMARY_PREFIX = 'bench:import summary ';

/**
 * `--processes N`: the whole bench in N fresh processes, one after the other, and the median of
 * their figures. A short decode runs at one of two speeds depending on how V8 compiled the decoder
 * in that process (the median file: 7.8 or 10.6 ms in six fresh processes, docs/benchmarks.md), so
 * one process's ratio cannot resolve a change of a few per cent; the median over processes can.
 */
async function acrossProcesses(count: number): Promise<void> {
  const summaries: ProcessSummary[] = [];
  for (let run = 1; run <= count; run++) {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2), '--processes', '1'], {
        env: { ...process.env, BENCH_IMPORT_CHILD: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`run ${run} exited with ${code}`))));
    });
    const line = output.split('\n').find((text) => text.startsWith(SUMMARY_PREFIX));
    if (!line) throw new Error(`run ${run} printed no summary`);
    const summary = JSON.parse(line.slice(SUMMARY_PREFIX.length)) as ProcessSummary;
    summaries.push(summary);
    console.log(
      `  process ${run}: SDK decode ${summary.decode.toFixed(2)} ms, import ${summary.import.toFixed(2)} ms, ` +
        `import / decode ${summary.ratio.toFixed(2)}× (medians), median of the per-file ratios ${summary.perFileRatio.toFixed(2)}×`,
    );
  }
  const of = (pick: (summary: ProcessSummary) => number) => median(summaries.map(pick));
  console.log(
    `\n  Median over ${count} processes: SDK decode ${of((s) => s.decode).toFixed(2)} ms, import ${of((s) => s.import).toFixed(2)} ms; ` +
      `import / decode ${of((s) => s.ratio).toFixed(2)}× (${Math.min(...summaries.map((s) => s.ratio)).toFixed(2)}–${Math.max(...summaries.map((s) => s.ratio)).toFixed(2)}), ` +
      `median of the per-file ratios ${of((s) => s.perFileRatio).toFixed(2)}× (goal ≤ 3×)`,
  );
}

const processes = Number(args.processes);
(processes > 1 ? acrossProcesses(processes) : main())
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dataDir, { recursive: true, force: true }));
