import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { OriginalsModule } from '../originals/originals.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { ExportRestore } from './export-restore.js';
import { ImportsRepository } from './imports.repository.js';
import { ImportsRouter } from './imports.router.js';
import { ImportsService } from './imports.service.js';
import { JobQueueModule } from './job-queue.module.js';
import { OriginalArchive } from './original-archive.js';

@Module({
  imports: [ActivitiesModule, AthletesModule, StreamsModule, OriginalsModule, JobQueueModule],
  providers: [ExportRestore, ImportsService, ImportsRepository, ImportsRouter, OriginalArchive],
  exports: [ImportsService, ImportsRouter, JobQueueModule],
})
export class ImportsModule {}
