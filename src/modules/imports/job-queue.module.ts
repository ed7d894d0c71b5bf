import { Module } from '@nestjs/common';
import { ImportQueue } from './import-queue.js';

/**
 * The process's one pg-boss (ImportQueue): a module of its own, so that modules the imports depend
 * on (duplicate groups' re-election after a priority change) can send and work jobs too without a
 * cycle. ImportsModule re-exports it.
 */
@Module({
  providers: [ImportQueue],
  exports: [ImportQueue],
})
export class JobQueueModule {}
