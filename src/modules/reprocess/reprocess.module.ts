import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { ImportsModule } from '../imports/imports.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { ReprocessRepository } from './reprocess.repository.js';
import { ReprocessRouter } from './reprocess.router.js';
import { ReprocessService } from './reprocess.service.js';

/** Every activity of an athlete derived again from its archived original: a job on the imports' pg-boss. */
@Module({
  imports: [AthletesModule, ActivitiesModule, StreamsModule, ImportsModule],
  providers: [ReprocessRepository, ReprocessService, ReprocessRouter],
  exports: [ReprocessRouter, ReprocessService],
})
export class ReprocessModule {}
