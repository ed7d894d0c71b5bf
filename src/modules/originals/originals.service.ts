import { Inject, Injectable, Logger } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { Original, OriginalList } from '@unified-activity/contract';
import type { OriginalStatus } from '../../database/schema/index.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { malformedRequest } from '../api/errors.js';
import { decodeOriginal, logicalKey } from '../streams/objects/original-encoding.js';
import { ObjectNotFoundError, type ObjectStore } from '../streams/storage/object-store.js';
import { OBJECT_STORE } from '../streams/streams.service.js';
import { OriginalsRepository, type OriginalKeyset, type OriginalPageRow } from './originals.repository.js';

const DEFAULT_PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Media types by the extension an original is archived under. */
const MEDIA_TYPES: Record<string, string> = {
  fit: 'application/vnd.ant.fit',
  gpx: 'application/gpx+xml',
  tcx: 'application/vnd.garmin.tcx+xml',
  xml: 'application/xml',
  json: 'application/json',
};

/** What the importer or a sync batch tells the list about an original it archived. */
export interface OriginalRecord {
  athleteId: string;
  sha256: string;
  source: string;
  objectKey: string;
  fileName: string | null;
  format: string | null;
  byteSize: number;
  storedByteSize: number;
  status: OriginalStatus;
  reason?: string | null;
  receivedAt?: Date;
}

export const encodeOriginalCursor = (keyset: OriginalKeyset) => Buffer.from(`${keyset.receivedAtMicros}|${keyset.id}`, 'utf8').toString('base64url');

export function decodeOriginalCursor(cursor: string): OriginalKeyset | undefined {
  const [micros, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!micros || !id || rest.length > 0 || !UUID.test(id) || !/^-?\d{1,17}$/.test(micros)) return undefined;
  return { receivedAtMicros: BigInt(micros), id };
}

/**
 * Every archived original of an athlete (docs/data-model.md, "Originals"): the importer and the sync
 * batch record what they archived here; the list and the bytes are read here.
 */
@Injectable()
export class OriginalsService {
  private readonly logger = new Logger('Originals');

  constructor(
    private readonly originals: OriginalsRepository,
    private readonly athletes: AthletesService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  /**
   * Lists an archived original (once per content). Answers the key the original was archived under
   * before, when this import moved it to another key (a rejected file's guessed extension), so the
   * caller can retire the old object.
   */
  async record(original: OriginalRecord): Promise<string | undefined> {
    const { previousKey } = await this.originals.upsert({ ...original, reason: original.status === 'rejected' ? (original.reason ?? null) : null });
    return previousKey;
  }

  /** True when a listed original keeps the object under this key (so it must not be removed). */
  isKeyListed(objectKey: string): Promise<boolean> {
    return this.originals.isKeyListed(objectKey);
  }

  async list(userId: string, athleteId: string, query: { status?: OriginalStatus; cursor?: string; limit?: number }): Promise<OriginalList> {
    await this.athletes.assertOwned(userId, athleteId);
    const after = query.cursor === undefined ? undefined : decodeOriginalCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw malformedRequest([{ path: ['cursor'], message: 'not a cursor returned by this API' }]);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const [rows, totals] = await Promise.all([this.originals.findPage(athleteId, query.status, after, limit + 1), this.originals.totals(athleteId, query.status)]);
    const page = rows.slice(0, limit);
    const ids = await this.originals.activityIdsByKey(
      athleteId,
      page.map((row) => row.objectKey),
    );
    const last = page.at(-1);
    return {
      items: page.map((row) => toOriginal(row, ids.get(row.objectKey) ?? [])),
      nextCursor: rows.length > limit && last ? encodeOriginalCursor({ receivedAtMicros: BigInt(last.receivedAtMicros), id: last.id }) : null,
      totals,
    };
  }

  /**
   * For an athlete's export: every original with its exact bytes, one at a time, newest first
   * (the caller has checked ownership).
   */
  async *everyOriginal(athleteId: string): AsyncGenerator<{ original: Original; extension: string; bytes: Uint8Array }> {
    let after: OriginalKeyset | undefined;
    for (;;) {
      const rows = await this.originals.findPage(athleteId, undefined, after, 200);
      if (rows.length === 0) return;
      const ids = await this.originals.activityIdsByKey(
        athleteId,
        rows.map((row) => row.objectKey),
      );
      for (const row of rows) {
        const logical = logicalKey(row.objectKey);
        const bytes = await decodeOriginal(row.objectKey, await this.store.get(row.objectKey));
        yield { original: toOriginal(row, ids.get(row.objectKey) ?? []), extension: logical.slice(logical.lastIndexOf('.') + 1), bytes };
      }
      const last = rows.at(-1)!;
      after = { receivedAtMicros: BigInt(last.receivedAtMicros), id: last.id };
    }
  }

  /** GET /athletes/{id}/originals/{sha256}: the exact bytes as received. */
  async bytes(userId: string, athleteId: string, sha256: string) {
    await this.athletes.assertOwned(userId, athleteId);
    const row = await this.originals.findBySha256(athleteId, sha256);
    if (!row) throw new ORPCError('NOT_FOUND', { message: 'No original with this SHA-256' });
    let bytes: Uint8Array;
    try {
      bytes = await decodeOriginal(row.objectKey, await this.store.get(row.objectKey));
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      this.logger.error(`The original ${row.objectKey} is listed but missing from object storage`);
      throw new ORPCError('NOT_FOUND', { message: 'The original is missing from object storage' });
    }
    const logical = logicalKey(row.objectKey);
    const extension = logical.slice(logical.lastIndexOf('.') + 1);
    const filename = downloadName(row.fileName, `${sha256}.${extension}`);
    return {
      headers: { 'content-disposition': `attachment; filename="${filename}"`, 'x-original-sha256': sha256 },
      body: new File([bytes as Uint8Array<ArrayBuffer>], filename, { type: MEDIA_TYPES[extension] ?? 'application/octet-stream' }),
    };
  }
}

/** The last part of the uploaded name, reduced to characters safe in a quoted header value; else the fallback. */
function downloadName(fileName: string | null, fallback: string): string {
  const base = fileName?.split('/').at(-1)?.replace(/[^A-Za-z0-9._ -]/g, '_').trim();
  return base ? base : fallback;
}

function toOriginal(row: OriginalPageRow, activityIds: string[]): Original {
  return {
    sha256: row.sha256,
    source: row.source,
    fileName: row.fileName,
    format: row.format,
    byteSize: row.byteSize,
    storedByteSize: row.storedByteSize,
    receivedAt: row.receivedAt,
    status: row.status,
    reason: row.reason,
    activityIds,
  };
}
