import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { StreamColumns, StreamMetadata, StreamSamplesOutput } from '@unified-activity/contract';
import type { ActivityStreamRow } from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { downsampleStream } from './downsample.js';
import { parquetStreamCodec, StreamCodecError } from './parquet.codec.js';
import { ObjectNotFoundError, ObjectStoreUnavailableError, type ObjectStore } from './storage/object-store.js';
import {
  columnsFromSamples,
  SampleValidationError,
  samplesFromColumns,
  summarise,
  TooManySamplesError,
  validateSamples,
} from './stream-samples.js';
import type { StreamSamples, StreamType } from './stream-types.js';
import { StreamsRepository } from './streams.repository.js';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** How long a presigned download URL stays valid. */
const PRESIGNED_URL_SECONDS = 300;

/** DATA-MODEL §10: Hive-style, so DuckDB, Spark or Trino can read the lake without the API. */
export const streamObjectKey = (athleteId: string, activityId: string, type: StreamType) =>
  `streams/athlete_id=${athleteId}/activity_id=${activityId}/${type}.parquet`;

const toMetadata = (row: ActivityStreamRow): StreamMetadata => ({
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

const invalid = (issues: { path: (string | number)[]; message: string }[], message = 'The stream breaks a rule of the data model') =>
  new ORPCError('UNPROCESSABLE_CONTENT', { message, data: { issues } });

const streamNotFound = () => new ORPCError('NOT_FOUND', { message: 'Stream not found' });

@Injectable()
export class StreamsService implements OnModuleInit {
  private readonly logger = new Logger('Streams');

  constructor(
    private readonly streams: StreamsRepository,
    private readonly activities: ActivitiesService,
    private readonly athletes: AthletesService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      await this.store.ensureReady();
    } catch (error) {
      // Unreachable or refusing our credentials: serve anyway; stream requests answer 503 and
      // /health reports the storage fault until it is fixed. Other errors still stop the boot.
      if (!(error instanceof ObjectStoreUnavailableError)) throw error;
      this.logger.error(`Object storage is not ready: ${error.message}`);
    }
    this.activities.extend({
      listStreams: async (activityId) => (await this.streams.findByActivity(activityId)).map(toMetadata),
      beforeDelete: async (activityIds) => this.removeAfterwards(await this.streams.objectKeysOfActivities(activityIds)),
    });
    this.athletes.extend({
      beforeDelete: async (athleteId) => this.removeAfterwards(await this.streams.objectKeysOfAthlete(athleteId)),
    });
  }

  async list(userId: string, activityId: string) {
    await this.activities.findOwned(userId, activityId);
    return { items: (await this.streams.findByActivity(activityId)).map(toMetadata), nextCursor: null };
  }

  /**
   * Validates, encodes and stores one stream (DATA-MODEL §10). The metadata row is written in a
   * transaction that commits only after the object is stored; if storing or committing fails,
   * nothing stays behind (the object is removed if it was written).
   */
  async upload(userId: string, activityId: string, type: StreamType, body: StreamColumns | Blob): Promise<StreamMetadata> {
    const activity = await this.activities.findOwned(userId, activityId);
    const samples = await this.parse(type, body);
    try {
      validateSamples(type, samples, activity);
    } catch (error) {
      throw this.translateSampleError(error);
    }
    const bytes = parquetStreamCodec.encode(type, samples);
    const key = streamObjectKey(activity.athleteId, activityId, type);
    let stored = false;
    try {
      const row = await this.streams.transaction(async (tx) => {
        const written = await this.streams.upsert(tx, {
          activityId,
          streamType: type,
          objectKey: key,
          format: 'parquet',
          schemaVersion: parquetStreamCodec.schemaVersion,
          ...summarise(samples),
          byteSize: bytes.byteLength,
          checksumSha256: createHash('sha256').update(bytes).digest('hex'),
        });
        await this.store.put(key, bytes, {
          contentType: parquetStreamCodec.contentType,
          metadata: { 'stream-type': type, 'schema-version': String(parquetStreamCodec.schemaVersion) },
        });
        stored = true;
        return written;
      });
      return toMetadata(row);
    } catch (error) {
      if (stored) await this.store.delete([key]).catch((cleanup: unknown) => this.logger.error(`Could not remove ${key}: ${String(cleanup)}`));
      throw this.translateStoreError(error);
    }
  }

  /**
   * For importers and sync, which have already checked ownership: validates, encodes and stores one
   * stream of an activity, replacing any previous one. Same write path as upload. `encoded` is
   * `parquetStreamCodec.encode(type, samples)` already computed off the event loop (the import's
   * worker threads); without it the samples are encoded here.
   */
  async replaceStream(
    activity: { id: string; athleteId: string; startTime: Date; endTime: Date | null },
    type: StreamType,
    samples: StreamSamples,
    encoded?: Uint8Array,
  ): Promise<StreamMetadata> {
    validateSamples(type, samples, { startTime: activity.startTime, endTime: activity.endTime ?? activity.startTime });
    const bytes = encoded ?? parquetStreamCodec.encode(type, samples);
    const key = streamObjectKey(activity.athleteId, activity.id, type);
    await this.store.put(key, bytes, {
      contentType: parquetStreamCodec.contentType,
      metadata: { 'stream-type': type, 'schema-version': String(parquetStreamCodec.schemaVersion) },
    });
    const row = await this.streams.transaction((tx) =>
      this.streams.upsert(tx, {
        activityId: activity.id,
        streamType: type,
        objectKey: key,
        format: 'parquet',
        schemaVersion: parquetStreamCodec.schemaVersion,
        ...summarise(samples),
        byteSize: bytes.byteLength,
        checksumSha256: createHash('sha256').update(bytes).digest('hex'),
      }),
    );
    return toMetadata(row);
  }

  async samples(userId: string, activityId: string, type: StreamType, maxPoints?: number): Promise<StreamSamplesOutput> {
    const row = await this.findRow(userId, activityId, type);
    const bytes = await this.unavailableAs503(() => this.store.get(row.objectKey));
    const { samples } = await parquetStreamCodec.decode(bytes, type);
    const output = maxPoints ? downsampleStream(type, samples, maxPoints) : samples;
    return columnsFromSamples(type, output, samples.timestamps.length);
  }

  async download(userId: string, activityId: string, type: StreamType, redirect = true) {
    const row = await this.findRow(userId, activityId, type);
    const filename = `${activityId}-${type}.parquet`;
    if (redirect) {
      const url = await this.unavailableAs503(() => this.store.presignedGetUrl(row.objectKey, PRESIGNED_URL_SECONDS));
      if (url) return { status: 307 as const, headers: { location: url } };
    }
    const bytes = await this.unavailableAs503(() => this.store.get(row.objectKey));
    return {
      status: 200 as const,
      headers: { 'content-disposition': `attachment; filename="${filename}"` },
      body: new File([bytes], filename, { type: parquetStreamCodec.contentType }),
    };
  }

  async delete(userId: string, activityId: string, type: StreamType): Promise<void> {
    await this.activities.findOwned(userId, activityId);
    await this.streams
      .transaction(async (tx) => {
        const key = await this.streams.delete(tx, activityId, type);
        if (!key) throw streamNotFound();
        await this.store.delete([key]);
      })
      .catch((error: unknown) => {
        throw this.translateStoreError(error);
      });
  }

  private async findRow(userId: string, activityId: string, type: StreamType): Promise<ActivityStreamRow> {
    await this.activities.findOwned(userId, activityId);
    const row = await this.streams.findOne(activityId, type);
    if (!row) throw streamNotFound();
    return row;
  }

  private async parse(type: StreamType, body: StreamColumns | Blob): Promise<StreamSamples> {
    try {
      if (body instanceof Blob) {
        const { samples } = await parquetStreamCodec.decode(new Uint8Array(await body.arrayBuffer()), type);
        return samples;
      }
      return samplesFromColumns(type, body);
    } catch (error) {
      if (error instanceof StreamCodecError) {
        throw new ORPCError('BAD_REQUEST', {
          message: `The body is not a usable Parquet stream file: ${error.message}`,
          data: { issues: [{ path: [], message: error.message }], reason: error.code },
        });
      }
      throw this.translateSampleError(error);
    }
  }

  private translateSampleError(error: unknown): unknown {
    if (error instanceof TooManySamplesError) return new ORPCError('PAYLOAD_TOO_LARGE', { message: error.message });
    if (error instanceof SampleValidationError) return invalid(error.issues);
    return error;
  }

  private translateStoreError(error: unknown): unknown {
    if (error instanceof ObjectStoreUnavailableError) {
      return new ORPCError('SERVICE_UNAVAILABLE', { message: 'Object storage is unavailable; nothing was changed. Try again later.' });
    }
    return error;
  }

  private async unavailableAs503<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ObjectNotFoundError) {
        throw new ORPCError('NOT_FOUND', { message: 'The stream’s stored object is missing; `npm run streams:sweep` reports such rows' });
      }
      throw this.translateStoreError(error);
    }
  }

  /** Objects are removed after their rows are gone: an orphan object is harmless (the sweep finds it), a row without its object is not. */
  private removeAfterwards(keys: string[]): () => Promise<void> {
    return async () => {
      if (keys.length === 0) return;
      await this.store.delete(keys).catch((error: unknown) => {
        this.logger.warn(`Could not remove ${keys.length} stream object(s); npm run streams:sweep will: ${String(error)}`);
      });
    };
  }
}
