import { Injectable } from '@nestjs/common';
import type { ConnectionProvider } from '@unified-activity/contract';
import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
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
   * Takes the connection's token-refresh lease for `ms` (one conditional UPDATE, no transaction
   * held): only while the stored tokens are still `tokensCiphertext` (the ones the caller read and
   * means to refresh) and no other lease is running. True when taken.
   */
  async takeRefreshLease(id: string, tokensCiphertext: string, leaseId: string, ms: number): Promise<boolean> {
    const taken = await this.db
      .update(providerConnections)
      .set({ refreshLeaseId: leaseId, refreshLeaseUntil: sql`now() + ${`${ms} milliseconds`}::interval` })
      .where(
        and(
          eq(providerConnections.id, id),
          eq(providerConnections.tokensCiphertext, tokensCiphertext),
          or(isNull(providerConnections.refreshLeaseUntil), lt(providerConnections.refreshLeaseUntil, sql`now()`)),
        ),
      )
      .returning({ id: providerConnections.id });
    return taken.length > 0;
  }

  /** Ends the lease if it is still `leaseId`'s (another refresher may have taken it over). */
  async releaseRefreshLease(id: string, leaseId: string): Promise<void> {
    await this.db
      .update(providerConnections)
      .set({ refreshLeaseId: null, refreshLeaseUntil: null })
      .where(and(eq(providerConnections.id, id), eq(providerConnections.refreshLeaseId, leaseId)));
  }

  /**
   * Stores renewed tokens in place of `fromCiphertext`, the tokens they were refreshed from (a
   * compare-and-set: if another refresher stored newer tokens meanwhile, or the connection was
   * revoked or deleted, nothing is written and the answer is false), and ends `leaseId`'s lease.
   * Conditioned on the tokens rather than the lease: a refresher whose lease ran out while the
   * provider answered still stores the only valid successor of the spent refresh token.
   */
  async storeRefreshedTokens(
    id: string,
    fromCiphertext: string,
    leaseId: string,
    tokens: Pick<NewProviderConnectionRow, 'tokensCiphertext' | 'tokensKeyId' | 'tokenExpiresAt'>,
  ): Promise<boolean> {
    const stored = await this.db
      .update(providerConnections)
      .set({
        ...tokens,
        refreshLeaseId: sql`case when ${providerConnections.refreshLeaseId} = ${leaseId} then null else ${providerConnections.refreshLeaseId} end`,
        refreshLeaseUntil: sql`case when ${providerConnections.refreshLeaseId} = ${leaseId} then null else ${providerConnections.refreshLeaseUntil} end`,
      })
      .where(and(eq(providerConnections.id, id), eq(providerConnections.tokensCiphertext, fromCiphertext)))
      .returning({ id: providerConnections.id });
    return stored.length > 0;
  }

  /**
   * Marks the connection revoked and forgets its tokens, if they are still `fromCiphertext` (the
   * refresh token the provider refused). False when newer tokens were stored meanwhile.
   */
  async revokeTokens(id: string, fromCiphertext: string): Promise<boolean> {
    const revoked = await this.db
      .update(providerConnections)
      .set({ status: 'revoked', tokensCiphertext: null, tokensKeyId: null, tokenExpiresAt: null, refreshLeaseId: null, refreshLeaseUntil: null })
      .where(and(eq(providerConnections.id, id), eq(providerConnections.tokensCiphertext, fromCiphertext)))
      .returning({ id: providerConnections.id });
    return revoked.length > 0;
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
