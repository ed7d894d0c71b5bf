import { Logger, Module } from '@nestjs/common';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { ConnectionsRepository } from './connections.repository.js';
import { ConnectionsRouter } from './connections.router.js';
import { ConnectionsService } from './connections.service.js';
import { resolveTokenCipher, TokenCipher } from './token-cipher.js';

/** ConnectionProvider connections (Strava, Garmin): OAuth, sealed tokens, disconnecting. */
@Module({
  imports: [AthletesModule, ActivitiesModule],
  providers: [
    ConnectionsRepository,
    ConnectionsService,
    ConnectionsRouter,
    { provide: TokenCipher, inject: [ENV], useFactory: (env: Env) => resolveTokenCipher(env, (message) => new Logger('Connections').warn(message)) },
  ],
  exports: [ConnectionsRouter, ConnectionsService],
})
export class ConnectionsModule {}
