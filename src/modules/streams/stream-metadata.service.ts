import { Injectable } from '@nestjs/common';
import type { StreamMetadata } from '@unified-activity/contract';
import type { ActivityStreamRow } from '../../database/schema/index.js';
import type { StreamType } from './stream-types.js';
import { StreamsRepository } from './streams.repository.js';

/** Picks the public fields of a stream row: a Drizzle row never reaches a client unpicked. */
export const toStreamMetadata = (row: ActivityStreamRow): StreamMetadata => ({
  streamType: row.streamType as StreamType,
  sampleCount: row.sampleCount,
  startTime: row.startTime,
  endTime: row.endTime,
  minValue: row.minValue,
  maxValue: row.maxValue,
  avgValue: row.avgValue,
  byteSize: row.byteSize,
  checksumSha256: row.checksumSha256,
  format: 'parquet',
  schemaVersion: row.schemaVersion,
  updatedAt: row.updatedAt,
});

/**
 * The streams module's port for the activity detail view: the metadata of an activity's streams.
 * ActivitiesModule imports StreamMetadataModule for it — an explicit dependency in place of the
 * runtime `extend()` callback it replaces (STYLE.md).
 */
@Injectable()
export class StreamMetadataService {
  constructor(private readonly streams: StreamsRepository) {}

  /** [] when the activity is not the user's or has no streams (scoped by owner in the query). */
  async listOwned(userId: string, activityId: string): Promise<StreamMetadata[]> {
    return (await this.streams.findByActivity(userId, activityId)).map(toStreamMetadata);
  }
}
