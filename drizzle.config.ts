import { defineConfig } from 'drizzle-kit';

/**
 * drizzle-kit reads DATABASE_URL directly (it runs outside the app, see README "Database").
 * Without it, the commands target the embedded PGlite database under DATA_DIR.
 */
const url = process.env.DATABASE_URL;
const dataDir = process.env.DATA_DIR ?? './data';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/database/schema/index.ts',
  out: './src/database/migrations',
  verbose: false,
  ...(url ? { dbCredentials: { url } } : { driver: 'pglite', dbCredentials: { url: `${dataDir}/pglite` } }),
});
