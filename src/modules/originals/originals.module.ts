import { Module } from '@nestjs/common';
import { AthletesModule } from '../athletes/athletes.module.js';
import { StreamsModule } from '../streams/streams.module.js';
import { OriginalsRepository } from './originals.repository.js';
import { OriginalsRouter } from './originals.router.js';
import { OriginalsService } from './originals.service.js';

/** The list of every archived original (imported files, rejected ones too, and sync bodies) and their bytes. */
@Module({
  imports: [AthletesModule, StreamsModule],
  providers: [OriginalsRepository, OriginalsService, OriginalsRouter],
  exports: [OriginalsService, OriginalsRouter],
})
export class OriginalsModule {}
