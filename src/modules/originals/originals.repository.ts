import { Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, getTableColumns, inArray, isNull, sql, sum } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { activities, originals, type NewOriginalRow, type OriginalRow, type OriginalStatus } from '../../database/schema/index.js';

/** Where a page of originals starts after: the (received_at, id) of the previous page's last row, received_at in microseconds. */
export interface OriginalKeyset {
  receivedAtMicros: bigint;
  id: string;
}

export type OriginalPageRow = OriginalRow & { receivedAtMicros: string };

/** The instant of a keyset, exactly (microseconds, as the column keeps them). */
const keysetInstant = (micros: bigint) => sql`(timestamptz 'epoch' + ${micros.toString()}::bigint * interval '1 microsecond')`;

@Injectable()
export class OriginalsRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async findBySha256(athleteId: string, sha256: string): Promise<OriginalRow | undefined> {
    const [row] = await this.db.select().from(originals).where(and(eq(originals.athleteId, athleteId), eq(originals.sha256, sha256)));
    return row;
  }

  /**
   * Records an original once per (athlete, sha256). Seen again: an import of bytes that were
   * rejected before makes the row imported (reason cleared, its key the imported one's); a rejection
   * never demotes an imported original; sizes and name stay those of the first arrival when known.
   * Answers the row and the key it had before, when an import moved it.
   */
  async upsert(row: NewOriginalRow & { status: OriginalStatus }): Promise<{ row: OriginalRow; previousKey?: string }> {
    // One statement (the file import's last write; it was a transaction of two): the key as the
    // statement's snapshot has it, from a CTE read by the upsert's RETURNING, which shows the new
    // version. Two imports of the same bytes at once may both name the key they saw; a key wrongly
    // named is harmless (the drain keeps an object that a row points at).
    const before = this.db.$with('before').as(
      this.db
        .select({ previousKey: sql<string>`${originals.objectKey}`.as('previous_key') })
        .from(originals)
        .where(and(eq(originals.athleteId, row.athleteId), eq(originals.sha256, row.sha256))),
    );
    const imported = sql`excluded.status = 'imported'`;
    const [stored] = await this.db
      .with(before)
      .insert(originals)
      .values(row)
      .onConflictDoUpdate({
        target: [originals.athleteId, originals.sha256],
        set: {
          status: sql`case when ${imported} then 'imported' else ${originals.status} end`,
          reason: sql`case when ${imported} then null else ${originals.reason} end`,
          objectKey: sql`case when ${imported} then excluded.object_key else ${originals.objectKey} end`,
          format: sql`coalesce(case when ${imported} then excluded.format end, ${originals.format}, excluded.format)`,
          fileName: sql`coalesce(${originals.fileName}, excluded.file_name)`,
          byteSize: sql`coalesce(${originals.byteSize}, excluded.byte_size)`,
          storedByteSize: sql`case when ${imported} and excluded.object_key <> ${originals.objectKey} then excluded.stored_byte_size else coalesce(${originals.storedByteSize}, excluded.stored_byte_size) end`,
          updatedAt: new Date(),
        },
      })
      .returning({ ...getTableColumns(originals), previousKey: sql<string | null>`(select previous_key from before)` });
    const { previousKey: keyBefore, ...returned } = stored!;
    const previousKey = keyBefore !== null && keyBefore !== returned.objectKey ? keyBefore : undefined;
    return { row: returned, ...(previousKey ? { previousKey } : {}) };
  }

  /** One page, newest first, keyset on (received_at, id). */
  async findPage(athleteId: string, status: OriginalStatus | undefined, after: OriginalKeyset | undefined, limit: number): Promise<OriginalPageRow[]> {
    return this.db
      .select({ ...getTableColumns(originals), receivedAtMicros: sql<string>`(extract(epoch from ${originals.receivedAt}) * 1000000)::bigint::text` })
      .from(originals)
      .where(
        and(
          eq(originals.athleteId, athleteId),
          status ? eq(originals.status, status) : undefined,
          after ? sql`(${originals.receivedAt}, ${originals.id}) < (${keysetInstant(after.receivedAtMicros)}, ${after.id}::uuid)` : undefined,
        ),
      )
      .orderBy(desc(originals.receivedAt), desc(originals.id))
      .limit(limit);
  }

  async totals(athleteId: string, status: OriginalStatus | undefined): Promise<{ count: number; byteSize: number; storedByteSize: number }> {
    const [row] = await this.db
      .select({ count: count(), byteSize: sum(originals.byteSize), storedByteSize: sum(originals.storedByteSize) })
      .from(originals)
      .where(and(eq(originals.athleteId, athleteId), status ? eq(originals.status, status) : undefined));
    return { count: row?.count ?? 0, byteSize: Number(row?.byteSize ?? 0), storedByteSize: Number(row?.storedByteSize ?? 0) };
  }

  /** The top-level activities of the athlete that point at each key, in start order. */
  async activityIdsByKey(athleteId: string, keys: readonly string[]): Promise<Map<string, string[]>> {
    const byKey = new Map<string, string[]>();
    if (keys.length === 0) return byKey;
    const rows = await this.db
      .select({ key: activities.sourceArchiveKey, id: activities.id })
      .from(activities)
      .where(and(eq(activities.athleteId, athleteId), inArray(activities.sourceArchiveKey, [...keys]), isNull(activities.parentId)))
      .orderBy(asc(activities.startTime), asc(activities.id));
    for (const row of rows) {
      const ids = byKey.get(row.key!) ?? [];
      ids.push(row.id);
      byKey.set(row.key!, ids);
    }
    return byKey;
  }

  /** True when an original row keeps the object under this key. */
  async isKeyListed(objectKey: string): Promise<boolean> {
    const [row] = await this.db.select({ id: originals.id }).from(originals).where(eq(originals.objectKey, objectKey)).limit(1);
    return row !== undefined;
  }
}
