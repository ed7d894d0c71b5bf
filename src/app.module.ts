import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from './config/config.module.js';
import type { Env } from './config/env.js';
import type { DatabaseHandle } from './database/database.js';
import { DatabaseModule } from './database/database.module.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { ApiModule } from './modules/api/api.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { HealthModule } from './modules/health/health.module.js';

export interface AppModuleOptions {
  env: Env;
  database: DatabaseHandle;
  ownsDatabase: boolean;
}

@Module({})
export class AppModule {
  static forRoot({ env, database, ownsDatabase }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        DatabaseModule.forRoot(database, { closeOnShutdown: ownsDatabase }),
        AuthModule,
        HealthModule,
        ApiModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
