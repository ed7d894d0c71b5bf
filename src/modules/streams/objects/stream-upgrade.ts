import { hasCurrentLayout, STREAM_SCHEMA_VERSION } from '@unified-activity/parquet-streams';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import type { PreparedUpload, PrepareUploadTask, TaskResult } from '../stream-tasks.js';
import type { StreamVersionWriter } from './stream-version-writer.js';
import type { OutdatedStreamRow, StreamsRepository } from '../streams.repository.js';

/** Rows read per page; each is rewritten in turn. */
const PAGE = 100;
/** Rows listed per kind in the report; the counts are always complete. */
const REPORT_ROWS = 100;

export type UpgradeSource = Pick<StreamsRepository, 'outdatedRowsAfter' | 'countOutdated'>;

/** Re-encodes a stored object in the current schema (stream-tasks' prepareUpload without a window). */
export type Reencode = (task: Omit<PrepareUploadTask, 'name' | 'window'>) => Promise<TaskResult<PreparedUpload>>;

export interface UpgradeReport {
  /** Rows whose object predated its type's current layout when the run started. */
  outdated: number;
  /** Rewritten in schema_version STREAM_SCHEMA_VERSION (only with apply). */
  rewritten: number;
  /** Replaced or deleted by someone else between read and swap: nothing to do. */
  changedMeanwhile: number;
  /** Left as they are, with the reason (object missing from this store, unreadable object). */
  skipped: { count: number; rows: { id: string; objectKey: string; reason: string }[] };
}

/**
 * Rewrites every stream object whose physical layout predates its type's current one
 * (CURRENT_LAYOUT_SINCE: position objects before schema_version 3, scalar ones before 2), so that a
 * glob over one stream type reads one schema (docs/data-model.md, "Parquet schemas"). Each object
 * goes through the one write path (StreamVersionWriter.replace): the same samples in a new object,
 * then the row swap — only while the row still points at the old object — then the old object goes
 * through the deletion outbox. Idempotent: a rewritten row has the current schema_version and is not
 * selected again, so a second run finds nothing. Safe beside uploads and on several replicas at once
 * (the conditional swap lets the first writer win; the loser's object is removed).
 */
export async function upgradeStreamObjects(
  rows: UpgradeSource,
  store: Pick<ObjectStore, 'get'>,
  writer: Pick<StreamVersionWriter, 'replace'>,
  reencode: Reencode,
  options: { apply: boolean; shouldStop?: () => boolean },
): Promise<UpgradeReport> {
  const report: UpgradeReport = { outdated: await rows.countOutdated(), rewritten: 0, changedMeanwhile: 0, skipped: { count: 0, rows: [] } };
  if (!options.apply || report.outdated === 0) return report;
  const skip = (row: OutdatedStreamRow, reason: string) => {
    report.skipped.count++;
    if (report.skipped.rows.length < REPORT_ROWS) report.skipped.rows.push({ id: row.id, objectKey: row.objectKey, reason });
  };
  let after: string | undefined;
  for (;;) {
    const page = await rows.outdatedRowsAfter(after, PAGE);
    if (page.length === 0) break;
    after = page.at(-1)!.id;
    for (const row of page) {
      if (options.shouldStop?.()) return report;
      // The query and the codec's rule agree (a row of the current layout is never rewritten).
      if (hasCurrentLayout(row.streamType, row.schemaVersion)) continue;
      let bytes: Uint8Array;
      try {
        bytes = await store.get(row.objectKey);
      } catch (error) {
        // Another store on the same database (or a row the sweep reports as missing): not ours to touch.
        if (error instanceof ObjectNotFoundError) {
          skip(row, 'object not in this store');
          continue;
        }
        throw error;
      }
      const prepared = await reencode({ type: row.streamType, source: { parquet: bytes } });
      if (!prepared.ok) {
        skip(row, `unreadable as schema_version ${row.schemaVersion}: ${prepared.error.message}`);
        continue;
      }
      if (prepared.value.schemaVersion !== STREAM_SCHEMA_VERSION) throw new Error(`re-encoded as schema_version ${prepared.value.schemaVersion}`);
      const replaced = await writer.replace(row, prepared.value);
      if (replaced) report.rewritten++;
      else report.changedMeanwhile++;
    }
  }
  return report;
}
