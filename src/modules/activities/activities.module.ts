import { Module } from '@nestjs/common';
import { AthletesModule } from '../athletes/athletes.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { StreamMetadataModule } from '../streams/stream-metadata.module.js';
import { ActivitiesRepository } from './activities.repository.js';
import { ActivitiesRouter } from './activities.router.js';
import { ActivitiesService } from './activities.service.js';
import { ActivityIngestRepository } from './activity-ingest.repository.js';
import { ActivityTimelineQuery } from './activity-timeline.query.js';
import { DuplicatesModule } from './duplicates/duplicates.module.js';

@Module({
  imports: [AthletesModule, CatalogModule, StreamMetadataModule, DuplicatesModule],
  providers: [ActivitiesRepository, ActivityTimelineQuery, ActivityIngestRepository, ActivitiesService, ActivitiesRouter],
  exports: [ActivitiesService, ActivitiesRouter],
})
export class ActivitiesModule {}
