import { Module } from '@nestjs/common';
import { JobQueueModule } from '../../imports/job-queue.module.js';
import { DuplicateBackfill } from './duplicate-backfill.js';
import { DuplicateGroups } from './duplicate-groups.js';
import { PriorityReelection } from './priority-reelection.js';

/** Duplicate groups across sources: used by activities (every write, the read side) and athletes (source priorities). */
@Module({
  imports: [JobQueueModule],
  providers: [DuplicateGroups, DuplicateBackfill, PriorityReelection],
  exports: [DuplicateGroups, PriorityReelection],
})
export class DuplicatesModule {}
