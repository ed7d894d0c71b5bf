import { Module } from '@nestjs/common';
import { StreamMetadataService } from './stream-metadata.service.js';
import { StreamsRepository } from './streams.repository.js';

/**
 * The part of the streams module that other modules may depend on without a cycle (activities shows
 * stream metadata in its detail view; StreamsModule itself depends on activities for ownership).
 * StreamsRepository is exported for StreamsModule only; other modules call StreamMetadataService.
 */
@Module({
  providers: [StreamsRepository, StreamMetadataService],
  exports: [StreamsRepository, StreamMetadataService],
})
export class StreamMetadataModule {}
