/** `npm run db:seed`: applies migrations, then loads the activity-type catalog into the configured database. */
import { openConfiguredDatabase } from '../src/app.js';
import { ConfigError, parseEnv } from '../src/config/env.js';
import { seedCatalog } from '../src/database/seed.js';

try {
  const env = parseEnv();
  const database = openConfiguredDatabase(env);
  await database.migrate();
  const count = await seedCatalog(database.db);
  await database.close();
  console.log(`Seeded ${count} activity types into the ${database.kind} database.`);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Seed failed: ${String(error)}`);
  process.exit(1);
}
