import { Module } from '@nestjs/common';
import { DuplicateBackfill } from './duplicate-backfill.js';
import { DuplicateGroups } from './duplicate-groups.js';

/** Duplicate groups across sources: used by activities (every write, the read side) and athletes (source priorities). */
@Module({
  providers: [DuplicateGroups, DuplicateBackfill],
  exports: [DuplicateGroups],
})
export class DuplicatesModule {}
