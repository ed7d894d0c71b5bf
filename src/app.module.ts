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
import { MappingTweaksModule, type MappingTweaks } from './modules/imports/mapping-tweaks.js';

export interface AppModuleOptions {
  env: Env;
  database: DatabaseHandle;
  ownsDatabase: boolean;
  /** Tests only: changes of parsing and mapping (MappingTweaks); none in production. */
  mappingTweaks?: MappingTweaks;
}

@Module({})
export class AppModule {
  static forRoot({ env, database, ownsDatabase, mappingTweaks }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        DatabaseModule.forRoot(database, { closeOnShutdown: ownsDatabase }),
        MappingTweaksModule.forRoot(mappingTweaks),
        AuthModule,
        HealthModule,
        ApiModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
