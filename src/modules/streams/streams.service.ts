import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { StreamColumns, StreamMetadata, StreamSamplesOutput } from '@unified-activity/contract';
import { settleWithin } from '../../common/settle-within.js';
import { ENV } from '../../config/config.module.js';
import { DATABASE_HANDLE } from '../../database/database.module.js';
import type { DatabaseHandle } from '../../database/database.js';
import type { Env } from '../../config/env.js';
import { pgError, PG_FOREIGN_KEY_VIOLATION } from '../../database/errors.js';
import type { ActivityStreamRow } from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import { objectStorageUnavailable } from '../api/errors.js';
import { PARQUET_CONTENT_TYPE, STREAM_SCHEMA_VERSION, type TimeRange } from '@unified-activity/parquet-streams';
import { ObjectNotFoundError, ObjectStoreUnavailableError, type ObjectStore } from './storage/object-store.js';
import { toStreamMetadata } from './stream-metadata.service.js';
import type { BodyScan } from './http/stream-body-scan.js';
import { StreamObjectDrain } from './objects/stream-object-drain.js';
import { compressOriginals } from './objects/original-compression.js';
import { upgradeStreamObjects } from './objects/stream-upgrade.js';
import { ArchivedOriginalsRepository } from './archived-originals.repository.js';
import { StreamVersionWriter } from './objects/stream-version-writer.js';
import { streamedReads, type StreamUploadBody } from './http/stream-routes.js';
import { readBody, streamedReadBody } from './http/stream-json-response.js';
import type { StreamedReply } from '../api/transport/procedure-transport.js';
import {
  columnsFromSamples,
  SampleValidationError,
  samplesFromColumns,
  samplesFromTypedColumns,
  sampleBounds,
  TooManySamplesError,
} from './stream-samples.js';
import type { PreparedUpload, PrepareUploadTask, StreamTaskError } from './stream-tasks.js';
import type { StreamSamples, StreamType } from './stream-types.js';
import { StreamWorkerPool } from './stream-worker-pool.js';
import { StreamsRepository } from './streams.repository.js';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** How long a presigned download URL stays valid. */
const PRESIGNED_URL_SECONDS = 300;
/** The latest instant a Date can hold: the window of an activity without an end. */
const MAX_DATE_MS = 8.64e15;

/** What replaceStream needs of an activity: the caller has already authorised access to it. */
export interface StreamActivity {
  id: string;
  athleteId: string;
  startTime: Date;
  endTime: Date | null;
}

export { newStreamVersion, streamObjectKey, streamObjectPrefix } from './objects/stream-keys.js';

const invalid = (issues: { path: (string | number)[]; message: string }[], message = 'The stream breaks a rule of the data model') =>
  new ORPCError('UNPROCESSABLE_CONTENT', { message, data: { issues } });

const streamNotFound = () => new ORPCError('NOT_FOUND', { message: 'Stream not found' });

const storageUnavailable = () => objectStorageUnavailable('nothing was changed');

@Injectable()
export class StreamsService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Streams');
  private readonly pool: StreamWorkerPool;
  /** Removes the objects of deleted and superseded streams (the deletion outbox), retrying until it succeeds. */
  readonly drain: StreamObjectDrain;
  private readonly writer: StreamVersionWriter;
  /** The boot-time upgrade of objects in an older layout (upgradeOutdatedObjects), while it runs. */
  private upgrading: Promise<void> | undefined;
  private upgradeRetry: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly streams: StreamsRepository,
    private readonly activities: ActivitiesService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly originals: ArchivedOriginalsRepository,
    @Inject(ENV) env: Env,
    @Inject(DATABASE_HANDLE) database: DatabaseHandle,
  ) {
    this.pool = new StreamWorkerPool({ threads: env.STREAM_WORKERS });
    // On the embedded database this process made every entry (its deletions kick the drain) and times
    // its own retries: the poll is a safety net (docs/benchmarks.md, "Idle polls on the embedded database").
    this.drain = new StreamObjectDrain(streams, store, database.kind === 'pglite' ? { intervalMs: 60_000 } : {});
    this.writer = new StreamVersionWriter(streams, store, this.drain);
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.store.ensureReady();
    } catch (error) {
      // Unreachable or refusing our credentials: serve anyway; stream requests answer 503 and
      // /health reports the storage fault until it is fixed. Other errors still stop the boot.
      if (!(error instanceof ObjectStoreUnavailableError)) throw error;
      this.logger.error(`Object storage is not ready: ${error.message}`);
    }
    this.drain.start();
  }

  /** Once per boot, in the background: the server answers meanwhile (see upgradeOutdatedObjects). */
  onApplicationBootstrap(): void {
    this.upgrading = this.upgradeOutdatedObjects();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.upgradeRetry);
    await settleWithin(this.upgrading);
    await settleWithin(this.drain.stop());
    await this.pool.close();
  }

  /**
   * Rewrites the stream objects written in an older physical layout than their type's current one
   * (stream-upgrade.ts; docs/data-model.md, "Parquet schemas"), through the one write path. Cheap
   * when there are none (one count on activity_streams). Several replicas may run it at once: the
   * swap is conditional on the row's current key, so the first rewrite wins and nothing is lost. A
   * failure (database or store unreachable) is retried a minute later; `npm run streams:sweep --
   * --apply` does the same by hand. Stops between two objects at shutdown. Then compresses the
   * archived originals stored uncompressed (objects/original-compression.ts), just as idempotently.
   */
  private async upgradeOutdatedObjects(): Promise<void> {
    try {
      const report = await upgradeStreamObjects(this.streams, this.store, this.writer, (task) => this.pool.prepareUpload(task), {
        apply: true,
        shouldStop: () => this.stopping,
      });
      if (report.outdated > 0) {
        this.logger.log(`Rewrote ${report.rewritten} of ${report.outdated} stream object(s) in schema_version ${STREAM_SCHEMA_VERSION}`);
        for (const row of report.skipped.rows) this.logger.warn(`Stream object ${row.objectKey} left in its older schema: ${row.reason}`);
      }
      // Originals archived before they were compressed (docs/data-model.md §6), the same way.
      const originals = await compressOriginals(this.originals, this.store, { apply: true, shouldStop: () => this.stopping });
      if (originals.uncompressed === 0) return;
      // The old objects are queued for deletion: no need to wait for the drain's next poll.
      if (originals.compressed > 0) this.drain.kick();
      this.logger.log(`Compressed ${originals.compressed} of ${originals.uncompressed} archived original(s)`);
      for (const skipped of originals.skipped.keys) this.logger.warn(`Archived original ${skipped.key} left uncompressed: ${skipped.reason}`);
    } catch (error) {
      if (this.stopping) return;
      this.logger.warn(`Upgrading stream objects to schema_version ${STREAM_SCHEMA_VERSION} or compressing archived originals failed; retrying in 60 s: ${String(error)}`);
      this.upgradeRetry = setTimeout(() => {
        this.upgrading = this.upgradeOutdatedObjects();
      }, 60_000);
      this.upgradeRetry.unref();
    }
  }

  /** The scan of a large JSON upload body, on the pool's scan thread (for the upload route). */
  scanJsonBody(sizeHint?: number): BodyScan {
    return this.pool.scanJson(sizeHint);
  }

  async list(userId: string, activityId: string) {
    const rows = await this.streams.findByActivity(userId, activityId);
    if (rows.length === 0) await this.activities.findOwned(userId, activityId);
    return { items: rows.map(toStreamMetadata), nextCursor: null };
  }

  /**
   * Validates, stores and swaps in one stream uploaded by the user (JSON columns or a Parquet file).
   * `read` is what the REST upload route read itself (`context.upload`): a large JSON body already
   * in typed arrays, or the Parquet bytes; `body` is then its stand-in. Other Parquet bodies (the
   * /file route, RPC) come as a File.
   */
  async upload(userId: string, activityId: string, type: StreamType, body: StreamColumns | Blob, read?: StreamUploadBody): Promise<StreamMetadata> {
    const activity = await this.activities.findOwned(userId, activityId);
    if (read && 'parquet' in read.body) return this.write(activity, type, { parquet: read.body.parquet });
    const scanned = read && 'columns' in read.body ? read.body.columns : undefined;
    if (body instanceof Blob && !scanned) return this.write(activity, type, { parquet: new Uint8Array(await body.arrayBuffer()) });
    let samples: StreamSamples;
    try {
      samples = scanned ? samplesFromTypedColumns(type, scanned) : samplesFromColumns(type, body as StreamColumns);
    } catch (error) {
      throw translateSampleError(error);
    }
    return this.write(activity, type, { samples });
  }

  /**
   * For other modules (sync, file import) that have already authorised access to the activity: no
   * ownership check here. Validates the samples, writes a new versioned object outside any database
   * transaction, then swaps the metadata row to it; the previous object is deleted after the commit
   * (through the deletion outbox). Any failure leaves the previous version readable.
   */
  async replaceStream(activity: StreamActivity, type: StreamType, samples: StreamSamples): Promise<StreamMetadata> {
    return this.write(activity, type, { samples });
  }

  /**
   * For the file import, whose worker threads already ran the upload preparation (stream-tasks'
   * prepareUpload: validation against the activity's window, encoding, checksum, summary) on the
   * samples they decoded: the same versioned write as replaceStream, without decoding or encoding
   * the streams again on this thread. All of one activity's streams at once: every object is written
   * first, side by side, then one statement swaps all rows; if any object or the swap fails, none of
   * the new versions is kept and the previous ones stay readable. The caller vouches that each
   * `prepared` came from prepareUpload for its type; the window is checked again from the summary,
   * since the activity row may differ from what the worker was told: a stream whose samples lie
   * outside it is not stored and is answered in `rejected`.
   */
  async storePreparedStreams(
    activity: StreamActivity,
    streams: Partial<Record<StreamType, PreparedUpload>>,
  ): Promise<{ stored: StreamMetadata[]; rejected: { type: StreamType; error: SampleValidationError }[] }> {
    const { from, to } = sampleBounds({ startTime: activity.startTime, endTime: activity.endTime ?? new Date(MAX_DATE_MS) });
    const accepted: [StreamType, PreparedUpload][] = [];
    const rejected: { type: StreamType; error: SampleValidationError }[] = [];
    for (const [type, prepared] of Object.entries(streams) as [StreamType, PreparedUpload][]) {
      const { startTime, endTime } = prepared.summary;
      if (startTime.getTime() >= from && endTime.getTime() <= to) accepted.push([type, prepared]);
      else {
        const message = `samples from ${startTime.toISOString()} to ${endTime.toISOString()} lie outside the activity (±60 s)`;
        rejected.push({ type, error: new SampleValidationError([{ path: ['timestamps'], message }]) });
      }
    }
    return { stored: await this.storeVersions(activity, accepted), rejected };
  }

  /**
   * The samples as JSON columns, all of them or those in `range` ([fromMs, toMs)), downsampled to
   * `maxPoints` when given; on the REST route (`reply`) the answer is written by the streamed JSON
   * writer, straight from the typed arrays.
   */
  async samples(
    userId: string,
    activityId: string,
    type: StreamType,
    options: { maxPoints?: number; range?: TimeRange } = {},
    reply?: StreamedReply,
  ): Promise<StreamSamplesOutput> {
    const row = await this.findRow(userId, activityId, type);
    const { maxPoints, range } = options;
    if (range && !overlaps(row, range)) return emptySamples(type, row.sampleCount);
    const bytes = await this.fetchObject(row);
    const result = await this.pool.readSamples({ bytes, type, maxPoints, range }, row.sampleCount);
    if (!result.ok) {
      this.logger.error(`Stored object ${row.objectKey} is unreadable: ${result.error.message}`);
      throw new ORPCError('INTERNAL_SERVER_ERROR', { message: 'The stream’s stored object is unreadable' });
    }
    const { samples, sampleCount: read } = result.value;
    // A range answers the stored count as sampleCount (what the stream holds) and is downsampled
    // only when maxPoints dropped samples of the range.
    const sampleCount = range ? row.sampleCount : read;
    const downsampled = samples.timestamps.length < read;
    if (reply) {
      // The procedure's return value is then a placeholder that is never written.
      const read = { type, sampleCount, downsampled, samples };
      reply.send(samples.timestamps.length > streamedReads.minSamples ? streamedReadBody(read) : readBody(read));
      return { streamType: type, sampleCount, returnedCount: samples.timestamps.length, downsampled, timestamps: [] };
    }
    return columnsFromSamples(type, samples, sampleCount, downsampled);
  }

  async download(userId: string, activityId: string, type: StreamType, redirect = true) {
    const row = await this.findRow(userId, activityId, type);
    const filename = `${activityId}-${type}.parquet`;
    if (redirect) {
      const url = await this.storeCall(() => this.store.presignedGetUrl(row.objectKey, PRESIGNED_URL_SECONDS));
      if (url) return { status: 307 as const, headers: { location: url } };
    }
    const bytes = await this.fetchObject(row);
    return {
      status: 200 as const,
      headers: { 'content-disposition': `attachment; filename="${filename}"` },
      body: new File([bytes], filename, { type: PARQUET_CONTENT_TYPE }),
    };
  }

  /**
   * For an athlete's export: the activity's current stream objects, one at a time (their lake key,
   * the checksum the row recorded, the Parquet bytes as stored).
   */
  async *currentObjects(userId: string, activityId: string): AsyncGenerator<{ type: StreamType; key: string; checksumSha256: string; bytes: Uint8Array }> {
    for (const row of await this.streams.findByActivity(userId, activityId)) {
      yield { type: row.streamType as StreamType, key: row.objectKey, checksumSha256: row.checksumSha256, bytes: await this.fetchObject(row) };
    }
  }

  /**
   * For modules that delete activities in their own transaction (sync): their stream objects are
   * already queued by the trigger; this removes them now instead of at the drain's next poll.
   */
  removeQueuedObjectsSoon(): void {
    this.drain.kick();
  }

  /** Deletes the row; its object is queued in the same transaction (trigger) and removed by the drain. */
  async delete(userId: string, activityId: string, type: StreamType): Promise<void> {
    const activity = await this.activities.findOwned(userId, activityId);
    if (!(await this.streams.deleteOwned(userId, activityId, type))) throw streamNotFound();
    this.drain.kick();
    await this.reelect(activity);
  }

  /**
   * Re-elects the activity's duplicate group after its streams changed. The stream is stored
   * whatever happens here: a failure is logged, and the next write to the group re-elects.
   */
  private async reelect(activity: { id: string; athleteId: string }): Promise<void> {
    try {
      await this.activities.streamsChanged(activity.athleteId, activity.id);
    } catch (error) {
      this.logger.warn(`Re-electing the duplicate group of ${activity.id} after a stream change failed: ${String(error)}`);
    }
  }

  private async write(activity: StreamActivity, type: StreamType, source: PrepareUploadTask['source'] | { prepared: PreparedUpload }): Promise<StreamMetadata> {
    const prepared =
      'prepared' in source
        ? { ok: true as const, value: source.prepared }
        : await this.pool.prepareUpload({
            type,
            window: { startMs: activity.startTime.getTime(), endMs: activity.endTime?.getTime() ?? MAX_DATE_MS },
            source,
          });
    if (!prepared.ok) throw translateTaskError(prepared.error);
    const [stored] = await this.storeVersions(activity, [[type, prepared.value]]);
    return stored!;
  }

  /** The one write path of stream objects (DATA-MODEL §10): new versioned objects, then one row swap, then the old objects go. */
  private async storeVersions(activity: StreamActivity, streams: [StreamType, PreparedUpload][]): Promise<StreamMetadata[]> {
    try {
      const stored = (await this.storeCall(() => this.writer.write(activity, streams))).map(toStreamMetadata);
      // More stream types or samples may make it its duplicate group's primary (ties within one source).
      if (stored.length > 0) await this.reelect(activity);
      return stored;
    } catch (error) {
      // The activity was deleted while its stream was being uploaded.
      if (pgError(error)?.code === PG_FOREIGN_KEY_VIOLATION) throw new ORPCError('NOT_FOUND', { message: 'Activity not found' });
      throw error;
    }
  }

  private async findRow(userId: string, activityId: string, type: StreamType): Promise<ActivityStreamRow> {
    const row = await this.streams.findOne(userId, activityId, type);
    if (row) return row;
    await this.activities.findOwned(userId, activityId);
    throw streamNotFound();
  }

  private fetchObject(row: ActivityStreamRow): Promise<Uint8Array> {
    return this.storeCall(() => this.store.get(row.objectKey)).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) {
        throw new ORPCError('NOT_FOUND', { message: 'The stream’s stored object is missing; `npm run streams:sweep` reports such rows' });
      }
      throw error;
    });
  }

  private async storeCall<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ObjectStoreUnavailableError) throw storageUnavailable();
      throw error;
    }
  }
}

/** Whether the stored stream (first and last sample, from its row) has instants in [fromMs, toMs). */
function overlaps(row: ActivityStreamRow, range: TimeRange): boolean {
  return range.fromMs < range.toMs && row.endTime.getTime() >= range.fromMs && row.startTime.getTime() < range.toMs;
}

/** A range without samples: nothing to read. */
function emptySamples(type: StreamType, sampleCount: number): StreamSamplesOutput {
  const columns = type === 'position' ? { latitude: [], longitude: [] } : { values: [] };
  return { streamType: type, sampleCount, returnedCount: 0, downsampled: false, timestamps: [], ...columns };
}

function translateSampleError(error: unknown): unknown {
  if (error instanceof TooManySamplesError) return new ORPCError('PAYLOAD_TOO_LARGE', { message: error.message });
  if (error instanceof SampleValidationError) return invalid(error.issues);
  return error;
}

function translateTaskError(error: StreamTaskError): ORPCError<string, unknown> {
  switch (error.kind) {
    case 'too_many_samples':
      return new ORPCError('PAYLOAD_TOO_LARGE', { message: error.message });
    case 'invalid_samples':
      return invalid(error.issues);
    case 'codec':
      if (error.code === 'TOO_MANY_ROWS' || error.code === 'TOO_LARGE') {
        return new ORPCError('PAYLOAD_TOO_LARGE', { message: error.message });
      }
      return new ORPCError('BAD_REQUEST', {
        message: `The body is not a usable Parquet stream file: ${error.message}`,
        data: { issues: [{ path: [], message: error.message }], reason: error.code },
      });
  }
}
