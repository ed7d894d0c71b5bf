import { Injectable } from '@nestjs/common';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Database } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { providerConnections, providerPushReceipts, type ProviderConnectionRow } from '../../../database/schema/index.js';

/** The Garmin side's queries: connections by Garmin user id, push receipts, backfill counters. */
@Injectable()
export class GarminRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  /** The Garmin connections of these Garmin user ids (at most one each: provider_connections_provider_account_key). */
  byGarminUsers(userIds: string[]): Promise<ProviderConnectionRow[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(providerConnections)
      .where(and(eq(providerConnections.provider, 'garmin'), inArray(providerConnections.providerAthleteId, userIds)));
  }

  /** Garmin connections whose backfill is pending with this last error (not revoked). */
  pendingBackfills(lastError: string): Promise<ProviderConnectionRow[]> {
    return this.db
      .select()
      .from(providerConnections)
      .where(
        and(
          eq(providerConnections.provider, 'garmin'),
          eq(providerConnections.backfillStatus, 'pending'),
          eq(providerConnections.backfillLastError, lastError),
          ne(providerConnections.status, 'revoked'),
        ),
      );
  }

  async seen(bodySha256: string): Promise<boolean> {
    const [row] = await this.db
      .select({ kind: providerPushReceipts.kind })
      .from(providerPushReceipts)
      .where(and(eq(providerPushReceipts.provider, 'garmin'), eq(providerPushReceipts.bodySha256, bodySha256)));
    return row !== undefined;
  }

  async recordReceipt(bodySha256: string, kind: string): Promise<void> {
    await this.db.insert(providerPushReceipts).values({ provider: 'garmin', bodySha256, kind }).onConflictDoNothing();
  }

  /** An event arrived for the connection: `lastEventAt`, and `created` more activities in its backfill counter. */
  async recordEvent(id: string, created = 0): Promise<void> {
    await this.db
      .update(providerConnections)
      .set({ lastEventAt: new Date(), backfillFetched: sql`${providerConnections.backfillFetched} + ${created}` })
      .where(eq(providerConnections.id, id));
  }
}
