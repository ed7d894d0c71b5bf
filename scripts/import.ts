/**
 * `npm run import -- <files, folders or zips> --athlete <id> [--jobs N] [--report results.json]`
 *
 * Imports FIT/GPX/TCX files (plain, gzipped, zipped), whole folders and Apple Health exports into
 * the configured database (DATABASE_URL, or the embedded one under DATA_DIR) through the same
 * services as the API. Several files are processed at once, with decoding in worker threads.
 * Ctrl-C stops after the files in hand; running the same command again skips what is already
 * imported (by the files' SHA-256). Exits 1 when any file was rejected.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEnv } from '../src/config/env.js';
import type { ImportFileResult } from '@unified-activity/contract';
import { ImportsService, summarise } from '../src/modules/imports/imports.service.js';
import { ParsePool } from '../src/modules/imports/parse-pool.js';
import { unpack, type Leaf } from '../src/modules/imports/unpack.js';
import { failed, fail, openCliApp } from './cli-app.js';
import { progressBar } from './progress-bar.js';

const USAGE = 'Usage: npm run import -- <files, folders or zips…> --athlete <athlete id> [--jobs N] [--report results.json]';


async function countFiles(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 1;
  if (!info.isDirectory()) return 1;
  let count = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (!entry.name.startsWith('.')) count += await countFiles(join(path, entry.name));
  }
  return count;
}

const formatCount = (n: number) => n.toLocaleString('en-US');

function printSummary(results: ImportFileResult[], seconds: number, interrupted: boolean) {
  const summary = summarise(results);
  const rows: [string, string][] = [
    ['Files', formatCount(results.length)],
    ['  created', formatCount(summary.created)],
    ['  skipped (already imported)', formatCount(summary.skipped)],
    ['  rejected', formatCount(summary.rejected)],
    ['Activities created', formatCount(summary.activities)],
    ['Samples stored', formatCount(summary.samples)],
    ['Time', `${seconds.toFixed(1)} s`],
    ['Files/s', (results.length / Math.max(seconds, 1e-9)).toFixed(2)],
    ['Samples/s', formatCount(Math.round(summary.samples / Math.max(seconds, 1e-9)))],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\n${interrupted ? 'Import interrupted' : 'Import finished'}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value.padStart(12)}`);
  const rejected = results.filter((r) => r.status === 'rejected');
  if (rejected.length > 0) {
    console.log('\nRejected files:');
    for (const r of rejected) console.log(`  ${r.fileName}: ${r.reason}`);
  }
  const warned = results.filter((r) => r.warnings.length > 0);
  if (warned.length > 0) console.log(`\n${warned.length} file(s) imported with warnings (see --report for the full list).`);
  if (interrupted) console.log('\nRun the same command again to continue: imported files are skipped.');
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      athlete: { type: 'string' },
      jobs: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) fail(USAGE, 0);
  if (!values.athlete || positionals.length === 0) fail(USAGE);
  // Files in flight. Decoding and encoding use one worker thread per CPU; the rest of a file's time is
  // waiting on storage (fsyncs, row writes), so several files per CPU keep the workers busy.
  const jobs = values.jobs ? Number(values.jobs) : Math.min(64, 4 * Math.max(1, availableParallelism()));
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) fail('--jobs must be a whole number from 1 to 64');

  // This process imports the given files only; it takes no server jobs from the queue.
  const env = parseEnv({ LOG_LEVEL: 'warn', ...process.env, IMPORT_WORKERS: '0' });
  // The workers load the parsers and the codec while the database and Nest start.
  const pool = new ParsePool({ threads: Math.min(jobs, Math.max(1, availableParallelism())), eager: true, heapMb: env.PARSE_THREAD_HEAP_MB || undefined });
  const { app, userId } = await openCliApp(env, values.athlete);
  try {
    const owner = { userId: userId, athleteId: values.athlete };
    const imports = app.get(ImportsService);

    let total = 0;
    for (const path of positionals) total += await countFiles(resolve(path));
    const bar = progressBar('{value}/{total} files | {activities} activities | {samples} samples | {rate} files/s');
    bar.start(total, 0, { activities: 0, samples: '0', rate: '0.0' });

    let interrupted = false;
    process.once('SIGINT', () => {
      interrupted = true;
    });
    const leaves = (async function* (): AsyncGenerator<Leaf> {
      for (const path of positionals) yield* unpack({ name: path, path: resolve(path) });
    })();
    const results: ImportFileResult[] = [];
    const started = performance.now();
    let activities = 0;
    let samples = 0;
    // Async generators queue concurrent next() calls, so the runners share one walk of the inputs.
    const runner = async () => {
      while (!interrupted) {
        const next = await leaves.next();
        if (next.done) return;
        const result = await imports.importLeaf(owner, next.value, pool);
        results.push(result);
        activities += result.activityIds.length;
        samples += result.sampleCount;
        if (results.length > total) bar.setTotal(results.length);
        const seconds = (performance.now() - started) / 1000;
        bar.update(results.length, { activities, samples: formatCount(samples), rate: (results.length / seconds).toFixed(1) });
      }
    };
    await Promise.all(Array.from({ length: jobs }, runner));
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    printSummary(results, seconds, interrupted);
    if (values.report) writeFileSync(values.report, JSON.stringify({ seconds, summary: summarise(results), files: results }, null, 2));
    process.exitCode = interrupted ? 130 : results.some((r) => r.status === 'rejected') ? 1 : 0;
  } finally {
    await pool.close();
    await app.close();
  }
}

main().catch(failed('Import'));
