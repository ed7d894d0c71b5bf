import { Module } from '@nestjs/common';
import { AthletesModule } from '../athletes/athletes.module.js';
import { ChangesRepository } from './changes.repository.js';
import { ChangesRouter } from './changes.router.js';
import { ChangesService } from './changes.service.js';

/** The change feed (README "Following changes"): read side and pruning; triggers write it. */
@Module({
  imports: [AthletesModule],
  providers: [ChangesRepository, ChangesService, ChangesRouter],
  exports: [ChangesRouter, ChangesService, ChangesRepository],
})
export class ChangesModule {}
