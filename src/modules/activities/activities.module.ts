import { Module } from '@nestjs/common';
import { AthletesModule } from '../athletes/athletes.module.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { StreamMetadataModule } from '../streams/stream-metadata.module.js';
import { ActivitiesRepository } from './activities.repository.js';
import { ActivitiesRouter } from './activities.router.js';
import { ActivitiesService } from './activities.service.js';

@Module({
  imports: [AthletesModule, CatalogModule, StreamMetadataModule],
  providers: [ActivitiesRepository, ActivitiesService, ActivitiesRouter],
  exports: [ActivitiesService, ActivitiesRouter],
})
export class ActivitiesModule {}
