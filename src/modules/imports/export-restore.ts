import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { ActivityChildCreateSchema, ActivityCreateSchema, EXPORT_FORMAT_VERSION, type ActivityCreate, type ImportFileResult } from '@unified-activity/contract';
import { unzipSync } from 'fflate';
import { ActivitiesService } from '../activities/activities.service.js';
import { OriginalsService } from '../originals/originals.service.js';
import { compressedKey } from '../streams/objects/original-encoding.js';
import { isStreamType } from '../streams/stream-types.js';
import { StreamsService } from '../streams/streams.service.js';
import { OriginalArchive } from './original-archive.js';

/** The first entry an export zip starts with (ExportsService.writeZip). */
const FIRST_ENTRY = 'activities.ndjson';

/** True when the bytes are a zip whose first entry is an export's activities.ndjson (read from its first local header). */
export function looksLikeExport(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 30 + FIRST_ENTRY.length || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 0x03 || bytes[3] !== 0x04) return false;
  const nameLength = bytes[26]! | (bytes[27]! << 8);
  return nameLength === FIRST_ENTRY.length && Buffer.from(bytes.subarray(30, 30 + nameLength)).toString('latin1') === FIRST_ENTRY;
}

interface Manifest {
  formatVersion: number;
  entries: { path: string; byteSize: number; sha256: string }[];
  streams: { activityId: string; streamType: string; path: string; checksumSha256: string }[];
  originals: { path: string; sha256: string; source: string; fileName: string | null; format: string | null; status: 'imported' | 'rejected'; reason: string | null; receivedAt: string; activityIds: string[] }[];
}

type ActivityLine = Record<string, unknown> & { id: string; parentId: string | null; children: { id: string }[] };

/** The create fields, named once by the contract's child create schema. */
const CREATE_FIELDS = Object.keys(ActivityChildCreateSchema.shape) as (keyof ActivityCreate)[];

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

class RefusedExport extends Error {}

/**
 * An export zip (ExportsService) imported into an athlete: refused whole, with the reason, when it is
 * truncated or any entry differs from the SHA-256 its manifest names; else its originals archived
 * and listed again, its activities created (same fields, statistics, events, children, source and
 * external ids) and their streams stored from the exported Parquet objects.
 */
@Injectable()
export class ExportRestore {
  constructor(
    private readonly activities: ActivitiesService,
    private readonly streams: StreamsService,
    private readonly originals: OriginalsService,
    private readonly archive: OriginalArchive,
  ) {}

  async restore(owner: { userId: string; athleteId: string }, name: string, bytes: Uint8Array): Promise<ImportFileResult> {
    const result: ImportFileResult = {
      fileName: name,
      status: 'created',
      format: null,
      sha256: sha256Hex(bytes),
      activityIds: [],
      existingIds: [],
      reason: null,
      warnings: [],
      sampleCount: 0,
    };
    let files: Record<string, Uint8Array>;
    let manifest: Manifest;
    try {
      ({ files, manifest } = verify(bytes));
    } catch (error) {
      if (!(error instanceof RefusedExport)) throw error;
      return { ...result, status: 'rejected', reason: error.message };
    }

    // Originals first: the activities point at them.
    const keyOf = new Map<string, string>();
    for (const original of manifest.originals) {
      const extension = original.path.slice(original.path.lastIndexOf('.') + 1);
      const key = compressedKey(`raw/athlete_id=${owner.athleteId}/source=${original.source}/${original.sha256}.${extension}`);
      const content = files[original.path]!;
      const storedByteSize = await this.archive.keep(key, content);
      await this.originals.record({
        athleteId: owner.athleteId,
        sha256: original.sha256,
        source: original.source,
        objectKey: key,
        fileName: original.fileName,
        format: original.format,
        byteSize: content.byteLength,
        storedByteSize,
        status: original.status,
        reason: original.reason,
        receivedAt: new Date(original.receivedAt),
      });
      for (const id of original.activityIds) keyOf.set(id, key);
    }

    const lines = new TextDecoder().decode(files['activities.ndjson']).split('\n').filter(Boolean).map((line) => JSON.parse(line) as ActivityLine);
    const byId = new Map(lines.map((line) => [line.id, line]));
    const newId = new Map<string, string>();
    for (const line of lines.filter((l) => l.parentId === null)) {
      const children = line.children.map((child) => byId.get(child.id)).filter((child): child is ActivityLine => child !== undefined);
      const key = keyOf.get(line.id);
      // Where in its original each activity's item is (the detail says so): the same after the round trip.
      const archived = (activity: ActivityLine) => (key ? { sourceArchiveKey: key, sourceArchiveIndex: (activity.sourceArchiveIndex as number | null | undefined) ?? null } : {});
      const parsed = ActivityCreateSchema.safeParse({ ...pick(line), athleteId: owner.athleteId, children: children.map(pick) });
      if (!parsed.success) {
        result.warnings.push(`activity ${line.id} not imported: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
        continue;
      }
      const input = {
        ...parsed.data,
        ...archived(line),
        children: parsed.data.children?.map((child, index) => ({ ...child, ...archived(children[index]!) })),
      };
      try {
        const created = await this.activities.insert(owner.userId, input);
        newId.set(line.id, created.id);
        created.children.forEach((child, index) => newId.set(children[index]!.id, child.id));
        result.activityIds.push(created.id);
      } catch (error) {
        const existingId = error instanceof ORPCError && error.code === 'CONFLICT' ? (error.data as { existingId?: string } | undefined)?.existingId : undefined;
        if (!existingId) throw error;
        result.existingIds.push(existingId);
      }
    }

    for (const stream of manifest.streams) {
      const id = newId.get(stream.activityId);
      if (!id || !isStreamType(stream.streamType)) continue;
      const metadata = await this.streams.upload(owner.userId, id, stream.streamType, new Blob([files[stream.path]! as Uint8Array<ArrayBuffer>]));
      result.sampleCount += metadata.sampleCount;
    }
    if (result.activityIds.length === 0 && result.existingIds.length > 0) result.status = 'skipped';
    return result;
  }
}

/** The zip's entries and manifest, or RefusedExport with the reason: unreadable, truncated, tampered, of another format. */
function verify(bytes: Uint8Array): { files: Record<string, Uint8Array>; manifest: Manifest } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new RefusedExport(`the export zip is truncated or damaged (${(error as Error).message}); nothing was imported`);
  }
  const manifestBytes = files['manifest.json'];
  if (!manifestBytes) throw new RefusedExport('the export zip has no manifest.json (cut off before its end?); nothing was imported');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as Manifest;
  } catch {
    throw new RefusedExport('the export’s manifest.json is not JSON; nothing was imported');
  }
  if (manifest.formatVersion !== EXPORT_FORMAT_VERSION) throw new RefusedExport(`export format version ${String(manifest.formatVersion)} is not ${EXPORT_FORMAT_VERSION}; nothing was imported`);
  const listed = new Set<string>();
  for (const entry of manifest.entries ?? []) {
    listed.add(entry.path);
    const content = files[entry.path];
    if (!content) throw new RefusedExport(`the export zip lacks ${entry.path}, which its manifest lists; nothing was imported`);
    if (content.byteLength !== entry.byteSize || sha256Hex(content) !== entry.sha256) throw new RefusedExport(`${entry.path} does not match the SHA-256 in manifest.json (changed after the export); nothing was imported`);
  }
  for (const path of Object.keys(files)) {
    if (path !== 'manifest.json' && !listed.has(path)) throw new RefusedExport(`${path} is not listed in manifest.json (added after the export); nothing was imported`);
  }
  if (!files['activities.ndjson']) throw new RefusedExport('the export zip has no activities.ndjson; nothing was imported');
  for (const path of [...manifest.streams.map((s) => s.path), ...manifest.originals.map((o) => o.path)]) {
    if (!listed.has(path)) throw new RefusedExport(`${path} is named in manifest.json but has no checksum there; nothing was imported`);
  }
  return { files, manifest };
}

/** The create fields of an exported activity (its detail shape), as the create schema names them. */
function pick(line: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const field of CREATE_FIELDS) if (line[field] !== undefined) fields[field] = line[field];
  return fields;
}
