import { Module } from '@nestjs/common';
import { DuplicatesModule } from '../activities/duplicates/duplicates.module.js';
import { AthletesRepository } from './athletes.repository.js';
import { AthletesRouter } from './athletes.router.js';
import { AthletesService } from './athletes.service.js';

@Module({
  imports: [DuplicatesModule],
  providers: [AthletesRepository, AthletesService, AthletesRouter],
  exports: [AthletesService, AthletesRouter],
})
export class AthletesModule {}
