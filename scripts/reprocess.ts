/**
 * `npm run reprocess -- --athlete <id> [--dry-run] [--source file,strava] [--since 2025-01-01T00:00:00Z] [--report result.json]`
 *
 * Derives every activity of the athlete again from its archived original with today's parsers and
 * mappers (README "Reprocess"), in this process, through the same service as the API's job. With
 * --dry-run nothing is written: the summary says what would change. Exits 1 when an activity's
 * original no longer derives (the reasons are printed).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ACTIVITY_SOURCES, DateTimeInputSchema, type ActivitySource, type ReprocessResult } from '@unified-activity/contract';
import { parseEnv } from '../src/config/env.js';
import { ReprocessService } from '../src/modules/reprocess/reprocess.service.js';
import { failed, fail, openCliApp } from './cli-app.js';
import { progressBar } from './progress-bar.js';

const USAGE =
  'Usage: npm run reprocess -- --athlete <athlete id> [--dry-run] [--source file,healthkit,strava,garmin,health_connect] [--since <ISO 8601 date-time>] [--report result.json]';


const formatCount = (n: number) => n.toLocaleString('en-US');

function printSummary(result: ReprocessResult, seconds: number, dryRun: boolean) {
  const rows: [string, string][] = [
    ['Unchanged', formatCount(result.unchanged)],
    [dryRun ? 'Would be updated' : 'Updated', formatCount(result.updated)],
    [dryRun ? 'Would be created (rejected files that parse now)' : 'Created (rejected files that parse now)', formatCount(result.created)],
    ['Failed (original no longer derives; left as is)', formatCount(result.failed)],
    ['Rejected files still unreadable', formatCount(result.stillRejected)],
    ['Skipped (not re-derivable)', formatCount(result.skipped)],
    ['Time', `${seconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\n${dryRun ? 'Reprocess dry run finished (nothing written)' : 'Reprocess finished'}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value.padStart(12)}`);
  if (result.changes.length > 0) {
    console.log(`\n${dryRun ? 'Would change' : 'Changed'}:`);
    for (const change of result.changes.slice(0, 50)) {
      const what = [...change.fields, ...change.streams.map((stream) => `stream ${stream}`)].join(', ');
      console.log(`  ${change.activityId ?? `(new, from ${change.sha256.slice(0, 12)}…)`}: ${change.outcome}${what ? ` (${what})` : ''}`);
    }
    if (result.changes.length > 50) console.log(`  … and ${result.updated + result.created - 50} more (see --report)`);
  }
  if (result.failures.length > 0) {
    console.log('\nFailed:');
    for (const failure of result.failures) console.log(`  ${failure.activityId ?? failure.sha256}: ${failure.reason}`);
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      athlete: { type: 'string' },
      'dry-run': { type: 'boolean' },
      source: { type: 'string' },
      since: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) fail(USAGE, 0);
  if (!values.athlete) fail(USAGE);
  const sources = values.source?.split(',').map((source) => source.trim());
  const unknown = sources?.filter((source) => !(ACTIVITY_SOURCES as readonly string[]).includes(source));
  if (unknown && unknown.length > 0) fail(`Unknown source(s): ${unknown.join(', ')}; one of ${ACTIVITY_SOURCES.join(', ')}`);
  const since = values.since === undefined ? undefined : DateTimeInputSchema.safeParse(values.since);
  if (since && !since.success) fail(`--since: ${since.error.issues[0]!.message}`);
  const dryRun = values['dry-run'] === true;

  // This process reprocesses the one athlete; it takes no server jobs from the queue.
  const env = parseEnv({ LOG_LEVEL: 'warn', ...process.env, IMPORT_WORKERS: '0' });
  const { app, userId } = await openCliApp(env, values.athlete);
  try {
    const bar = progressBar('{value}/{total} originals | {unchanged} unchanged | {updated} updated | {created} created | {failed} failed');
    const started = performance.now();
    let barStarted = false;
    const result = await app.get(ReprocessService).reprocessAthlete(
      { userId: userId, athleteId: values.athlete },
      { ...(sources ? { sources: sources as ActivitySource[] } : {}), ...(since?.success ? { since: since.data } : {}), dryRun },
      (done, total, partial) => {
        const counts = { unchanged: partial.unchanged, updated: partial.updated, created: partial.created, failed: partial.failed };
        if (!barStarted) {
          bar.start(total, done, counts);
          barStarted = true;
        } else bar.update(done, counts);
      },
    );
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    printSummary(result, seconds, dryRun);
    if (values.report) writeFileSync(values.report, JSON.stringify({ seconds, dryRun, result }, null, 2));
    process.exitCode = result.failed > 0 ? 1 : 0;
  } finally {
    await app.close();
  }
}

main().catch(failed('Reprocess'));
