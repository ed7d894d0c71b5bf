import { Injectable } from '@nestjs/common';
import type { ConnectionProvider } from '@unified-activity/contract';
import { and, asc, eq, lt } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import {
  activities,
  oauthStates,
  providerConnections,
  type NewProviderConnectionRow,
  type OauthStateRow,
  type ProviderConnectionRow,
} from '../../database/schema/index.js';

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Queries on connections and connect flows, scoped to the owning user where a user asks. */
@Injectable()
export class ConnectionsRepository {
  constructor(@InjectDb() private readonly db: Database) {}

  async insertState(values: typeof oauthStates.$inferInsert): Promise<void> {
    // Expired flows nobody finished go with the next one started.
    await this.db.delete(oauthStates).where(lt(oauthStates.expiresAt, new Date()));
    await this.db.insert(oauthStates).values(values);
  }

  /** Takes the state: whoever deletes it first holds it, so a state works once. */
  async takeState(stateHash: string): Promise<OauthStateRow | undefined> {
    const [row] = await this.db.delete(oauthStates).where(eq(oauthStates.stateHash, stateHash)).returning();
    return row;
  }

  list(userId: string, athleteId: string): Promise<ProviderConnectionRow[]> {
    return this.db
      .select()
      .from(providerConnections)
      .where(and(eq(providerConnections.userId, userId), eq(providerConnections.athleteId, athleteId)))
      .orderBy(asc(providerConnections.provider));
  }

  async find(userId: string, athleteId: string, provider: ConnectionProvider): Promise<ProviderConnectionRow | undefined> {
    const [row] = await this.db
      .select()
      .from(providerConnections)
      .where(and(eq(providerConnections.userId, userId), eq(providerConnections.athleteId, athleteId), eq(providerConnections.provider, provider)));
    return row;
  }

  async findById(id: string): Promise<ProviderConnectionRow | undefined> {
    const [row] = await this.db.select().from(providerConnections).where(eq(providerConnections.id, id));
    return row;
  }

  /**
   * The athlete's connection to the provider, new or replaced (connecting again renews the tokens
   * and scopes). Another athlete holding the same provider account violates
   * provider_connections_provider_account_key (the caller answers 409).
   */
  async upsert(values: NewProviderConnectionRow): Promise<ProviderConnectionRow> {
    const { athleteId: _athlete, provider: _provider, userId: _user, ...renewed } = values;
    const [row] = await this.db
      .insert(providerConnections)
      .values(values)
      .onConflictDoUpdate({
        target: [providerConnections.athleteId, providerConnections.provider],
        set: { ...renewed, connectedAt: new Date(), updatedAt: new Date() },
      })
      .returning();
    return row!;
  }

  async update(id: string, values: Partial<NewProviderConnectionRow>, tx: Database | Transaction = this.db): Promise<void> {
    await tx.update(providerConnections).set(values).where(eq(providerConnections.id, id));
  }

  async delete(id: string): Promise<void> {
    await this.db.delete(providerConnections).where(eq(providerConnections.id, id));
  }

  /**
   * Runs `work` holding the connection's row lock (SELECT … FOR UPDATE): concurrent token
   * refreshes of one connection queue here, so a refresh token is spent once.
   */
  withLockedConnection<T>(id: string, work: (row: ProviderConnectionRow | undefined, tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(providerConnections).where(eq(providerConnections.id, id)).for('update');
      return work(row, tx);
    });
  }

  /** The athlete's activities from this provider, for `deleteData` (deleted one by one through the activities service). */
  async activityIds(userId: string, athleteId: string, provider: ConnectionProvider): Promise<string[]> {
    const rows = await this.db
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.userId, userId), eq(activities.athleteId, athleteId), eq(activities.source, provider)));
    return rows.map((row) => row.id);
  }
}
