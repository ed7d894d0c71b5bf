import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { ImportsModule } from '../imports/imports.module.js';
import { OriginalsModule } from '../originals/originals.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { ExportsRepository } from './exports.repository.js';
import { ExportsRouter } from './exports.router.js';
import { ExportsService } from './exports.service.js';

/** An athlete's data as one zip: a job on the imports' pg-boss, the zip in object storage for 7 days. */
@Module({
  imports: [AthletesModule, ActivitiesModule, StreamsModule, OriginalsModule, ImportsModule],
  providers: [ExportsRepository, ExportsService, ExportsRouter],
  exports: [ExportsRouter],
})
export class ExportsModule {}
