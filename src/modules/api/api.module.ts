import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { ChangesModule } from '../changes/changes.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { ExportsModule } from '../exports/exports.module.js';
import { OriginalsModule } from '../originals/originals.module.js';
import { ReprocessModule } from '../reprocess/reprocess.module.js';
import { ImportsModule } from '../imports/imports.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { SyncModule } from '../sync/sync.module.js';
import { ApiService } from './api.service.js';

@Module({ imports: [AthletesModule, CatalogModule, ActivitiesModule, StreamsModule, SyncModule, ImportsModule, ConnectionsModule, ChangesModule, WebhooksModule, OriginalsModule, ExportsModule, ReprocessModule], providers: [ApiService], exports: [ApiService] })
export class ApiModule {}
