import { Logger } from '@nestjs/common';
import type { ActivityStreamRow } from '../../../database/schema/index.js';
import { PARQUET_CONTENT_TYPE } from '@unified-activity/parquet-streams';
import type { ObjectStore } from '../storage/object-store.js';
import type { StreamObjectDrain } from './stream-object-drain.js';
import type { PreparedUpload } from '../stream-tasks.js';
import type { StreamType } from '../stream-types.js';
import { newStreamVersion, streamObjectKey } from './stream-keys.js';
import type { StreamsRepository } from '../streams.repository.js';

export type VersionWriterRows = Pick<StreamsRepository, 'swapMany' | 'replaceObject' | 'isReferenced' | 'enqueueDeletion'>;

/** A current row whose object is to be replaced by a new version of the same samples (the upgrade). */
export interface ReplacedRow {
  id: string;
  athleteId: string;
  activityId: string;
  streamType: StreamType;
  /** The key the row points at now: the swap happens only if it still does. */
  objectKey: string;
}

/**
 * The one write path of stream objects (DATA-MODEL §10), shared by uploads, imports, sync and the
 * schema upgrade: 1. new versioned objects, at keys no other write uses, outside any transaction;
 * 2. one short statement swaps the metadata rows (the trigger queues the replaced keys in the
 * deletion outbox in the same transaction); 3. the drain removes the previous objects after the
 * commit (kicked only when the swap replaced a row). A failure at any step leaves the previous
 * version readable; an object whose swap failed is removed (or queued, or left to the sweep).
 */
export class StreamVersionWriter {
  private readonly logger = new Logger('Streams');

  constructor(
    private readonly rows: VersionWriterRows,
    private readonly store: ObjectStore,
    private readonly drain: Pick<StreamObjectDrain, 'kick'>,
  ) {}

  /** All streams of one activity: every object first, then one swap of all rows (an upsert each). */
  async write(activity: { id: string; athleteId: string }, streams: [StreamType, PreparedUpload][]): Promise<ActivityStreamRow[]> {
    if (streams.length === 0) return [];
    const version = newStreamVersion();
    const keys = streams.map(([type]) => streamObjectKey(activity.athleteId, activity.id, type, version));
    await this.putAll(streams.map(([type, prepared], index) => ({ key: keys[index]!, type, prepared })));
    let swapped: { rows: ActivityStreamRow[]; replaced: boolean };
    try {
      swapped = await this.rows.swapMany(
        streams.map(([type, prepared], index) => ({ activityId: activity.id, streamType: type, objectKey: keys[index]!, format: 'parquet', ...rowValues(prepared) })),
      );
    } catch (error) {
      await Promise.all(keys.map((key) => this.abandon(key)));
      throw error;
    }
    // Only a swap that replaced rows queued their objects for deletion.
    if (swapped.replaced) this.drain.kick();
    return swapped.rows;
  }

  /**
   * A new version of one current row's object (the same stream in the current schema): the swap is
   * an update of that row, made only while it still points at `row.objectKey`, so an upload that
   * replaced the stream meanwhile, or a deletion, wins. Answers undefined (and removes the new
   * object) when the row moved on.
   */
  async replace(row: ReplacedRow, prepared: PreparedUpload): Promise<ActivityStreamRow | undefined> {
    const key = streamObjectKey(row.athleteId, row.activityId, row.streamType, newStreamVersion());
    await this.putAll([{ key, type: row.streamType, prepared }]);
    let replaced: ActivityStreamRow | undefined;
    try {
      replaced = await this.rows.replaceObject(row.id, row.objectKey, { objectKey: key, ...rowValues(prepared) });
    } catch (error) {
      await this.abandon(key);
      throw error;
    }
    if (replaced === undefined) await this.abandon(key);
    else this.drain.kick();
    return replaced;
  }

  private async putAll(objects: { key: string; type: StreamType; prepared: PreparedUpload }[]): Promise<void> {
    const puts = await Promise.allSettled(
      objects.map(({ key, type, prepared }) =>
        this.store.put(key, prepared.bytes, {
          contentType: PARQUET_CONTENT_TYPE,
          metadata: { 'stream-type': type, 'schema-version': String(prepared.schemaVersion) },
        }),
      ),
    );
    const failedPut = puts.find((put): put is PromiseRejectedResult => put.status === 'rejected');
    if (failedPut) {
      await Promise.all(objects.filter((_, index) => puts[index]!.status === 'fulfilled').map(({ key }) => this.abandon(key)));
      throw failedPut.reason;
    }
  }

  /**
   * After a failed swap: removes the new object unless a row points at it after all (a commit whose
   * acknowledgement was lost). When that cannot be decided, the object stays for the sweep.
   */
  private async abandon(key: string): Promise<void> {
    try {
      if (await this.rows.isReferenced(key)) return;
    } catch (error) {
      this.logger.warn(`Upload of ${key} failed and the database cannot say whether it committed; npm run streams:sweep will decide: ${String(error)}`);
      return;
    }
    try {
      await this.store.delete([key]);
    } catch {
      await this.rows.enqueueDeletion(key, 'failed_upload').catch((error: unknown) => {
        this.logger.warn(`Could not remove or queue the object of a failed upload ${key}; the sweep will: ${String(error)}`);
      });
    }
  }
}

function rowValues({ bytes, checksumSha256, summary, schemaVersion }: PreparedUpload) {
  return { schemaVersion, ...summary, byteSize: bytes.byteLength, checksumSha256 };
}
