import { Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module.js';
import { AthletesModule } from '../athletes/athletes.module.js';
import { OriginalsModule } from '../originals/originals.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { ExportRestore } from './export-restore.js';
import { ImportQueue } from './import-queue.js';
import { ImportsRepository } from './imports.repository.js';
import { ImportsRouter } from './imports.router.js';
import { ImportsService } from './imports.service.js';
import { OriginalArchive } from './original-archive.js';

@Module({
  imports: [ActivitiesModule, AthletesModule, StreamsModule, OriginalsModule],
  providers: [ExportRestore, ImportsService, ImportsRepository, ImportsRouter, ImportQueue, OriginalArchive],
  exports: [ImportsService, ImportsRouter, ImportQueue],
})
export class ImportsModule {}
