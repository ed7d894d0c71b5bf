import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { CryptoModule } from '../crypto/crypto.module.js';
import { ImportsModule } from '../imports/imports.module.js';
import { SyncModule } from '../sync/sync.module.js';
import { ACCESS_TOKENS } from './access-tokens.js';
import { ProviderQueue } from './backfill/provider-queue.js';
import { ProviderSyncService } from './backfill/provider-sync.service.js';
import { RateBudget } from './backfill/rate-budget.js';
import { SyncItemsRepository } from './backfill/sync-items.repository.js';
import { ConnectionsRepository } from './connections.repository.js';
import { ConnectionsRouter } from './connections.router.js';
import { ConnectionsService } from './connections.service.js';
import { GarminBackfill } from './garmin/garmin-backfill.js';
import { GarminBackfillQueue } from './garmin/garmin-backfill-queue.js';
import { GarminPushes } from './garmin/garmin-pushes.js';
import { ProviderWebhooksRouter } from './garmin/garmin-webhooks.router.js';
import { GarminRepository } from './garmin/garmin.repository.js';
import { StravaApi } from './strava/strava-api.js';
import { StravaSync } from './strava/strava-sync.js';
import { StravaWebhooks } from './strava/strava-webhooks.js';

/** ConnectionProvider connections (Strava, Garmin): OAuth, sealed tokens, disconnecting; Garmin pushes and backfill (./garmin). */
@Module({
  imports: [AthletesModule, ActivitiesModule, SyncModule, ImportsModule, CryptoModule],
  providers: [
    ConnectionsRepository,
    // Provider work (backfill/): the shared rate budget, the work rows, the pg-boss wake-ups.
    RateBudget,
    SyncItemsRepository,
    ProviderQueue,
    ProviderSyncService,
    // Strava (strava/): API reads, backfill and webhook events.
    StravaApi,
    StravaSync,
    StravaWebhooks,
    ConnectionsService,
    { provide: ACCESS_TOKENS, useExisting: ConnectionsService },
    ConnectionsRouter,
    GarminRepository,
    GarminBackfillQueue,
    GarminBackfill,
    GarminPushes,
    ProviderWebhooksRouter,
  ],
  exports: [ConnectionsRouter, ConnectionsService, ProviderWebhooksRouter, ProviderSyncService, RateBudget],
})
export class ConnectionsModule {}
