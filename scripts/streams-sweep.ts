/**
 * `npm run streams:sweep` reports stream objects no row points at (superseded versions and orphans)
 * and rows whose object is missing; `npm run streams:sweep -- --apply` drains the deletion outbox and
 * removes both. Objects younger than the grace period (`--grace-minutes=N`, default 10) are left
 * alone: they may belong to an upload in progress. Works one page of keys at a time, so memory stays
 * constant at any lake size. Uses the same configuration as the server.
 */
import { openConfiguredDatabase } from '../src/app.js';
import { ConfigError, parseEnv } from '../src/config/env.js';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { StreamObjectDrain } from '../src/modules/streams/stream-object-drain.js';
import { StreamsRepository } from '../src/modules/streams/streams.repository.js';
import { sweepStreams } from '../src/modules/streams/sweep.js';

const apply = process.argv.includes('--apply');
const graceArg = process.argv.find((arg) => arg.startsWith('--grace-minutes='));
const graceMs = graceArg ? Number(graceArg.split('=')[1]) * 60_000 : undefined;
try {
  if (graceMs !== undefined && !(graceMs >= 0)) throw new ConfigError('--grace-minutes', 'must be a number ≥ 0');
  const env = parseEnv();
  const database = openConfiguredDatabase(env);
  const store = createObjectStore(env);
  const repository = new StreamsRepository(database.db);
  const report = await sweepStreams(repository, store, { apply, graceMs, drain: new StreamObjectDrain(repository, store) });
  console.log(`Objects scanned: ${report.scanned}`);
  if (apply) console.log(`Queued deletions drained: ${report.drained}`);
  console.log(`Superseded versions (older than the grace period): ${report.superseded.count}`);
  for (const key of report.superseded.keys) console.log(`  ${key}`);
  console.log(`Orphan objects (no metadata row): ${report.orphans.count}`);
  for (const key of report.orphans.keys) console.log(`  ${key}`);
  console.log(`Rows whose object is missing: ${report.missingObjects.count}`);
  for (const row of report.missingObjects.rows) console.log(`  ${row.objectKey} (row ${row.id})`);
  console.log(apply ? 'Removed them.' : 'Dry run: nothing was changed. Run with --apply to remove them.');
  await store.close?.();
  await database.close();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Sweep failed: ${String(error)}`);
  process.exit(1);
}
