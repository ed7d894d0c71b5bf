import { openDatabase, type DatabaseHandle } from '../../src/database/database.js';
import { seedCatalog } from '../../src/database/seed.js';

/**
 * Tests run against real PostgreSQL when TEST_DATABASE_URL is set (CI does this), and otherwise
 * against an embedded in-memory PGlite database — one per test file, since each instance costs
 * ~3.5 s to start. Either way the committed migrations are applied through the app's own code.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export function openTestDatabase(): Promise<DatabaseHandle> {
  return prepared(TEST_DATABASE_URL ? openDatabase({ url: TEST_DATABASE_URL, maxConnections: 5 }) : openDatabase({}));
}

/** The committed migrations applied through the app's own code, then the catalog. */
async function prepared(database: DatabaseHandle): Promise<DatabaseHandle> {
  await database.migrate();
  await seedCatalog(database.db);
  return database;
}

/**
 * A database of the test's own (in-memory PGlite), whatever TEST_DATABASE_URL says: for a test of
 * what the app does to every row of a table at boot or in the background (sealing every webhook
 * secret, an idle dispatcher's rounds), which other test files' apps, booting beside it on the
 * shared database, would otherwise do to its rows too.
 */
export function openIsolatedDatabase(): Promise<DatabaseHandle> {
  return prepared(openDatabase({}));
}
