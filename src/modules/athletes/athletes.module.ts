import { Module } from '@nestjs/common';
import { AthletesRepository } from './athletes.repository.js';
import { AthletesRouter } from './athletes.router.js';
import { AthletesService } from './athletes.service.js';

@Module({
  providers: [AthletesRepository, AthletesService, AthletesRouter],
  exports: [AthletesService, AthletesRouter],
})
export class AthletesModule {}
