/**
 * What the command-line tools that work on one athlete share (npm run import, npm run reprocess):
 * the application context on the configured database, the athlete's owner, and how they fail.
 */
import { NestFactory } from '@nestjs/core';
import { eq } from 'drizzle-orm';
import { openConfiguredDatabase } from '../src/app.js';
import { AppModule } from '../src/app.module.js';
import { createLogger, PinoNestLogger } from '../src/common/logger.js';
import { ConfigError, type Env } from '../src/config/env.js';
import { DataDirLockedError } from '../src/database/data-dir-lock.mjs';
import { athletes } from '../src/database/schema/index.js';
import { seedCatalog } from '../src/database/seed.js';

/** Prints the message and ends the process (2: a usage or setup error). */
export function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

/** The database (migrated and seeded when DATABASE_MIGRATE is on), the Nest context on it, and the athlete's owner (fails when none). */
export async function openCliApp(env: Env, athleteId: string) {
  const database = openConfiguredDatabase(env);
  if (env.DATABASE_MIGRATE) {
    await database.migrate();
    await seedCatalog(database.db);
  }
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ env, database, ownsDatabase: true }), {
    logger: new PinoNestLogger(createLogger(env.LOG_LEVEL)),
    abortOnError: false,
  });
  const [athlete] = /^[0-9a-f-]{36}$/i.test(athleteId) ? await database.db.select({ userId: athletes.userId }).from(athletes).where(eq(athletes.id, athleteId)) : [];
  if (!athlete) {
    await app.close();
    fail(`No athlete ${athleteId} in the ${database.kind} database`);
  }
  return { app, database, userId: athlete.userId };
}

/** The tool's last word on an error: a configuration error or a held embedded database as it is, anything else prefixed. */
export function failed(tool: string) {
  return (error: unknown): never => {
    const plain = error instanceof ConfigError || error instanceof DataDirLockedError;
    fail(plain ? error.message : `${tool} failed: ${error instanceof Error ? error.message : String(error)}`);
  };
}
