import { Injectable } from '@nestjs/common';
import { and, eq, inArray, min, sql } from 'drizzle-orm';
import type { Database } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { providerConnections, providerSyncItems, type ProviderSyncItemRow } from '../../../database/schema/index.js';
import { executedRows } from '../../../database/executed-rows.js';

/** Priorities of work rows: webhook events, then the next page of the list, then backfill details. */
export const PRIORITY = { event: 2, list: 1, detail: 0 } as const;

/** How long a worker holds a row it took; a process that died lets go when it runs out. */
export const LEASE_MS = 2 * 60 * 1000;

export type NewItem = Pick<ProviderSyncItemRow, 'kind' | 'externalId' | 'priority' | 'position'>;

/** The provider_sync_items rows: what each connection has left to do. */
@Injectable()
export class SyncItemsRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  /**
   * Adds work; a row already there keeps its place unless the new one is more urgent (a webhook
   * event for an activity the backfill has not reached yet). A deletion withdraws a pending fetch.
   */
  async add(queue: string, connectionId: string, items: NewItem[]): Promise<void> {
    if (items.length === 0) return;
    const deleted = items.filter((item) => item.kind === 'delete').map((item) => item.externalId);
    if (deleted.length > 0) {
      await this.db
        .delete(providerSyncItems)
        .where(and(eq(providerSyncItems.connectionId, connectionId), eq(providerSyncItems.kind, 'fetch'), inArray(providerSyncItems.externalId, deleted)));
    }
    for (let i = 0; i < items.length; i += 1000) {
      await this.db
        .insert(providerSyncItems)
        .values(items.slice(i, i + 1000).map((item) => ({ ...item, queue, connectionId })))
        .onConflictDoUpdate({
          target: [providerSyncItems.connectionId, providerSyncItems.kind, providerSyncItems.externalId],
          set: {
            priority: sql`greatest(${providerSyncItems.priority}, excluded.priority)`,
            position: sql`case when excluded.priority > ${providerSyncItems.priority} then excluded.position else ${providerSyncItems.position} end`,
            // Asked for again (an update event while the create is being fetched): the worker holding it does it once more.
            generation: sql`${providerSyncItems.generation} + 1`,
          },
        });
    }
  }

  /** Takes the connection's most urgent row nobody holds (newest first within a priority), leased until `now + LEASE_MS`. */
  async claim(queue: string, connectionId: string, now: Date): Promise<ProviderSyncItemRow | undefined> {
    const rows = await this.db.execute<Record<string, unknown>>(sql`
      update ${providerSyncItems} set lease_until = ${new Date(now.getTime() + LEASE_MS).toISOString()}::timestamptz
      where (connection_id, kind, external_id) = (
        select connection_id, kind, external_id from ${providerSyncItems}
        where connection_id = ${connectionId} and queue = ${queue} and (lease_until is null or lease_until <= ${now.toISOString()}::timestamptz)
        order by priority desc, position desc
        limit 1
        for update skip locked
      )
      returning id, connection_id, kind, external_id, priority, position, attempts, generation`);
    const list = executedRows<Record<string, unknown>>(rows);
    const row = list[0];
    if (!row) return undefined;
    return {
      id: row.id as string,
      connectionId: row.connection_id as string,
      queue,
      kind: row.kind as ProviderSyncItemRow['kind'],
      externalId: row.external_id as string,
      priority: Number(row.priority),
      position: Number(row.position),
      attempts: Number(row.attempts),
      generation: Number(row.generation),
      leaseUntil: null,
      lastError: null,
      createdAt: now,
    };
  }

  private where(item: Pick<ProviderSyncItemRow, 'connectionId' | 'kind' | 'externalId'>) {
    return and(eq(providerSyncItems.connectionId, item.connectionId), eq(providerSyncItems.kind, item.kind), eq(providerSyncItems.externalId, item.externalId));
  }

  /** The row is done, unless its work was asked for again meanwhile: then it is given back for another round. */
  async done(item: ProviderSyncItemRow): Promise<void> {
    const deleted = await this.db
      .delete(providerSyncItems)
      .where(and(this.where(item), eq(providerSyncItems.generation, item.generation)))
      .returning({ kind: providerSyncItems.kind });
    if (deleted.length === 0) await this.release(item);
  }

  /** Gives the row back, to be taken from `notBefore` on (null: at once). */
  async release(item: ProviderSyncItemRow, notBefore: Date | null = null, failure?: string): Promise<void> {
    await this.db
      .update(providerSyncItems)
      .set({ leaseUntil: notBefore, ...(failure !== undefined ? { attempts: sql`${providerSyncItems.attempts} + 1`, lastError: failure } : {}) })
      .where(this.where(item));
  }

  /** Lets go of every row this process holds (at shutdown): the next process takes them at once. */
  async releaseAll(held: ProviderSyncItemRow[]): Promise<void> {
    for (const item of held) await this.release(item);
  }

  async clear(connectionId: string): Promise<void> {
    await this.db.delete(providerSyncItems).where(eq(providerSyncItems.connectionId, connectionId));
  }

  /**
   * When the connection's rows nobody can take now become free: `retry` the first row waiting after
   * a failure, `lease` the first row a worker holds (it frees itself when that worker ends; only a
   * process that died leaves it to its lease).
   */
  async waiting(queue: string, connectionId: string): Promise<{ retry: Date | null; lease: Date | null }> {
    const [row] = await this.db
      .select({
        retry: sql<string | null>`min(${providerSyncItems.leaseUntil}) filter (where ${providerSyncItems.attempts} > 0)`,
        lease: sql<string | null>`min(${providerSyncItems.leaseUntil}) filter (where ${providerSyncItems.attempts} = 0)`,
      })
      .from(providerSyncItems)
      .where(and(eq(providerSyncItems.connectionId, connectionId), eq(providerSyncItems.queue, queue)));
    return { retry: row?.retry ? new Date(row.retry) : null, lease: row?.lease ? new Date(row.lease) : null };
  }

  /** Connections of this queue with work left (for the wake-up at boot: work outlives the process). */
  async connectionsWithWork(queue: string): Promise<{ connectionId: string; at: Date | null }[]> {
    const rows = await this.db
      .select({ connectionId: providerSyncItems.connectionId, free: sql<number>`count(*) filter (where ${providerSyncItems.leaseUntil} is null)::int`, next: min(providerSyncItems.leaseUntil) })
      .from(providerSyncItems)
      .where(eq(providerSyncItems.queue, queue))
      .groupBy(providerSyncItems.connectionId);
    return rows.map((row) => ({ connectionId: row.connectionId, at: row.free > 0 || !row.next ? null : new Date(row.next as unknown as string) }));
  }

  /**
   * The backfill counters of the connection row from its rows: `pending` the activities listed and
   * not fetched in full yet; whether the backfill still has work (the list or details).
   */
  async backfillLeft(connectionId: string): Promise<{ pending: number; listing: boolean }> {
    const [row] = await this.db
      .select({
        pending: sql<number>`count(*) filter (where ${providerSyncItems.kind} = 'fetch' and ${providerSyncItems.priority} = ${PRIORITY.detail})::int`,
        listing: sql<number>`count(*) filter (where ${providerSyncItems.kind} = 'list')::int`,
      })
      .from(providerSyncItems)
      .where(eq(providerSyncItems.connectionId, connectionId));
    return { pending: row?.pending ?? 0, listing: (row?.listing ?? 0) > 0 };
  }

  /** The connection row's backfill columns and status, moved together. */
  async setBackfill(connectionId: string, values: Partial<typeof providerConnections.$inferInsert>): Promise<void> {
    await this.db.update(providerConnections).set(values).where(eq(providerConnections.id, connectionId));
  }

  async countFetched(connectionId: string, by: number): Promise<void> {
    await this.db
      .update(providerConnections)
      .set({ backfillFetched: sql`${providerConnections.backfillFetched} + ${by}` })
      .where(eq(providerConnections.id, connectionId));
  }

  /** Connection rows by provider account (webhooks name the owner by the provider's id). */
  async connectionByAccount(provider: 'strava' | 'garmin', providerAthleteId: string) {
    const [row] = await this.db
      .select()
      .from(providerConnections)
      .where(and(eq(providerConnections.provider, provider), eq(providerConnections.providerAthleteId, providerAthleteId)));
    return row;
  }
}
