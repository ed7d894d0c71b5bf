/**
 * `npm run streams:sweep` reports stream objects in an older physical layout than their type's
 * current schema, stream objects no row points at (superseded versions and orphans) and rows whose
 * object is missing; `npm run streams:sweep -- --apply` rewrites the old-layout objects in the current
 * schema (through the one write path: new object, row swap, old object through the outbox), drains
 * the deletion outbox and removes both kinds of strays. It also compresses the archived originals
 * stored before originals were compressed (new object, pointer switch, old one through the outbox).
 * A second run changes nothing. Objects younger than the grace period (`--grace-minutes=N`, default
 * 10) are left alone: they may belong to an upload in progress. Works one page of keys at a time, so memory stays
 * constant at any lake size. Uses the same configuration as the server.
 */
import { openConfiguredDatabase } from '../src/app.js';
import { ConfigError, parseEnv } from '../src/config/env.js';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { StreamObjectDrain } from '../src/modules/streams/objects/stream-object-drain.js';
import { StreamVersionWriter } from '../src/modules/streams/objects/stream-version-writer.js';
import { StreamWorkerPool } from '../src/modules/streams/stream-worker-pool.js';
import { StreamsRepository } from '../src/modules/streams/streams.repository.js';
import { ArchivedOriginalsRepository } from '../src/modules/streams/archived-originals.repository.js';
import { sweepStreams } from '../src/modules/streams/objects/sweep.js';

const apply = process.argv.includes('--apply');
const graceArg = process.argv.find((arg) => arg.startsWith('--grace-minutes='));
const graceMs = graceArg ? Number(graceArg.split('=')[1]) * 60_000 : undefined;
try {
  if (graceMs !== undefined && !(graceMs >= 0)) throw new ConfigError('--grace-minutes', 'must be a number ≥ 0');
  const env = parseEnv();
  const database = openConfiguredDatabase(env);
  const store = createObjectStore(env);
  const repository = new StreamsRepository(database.db);
  const drain = new StreamObjectDrain(repository, store);
  const pool = new StreamWorkerPool();
  const report = await sweepStreams(repository, store, {
    apply,
    graceMs,
    drain,
    upgrade: { writer: new StreamVersionWriter(repository, store, drain), reencode: (task) => pool.prepareUpload(task) },
    originals: new ArchivedOriginalsRepository(database.db),
  });
  await pool.close();
  const { upgrade } = report;
  console.log(`Objects in an older schema: ${upgrade.outdated}`);
  if (apply) console.log(`  rewritten in the current schema: ${upgrade.rewritten}; replaced meanwhile by an upload: ${upgrade.changedMeanwhile}`);
  if (upgrade.skipped.count > 0) console.log(`  left as they are: ${upgrade.skipped.count}`);
  for (const row of upgrade.skipped.rows) console.log(`    ${row.objectKey} (row ${row.id}): ${row.reason}`);
  const { originals } = report;
  console.log(`Archived originals stored uncompressed: ${originals.uncompressed} that activities point at, ${originals.unreferenced} that none does`);
  if (apply) console.log(`  compressed: ${originals.compressed + originals.unreferenced}`);
  if (originals.skipped.count > 0) console.log(`  left as they are: ${originals.skipped.count}`);
  for (const skipped of originals.skipped.keys) console.log(`    ${skipped.key}: ${skipped.reason}`);
  console.log(`Objects scanned: ${report.scanned}`);
  if (apply) console.log(`Queued deletions drained: ${report.drained}`);
  console.log(`Superseded versions (older than the grace period): ${report.superseded.count}`);
  for (const key of report.superseded.keys) console.log(`  ${key}`);
  console.log(`Orphan objects (no metadata row): ${report.orphans.count}`);
  for (const key of report.orphans.keys) console.log(`  ${key}`);
  console.log(`Rows whose object is missing: ${report.missingObjects.count}`);
  for (const row of report.missingObjects.rows) console.log(`  ${row.objectKey} (row ${row.id})`);
  if (report.missingObjects.kept > 0) {
    console.log(`  of which ${report.missingObjects.kept} are kept, not listed: the store holds no object of their athletes (is it the database's bucket or folder?)`);
  }
  console.log(apply ? 'Rewrote and removed them.' : 'Dry run: nothing was changed. Run with --apply to rewrite and remove them.');
  await store.close?.();
  await database.close();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Sweep failed: ${String(error)}`);
  process.exit(1);
}
