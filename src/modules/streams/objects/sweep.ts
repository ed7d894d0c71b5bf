import type { ObjectStore, StoredObjectInfo } from '../storage/object-store.js';
import type { StreamObjectDrain } from './stream-object-drain.js';
import type { StreamsRepository } from '../streams.repository.js';
import { compressOriginals, compressUnreferencedOriginals, emptyOriginalReport, type OriginalCompressionReport, type OriginalRows } from './original-compression.js';
import { upgradeStreamObjects, type Reencode, type UpgradeReport, type UpgradeSource } from './stream-upgrade.js';
import type { StreamVersionWriter } from './stream-version-writer.js';

/** Keys listed per kind in the report; the counts are always complete. */
const REPORT_KEYS = 100;
/** Keys compared with the database per query, and rows checked against the store per page. */
const PAGE = 500;
/** Concurrent stat requests while checking rows. */
const STAT_CONCURRENCY = 8;

export interface SweepFinding {
  count: number;
  /** The first REPORT_KEYS of them. */
  keys: string[];
}

export interface SweepReport {
  /** Objects no row points at whose stream has a current row: versions replaced by a newer upload. */
  superseded: SweepFinding;
  /** Objects no row points at and whose stream has no row at all (failed uploads, deleted data). */
  orphans: SweepFinding;
  /**
   * Rows whose object is gone (`count`). `rows` lists those that apply deletes (the first
   * REPORT_KEYS); `kept` counts the rest: rows of an athlete of whom the store holds no object at
   * all, which says more about the store (another bucket or folder than the database's) than about
   * the rows, so they are only counted, dry run or not.
   */
  missingObjects: { count: number; rows: { id: string; objectKey: string }[]; kept: number };
  /**
   * Objects in an older physical layout than their type's current one (schema_version): counted in a
   * dry run, rewritten in the current schema with apply (when the sweep is given the write path).
   */
  upgrade: UpgradeReport;
  /**
   * Archived originals stored uncompressed (docs/data-model.md §6): counted in a dry run, compressed
   * with apply (when the sweep is given the activities' archive pointers).
   */
  originals: OriginalCompressionReport;
  /** Outbox entries drained by this run (only with apply). */
  drained: number;
  /** Objects scanned. */
  scanned: number;
  applied: boolean;
}

export type SweepSource = Pick<StreamsRepository, 'rowsAfter' | 'referencedKeys' | 'queuedKeys' | 'streamsWithRows' | 'deleteByIds'> & UpgradeSource;

const STREAM_PARTS = /^(streams\/athlete_id=[^/]+\/activity_id=([^/]+)\/stream_type=([^/]+)\/)v=[^/]+\.parquet$/;
const ATHLETE_PREFIX = /^streams\/athlete_id=[^/]+\//;


function note(finding: SweepFinding, key: string): void {
  finding.count++;
  if (finding.keys.length < REPORT_KEYS) finding.keys.push(key);
}

/**
 * Reconciles the object store with the activity_streams rows (DATA-MODEL §10) at any size with
 * constant memory: objects are compared with the database one listing page (500 keys) at a time, and
 * rows are checked against the store one keyset page at a time. A dry run only reports; `apply`
 * removes unreferenced objects older than `graceMs` (they may belong to an upload whose row is not
 * committed yet) and rows whose object is missing, and drains the deletion outbox first. Objects
 * queued in the outbox are left to the drain. Before all that, `apply` with `upgrade` rewrites the
 * objects of an older physical layout in the current schema (stream-upgrade.ts), and with
 * `originals` compresses the archived originals stored uncompressed (original-compression.ts), so
 * that the drain removes their old objects in the same run.
 */
export async function sweepStreams(
  rows: SweepSource,
  store: ObjectStore,
  options: {
    apply: boolean;
    graceMs?: number;
    now?: Date;
    drain?: Pick<StreamObjectDrain, 'drainAll'>;
    /** The write path and the re-encoding that rewrite outdated objects; without them, they are only counted. */
    upgrade?: { writer: Pick<StreamVersionWriter, 'replace'>; reencode: Reencode };
    /** The activities' archive pointers: with them, uncompressed originals are compressed too (original-compression.ts). */
    originals?: OriginalRows;
  },
): Promise<SweepReport> {
  const grace = options.graceMs ?? 10 * 60_000;
  const now = (options.now ?? new Date()).getTime();
  const report: SweepReport = {
    superseded: { count: 0, keys: [] },
    orphans: { count: 0, keys: [] },
    missingObjects: { count: 0, rows: [], kept: 0 },
    upgrade: { outdated: 0, rewritten: 0, changedMeanwhile: 0, skipped: { count: 0, rows: [] } },
    originals: emptyOriginalReport(),
    drained: 0,
    scanned: 0,
    applied: options.apply,
  };
  if (options.upgrade) {
    report.upgrade = await upgradeStreamObjects(rows, store, options.upgrade.writer, options.upgrade.reencode, { apply: options.apply });
  } else report.upgrade.outdated = await rows.countOutdated();
  if (options.originals) {
    report.originals = await compressOriginals(options.originals, store, { apply: options.apply });
    await compressUnreferencedOriginals(options.originals, rows, store, report.originals, { apply: options.apply, graceMs: grace, now });
  }
  if (options.apply && options.drain) report.drained = (await options.drain.drainAll()).deleted;

  let page: StoredObjectInfo[] = [];
  const flush = async () => {
    const keys = page.map((object) => object.key);
    page = [];
    const [referenced, queued] = await Promise.all([rows.referencedKeys(keys), rows.queuedKeys(keys)]);
    const unreferenced = keys.filter((key) => !referenced.has(key) && !queued.has(key));
    if (unreferenced.length === 0) return;
    // A version is superseded when its stream has a current row (under the same prefix).
    const live = new Set([...referenced].map((key) => STREAM_PARTS.exec(key)?.[1]).filter((prefix) => prefix !== undefined));
    const siblings = await currentPrefixes(rows, unreferenced, live);
    const remove: string[] = [];
    for (const key of unreferenced) {
      const prefix = STREAM_PARTS.exec(key)?.[1];
      note(prefix !== undefined && siblings.has(prefix) ? report.superseded : report.orphans, key);
      remove.push(key);
    }
    if (options.apply) await store.delete(remove);
  };
  for await (const object of store.list('streams/')) {
    report.scanned++;
    const young = object.lastModified !== undefined && now - object.lastModified.getTime() < grace;
    if (young) continue;
    page.push(object);
    if (page.length >= PAGE) await flush();
  }
  if (page.length > 0) await flush();

  const holdsAthlete = athleteHoldings(store);
  let after: string | undefined;
  for (;;) {
    const batch = await rows.rowsAfter(after, PAGE);
    if (batch.length === 0) break;
    after = batch.at(-1)!.id;
    const missing: { id: string; objectKey: string }[] = [];
    for (let i = 0; i < batch.length; i += STAT_CONCURRENCY) {
      const slice = batch.slice(i, i + STAT_CONCURRENCY);
      const stats = await Promise.all(slice.map((row) => store.stat(row.objectKey)));
      slice.forEach((row, k) => {
        if (stats[k] === undefined) missing.push(row);
      });
    }
    report.missingObjects.count += missing.length;
    const lost: string[] = [];
    for (const row of missing) {
      if (!(await holdsAthlete(row.objectKey))) {
        report.missingObjects.kept++;
        continue;
      }
      lost.push(row.id);
      if (report.missingObjects.rows.length < REPORT_KEYS) report.missingObjects.rows.push(row);
    }
    if (options.apply) await rows.deleteByIds(lost);
  }
  return report;
}

/**
 * Whether the store holds any stream object of the athlete whose key this is (one listing request
 * per athlete, remembered for the run): a sweep pointed at the wrong bucket or an empty folder must
 * not delete the database's rows (docs/data-model.md §10).
 */
function athleteHoldings(store: ObjectStore): (objectKey: string) => Promise<boolean> {
  const known = new Map<string, boolean>();
  return async (objectKey) => {
    const prefix = ATHLETE_PREFIX.exec(objectKey)?.[0];
    if (prefix === undefined) return false;
    let held = known.get(prefix);
    if (held === undefined) {
      held = false;
      for await (const _object of store.list(prefix)) {
        held = true;
        break;
      }
      known.set(prefix, held);
    }
    return held;
  };
}

/** The stream prefixes among `keys` that have a current row (those seen referenced in this page are known). */
async function currentPrefixes(rows: SweepSource, keys: string[], known: Set<string>): Promise<Set<string>> {
  const prefixes = new Set(known);
  const unknown = new Map<string, { activityId: string; streamType: string }>();
  for (const key of keys) {
    const match = STREAM_PARTS.exec(key);
    if (match && !prefixes.has(match[1]!)) unknown.set(match[1]!, { activityId: match[2]!, streamType: match[3]! });
  }
  if (unknown.size === 0) return prefixes;
  const present = await rows.streamsWithRows([...unknown.values()]);
  for (const [prefix, stream] of unknown) if (present.has(`${stream.activityId}/${stream.streamType}`)) prefixes.add(prefix);
  return prefixes;
}
