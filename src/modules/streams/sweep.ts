import type { ObjectStore } from './storage/object-store.js';

export interface SweepReport {
  /** Objects under streams/ that no metadata row points to. */
  orphanObjects: string[];
  /** Metadata rows whose object is gone. */
  missingObjects: { id: string; objectKey: string }[];
  applied: boolean;
}

export interface SweepSource {
  allObjectKeys(): Promise<{ id: string; objectKey: string }[]>;
  deleteByIds(ids: readonly string[]): Promise<void>;
}

/**
 * Reconciles the object store with the activity_streams rows (DATA-MODEL §10). A dry run only
 * reports; `apply` removes orphan objects and rows whose object is missing. Objects younger than
 * `graceMs` are left alone: they may belong to an upload whose row is not committed yet.
 */
export async function sweepStreams(
  rows: SweepSource,
  store: ObjectStore,
  options: { apply: boolean; graceMs?: number; now?: Date },
): Promise<SweepReport> {
  const grace = options.graceMs ?? 10 * 60_000;
  const now = (options.now ?? new Date()).getTime();
  const known = await rows.allObjectKeys();
  const keys = new Set(known.map((row) => row.objectKey));
  const present = new Set<string>();
  const orphanObjects: string[] = [];
  for await (const object of store.list('streams/')) {
    present.add(object.key);
    const young = object.lastModified && now - object.lastModified.getTime() < grace;
    if (!keys.has(object.key) && !young) orphanObjects.push(object.key);
  }
  const missingObjects = known.filter((row) => !present.has(row.objectKey));
  if (options.apply) {
    await store.delete(orphanObjects);
    await rows.deleteByIds(missingObjects.map((row) => row.id));
  }
  return { orphanObjects, missingObjects, applied: options.apply };
}
