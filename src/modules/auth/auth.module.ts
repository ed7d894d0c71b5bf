import { Global, Inject, Logger, Module } from '@nestjs/common';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import type { Database } from '../../database/database.js';
import { DRIZZLE } from '../../database/database.module.js';
import { createAuth, resolveAuthSecret, type Auth } from './auth.js';

export const AUTH = Symbol('AUTH');
export const InjectAuth = () => Inject(AUTH);

/** Provides the better-auth instance, on the same Drizzle database as everything else. */
@Global()
@Module({
  providers: [
    {
      provide: AUTH,
      inject: [ENV, DRIZZLE],
      useFactory: (env: Env, db: Database): Auth =>
        createAuth(env, db, resolveAuthSecret(env, (message) => new Logger('Auth').warn(message))),
    },
  ],
  exports: [AUTH],
})
export class AuthModule {}
