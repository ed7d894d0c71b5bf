import 'reflect-metadata';
import { join, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { createLogger, PinoNestLogger } from './common/logger.js';
import { registerSecurityHeaders } from './common/security.js';
import type { Env } from './config/env.js';
import { initialiseEmbeddedDataDir, openDatabase, type DatabaseHandle } from './database/database.js';
import { seedCatalog } from './database/seed.js';
import { ApiService } from './modules/api/api.service.js';
import type { MappingTweaks } from './modules/imports/mapping-tweaks.js';
import { answerFrameworkError, answerMalformedHttp } from './modules/api/errors.js';

export interface CreateAppOptions {
  /** An already-open database (tests share one per file); the app then does not close it. */
  database?: DatabaseHandle;
  logger?: Logger;
  /** Tests only: the injection point for a change of parsing or mapping (MappingTweaks, used to test reprocessing). */
  mappingTweaks?: MappingTweaks;
}

/** Opens the database the configuration names: Postgres with DATABASE_URL, else PGlite under DATA_DIR. */
export function openConfiguredDatabase(env: Env): DatabaseHandle {
  return env.DATABASE_URL
    ? openDatabase({ url: env.DATABASE_URL })
    : openDatabase({ pgliteDir: join(resolve(env.DATA_DIR), 'pglite'), pgliteSharedBuffers: env.PGLITE_SHARED_BUFFERS });
}

/**
 * Builds the whole application exactly as production runs it; tests call this too (through
 * test/setup/app.ts), so there is one bootstrap path.
 */
export async function createApp(env: Env, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger(env.LOG_LEVEL);
  // A first boot creates the embedded database with a PGlite instance of its own, closed before the
  // server's opens it: initdb's memory is then not held for the life of the process (README, "Footprint").
  if (!options.database && !env.DATABASE_URL) await initialiseEmbeddedDataDir(join(resolve(env.DATA_DIR), 'pglite'), env.PGLITE_SHARED_BUFFERS);
  const database = options.database ?? openConfiguredDatabase(env);
  if (!options.database && env.DATABASE_MIGRATE) {
    await database.migrate();
    await seedCatalog(database.db);
  }

  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    clientErrorHandler: answerMalformedHttp,
    frameworkErrors: answerFrameworkError,
    // TRUST_PROXY: behind a load balancer, request.ip (rate limits, session IPs) is the client's.
    trustProxy: env.TRUST_PROXY,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ env, database, ownsDatabase: !options.database, mappingTweaks: options.mappingTweaks }),
    adapter,
    { logger: new PinoNestLogger(logger), abortOnError: false },
  );
  app.enableShutdownHooks();
  await registerSecurityHeaders(app.getHttpAdapter().getInstance(), { mapTileUrl: env.MAP_TILE_URL });
  await app.get(ApiService).mount(app.getHttpAdapter().getInstance());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
