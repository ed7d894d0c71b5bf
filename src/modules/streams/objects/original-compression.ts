import { createHash } from 'node:crypto';
import type { ArchivedOriginalsRepository } from '../archived-originals.repository.js';
import type { StreamsRepository } from '../streams.repository.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { compressedKey, encodeOriginal, isCompressedKey, COMPRESSED_MEDIA_TYPE } from './original-encoding.js';

/** Keys read per page. */
const PAGE = 100;
/** Keys listed in the report; the counts are always complete. */
const REPORT_KEYS = 100;

export type OriginalRows = Pick<ArchivedOriginalsRepository, 'countUncompressed' | 'uncompressedAfter' | 'referencedKeys' | 'switchArchive'>;

export interface OriginalCompressionReport {
  /** Distinct archived originals activities point at that were stored uncompressed when the run started. */
  uncompressed: number;
  /** Of those, compressed and switched to (only with apply). */
  compressed: number;
  /** Uncompressed originals no activity points at (sync bodies of ignored items), compressed by the sweep's listing (only with apply). */
  unreferenced: number;
  /** Left as they are, with the reason. */
  skipped: { count: number; keys: { key: string; reason: string }[] };
}

export const emptyOriginalReport = (): OriginalCompressionReport => ({ uncompressed: 0, compressed: 0, unreferenced: 0, skipped: { count: 0, keys: [] } });

/** The sha256 an original's key names (`…/<sha256>.<ext>`), or undefined for a key of another shape. */
const namedSha256 = (key: string) => /\/([0-9a-f]{64})\.[^/]+$/.exec(key)?.[1];

/**
 * Writes the compressed copy of one uncompressed original beside it (once: the content names the
 * key), after checking that the bytes are what the key names. Answers why not, or undefined.
 */
async function writeCompressed(store: Pick<ObjectStore, 'get' | 'stat' | 'put'>, key: string): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    // Another store on the same database, or an object lost: not ours to touch.
    if (error instanceof ObjectNotFoundError) return 'object not in this store';
    throw error;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== namedSha256(key)) return `its bytes' sha256 ${sha256} is not the one its key names`;
  const target = compressedKey(key);
  if (!(await store.stat(target))) await store.put(target, await encodeOriginal(bytes), { contentType: COMPRESSED_MEDIA_TYPE, metadata: { sha256 } });
  return undefined;
}

/**
 * Compresses the archived originals stored before originals were compressed (docs/data-model.md
 * §6), run with the stream upgrade at boot and by `npm run streams:sweep -- --apply`. Per original:
 * the compressed object is written beside the old one, then one transaction points every activity
 * at it and queues the old key in the deletion outbox, which removes the old object. A crash at any
 * point leaves each activity pointing at an object that is there. Idempotent: a switched key is not
 * selected again, so a second run finds nothing; several replicas may run it at once (they write the
 * same bytes, and the second switch moves nothing).
 */
export async function compressOriginals(
  rows: OriginalRows,
  store: Pick<ObjectStore, 'get' | 'stat' | 'put'>,
  options: { apply: boolean; shouldStop?: () => boolean },
): Promise<OriginalCompressionReport> {
  const report = emptyOriginalReport();
  report.uncompressed = await rows.countUncompressed();
  if (!options.apply || report.uncompressed === 0) return report;
  let after: string | undefined;
  for (;;) {
    const page = await rows.uncompressedAfter(after, PAGE);
    if (page.length === 0) break;
    after = page.at(-1)!;
    for (const key of page) {
      if (options.shouldStop?.()) return report;
      const reason = await writeCompressed(store, key);
      if (reason !== undefined) {
        skip(report, key, reason);
        continue;
      }
      await rows.switchArchive(key, compressedKey(key));
      report.compressed++;
    }
  }
  return report;
}

/**
 * The sweep's part (listing the store, so only by hand): uncompressed originals that no activity
 * points at — a sync body whose items were all ignored is archived all the same — are compressed
 * and the old object queued for deletion. Objects younger than `graceMs` (an import may be about to
 * point at one) and objects already queued for deletion (a failed import's) are left alone.
 */
export async function compressUnreferencedOriginals(
  rows: OriginalRows,
  outbox: Pick<StreamsRepository, 'queuedKeys'>,
  store: Pick<ObjectStore, 'get' | 'stat' | 'put' | 'list'>,
  report: OriginalCompressionReport,
  options: { apply: boolean; graceMs: number; now: number },
): Promise<void> {
  let page: string[] = [];
  const flush = async () => {
    const keys = page;
    page = [];
    const [referenced, queued] = await Promise.all([rows.referencedKeys(keys), outbox.queuedKeys(keys)]);
    for (const key of keys.filter((k) => !referenced.has(k) && !queued.has(k))) {
      if (!options.apply) {
        report.unreferenced++;
        continue;
      }
      const reason = await writeCompressed(store, key);
      if (reason !== undefined) skip(report, key, reason);
      else {
        await rows.switchArchive(key, compressedKey(key));
        report.unreferenced++;
      }
    }
  };
  for await (const object of store.list('raw/')) {
    if (isCompressedKey(object.key) || namedSha256(object.key) === undefined) continue;
    if (object.lastModified !== undefined && options.now - object.lastModified.getTime() < options.graceMs) continue;
    page.push(object.key);
    if (page.length >= PAGE) await flush();
  }
  if (page.length > 0) await flush();
}

function skip(report: OriginalCompressionReport, key: string, reason: string): void {
  report.skipped.count++;
  if (report.skipped.keys.length < REPORT_KEYS) report.skipped.keys.push({ key, reason });
}
