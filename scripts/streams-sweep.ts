/**
 * `npm run streams:sweep` reports stream objects without a metadata row and rows whose object is
 * missing; `npm run streams:sweep -- --apply` removes both. Uses the same configuration as the server.
 */
import { openConfiguredDatabase } from '../src/app.js';
import { ConfigError, parseEnv } from '../src/config/env.js';
import { StreamsRepository } from '../src/modules/streams/streams.repository.js';
import { createObjectStore } from '../src/modules/streams/storage/create-object-store.js';
import { sweepStreams } from '../src/modules/streams/sweep.js';

const apply = process.argv.includes('--apply');
try {
  const env = parseEnv();
  const database = openConfiguredDatabase(env);
  const store = createObjectStore(env);
  const report = await sweepStreams(new StreamsRepository(database.db), store, { apply });
  console.log(`Orphan objects (no metadata row): ${report.orphanObjects.length}`);
  for (const key of report.orphanObjects) console.log(`  ${key}`);
  console.log(`Rows whose object is missing: ${report.missingObjects.length}`);
  for (const row of report.missingObjects) console.log(`  ${row.objectKey} (row ${row.id})`);
  console.log(apply ? 'Removed them.' : 'Dry run: nothing was changed. Run with --apply to remove them.');
  await store.close?.();
  await database.close();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Sweep failed: ${String(error)}`);
  process.exit(1);
}
