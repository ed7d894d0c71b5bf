import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { RawArchive } from './raw-archive.js';
import { SyncRepository } from './sync.repository.js';
import { SyncRouter } from './sync.router.js';
import { SyncService } from './sync.service.js';

/** Sync states and batch ingest; orchestrates activities and streams through their services. */
@Module({
  imports: [AthletesModule, ActivitiesModule, StreamsModule],
  providers: [SyncRepository, SyncService, SyncRouter, RawArchive],
  exports: [SyncRouter, RawArchive, SyncService],
})
export class SyncModule {}
