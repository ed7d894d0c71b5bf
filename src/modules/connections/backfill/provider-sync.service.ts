import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ConnectionProvider } from '@unified-activity/contract';
import { and, eq, isNull, lte, or, gt, sql } from 'drizzle-orm';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { Database } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { providerConnections, type ProviderConnectionRow, type ProviderSyncItemRow } from '../../../database/schema/index.js';
import { ConnectionsRepository } from '../connections.repository.js';
import { ConnectionRevoked } from '../access-tokens.js';
import { ProviderQueue } from './provider-queue.js';
import { RateLimited } from './rate-budget.js';
import { PRIORITY, SyncItemsRepository, type NewItem } from './sync-items.repository.js';

/** What a provider does with its connections' work rows (strava/strava-sync.ts; a new provider is one more). */
export interface ProviderWorker {
  /** The rows a new backfill starts with (and whatever it resets, e.g. the list cursor). */
  startBackfill(connection: ProviderConnectionRow): Promise<NewItem[]>;
  /**
   * Does one row. Throws RateLimited (the row waits for the window), ConnectionRevoked (the
   * connection's work is dropped) or anything else (retried with a growing delay).
   */
  process(connection: ProviderConnectionRow, item: ProviderSyncItemRow): Promise<WorkOutcome>;
}

/** What one row led to. */
export interface WorkOutcome {
  /** Activities fetched in full (the connection's backfill counter). */
  fetched?: number;
  /** New rows (a page's activities to fetch): added before `commit`, so a crash between the two only repeats work. */
  more?: NewItem[];
  /** Stores what the row fetched (and moves its cursor), after `more` is queued. */
  commit?: () => Promise<void>;
  /** The row stays for another round (the list, until its last page). */
  keep?: boolean;
}

/** The provider's worker will not backfill this connection (e.g. no activity scope granted); `message` says why. */
export class BackfillRefused extends Error {}

/** A failed row waits 5 s, 10 s, 20 s … at most an hour. */
export const retryDelayMs = (attempts: number) => Math.min(3_600_000, 5_000 * 2 ** Math.max(0, attempts - 1));

/**
 * Runs provider work: a pg-boss job names a connection; the worker takes its rows one at a time
 * (most urgent first, each under a lease), hands each to the provider's worker and keeps the
 * connection row's status and backfill counters. A rate limit releases the row and defers one
 * wake-up to the instant the budget allows (the connection shows `rate_limited` with
 * `nextAttemptAt`); nothing polls or retries meanwhile.
 */
@Injectable()
export class ProviderSyncService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ProviderSync');
  private readonly workers = new Map<ConnectionProvider, ProviderWorker>();
  private stopping = false;
  private readonly held = new Set<ProviderSyncItemRow>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectDb() private readonly db: Database,
    private readonly items: SyncItemsRepository,
    private readonly connections: ConnectionsRepository,
    readonly queue: ProviderQueue,
  ) {}

  /** A provider's worker registers itself here (its module's constructor). */
  register(provider: ConnectionProvider, worker: ProviderWorker): void {
    this.workers.set(provider, worker);
  }

  get queueName(): string {
    return this.queue.name;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.workers.size === 0) return;
    await this.startWorker();
  }

  private async startWorker(): Promise<void> {
    try {
      await this.queue.work((id) => this.run(id));
      if (this.env.CONNECTION_WORKERS === 0) return;
      // Work outlives the process: rows left by the last one (stopped, or crashed with its leases) are woken.
      for (const { connectionId, at } of await this.items.connectionsWithWork(this.queue.name)) {
        await this.queue.wake(connectionId, { startAfter: at ?? undefined, workers: this.env.CONNECTION_WORKERS });
      }
    } catch (error) {
      this.logger.warn(`Provider work not started yet (retrying in 5 s): ${error instanceof Error ? error.message : String(error)}`);
      this.retryTimer = setTimeout(() => void this.startWorker(), 5_000);
      this.retryTimer.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Running rows finish (each is one or two requests); the loops take no new row; pg-boss stops gracefully.
    this.stopping = true;
    await this.queue.stop();
    await this.items.releaseAll([...this.held]).catch(() => undefined);
  }

  /** Starts (or restarts) the connection's backfill: its first rows, the counters reset, the workers woken. */
  async startBackfill(connection: ProviderConnectionRow): Promise<void> {
    const worker = this.workers.get(connection.provider);
    if (!worker) return;
    let first: NewItem[];
    try {
      first = await worker.startBackfill(connection);
    } catch (error) {
      if (!(error instanceof BackfillRefused)) throw error;
      await this.items.setBackfill(connection.id, { status: 'error', backfillStatus: 'error', backfillLastError: error.message });
      return;
    }
    await this.items.add(this.queue.name, connection.id, first);
    await this.items.setBackfill(connection.id, {
      status: 'backfilling',
      backfillStatus: 'running',
      backfillFetched: 0,
      backfillPending: 0,
      backfillNextAttemptAt: null,
      backfillLastError: null,
    });
    await this.queue.wake(connection.id, { workers: Math.max(1, this.env.CONNECTION_WORKERS) });
  }

  /** Interactive work (a webhook event): queued before any backfill row, woken at once. */
  async enqueueEvent(connection: ProviderConnectionRow, items: NewItem[]): Promise<void> {
    await this.items.add(this.queue.name, connection.id, items);
    await this.connections.update(connection.id, { lastEventAt: new Date() });
    await this.queue.wake(connection.id, { interactive: true });
  }

  /** One job: the connection's rows until none is left to take now. */
  async run(connectionId: string): Promise<void> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) return;
    const worker = this.workers.get(connection.provider);
    if (!worker) return;
    if (!connection.tokensCiphertext) {
      await this.items.clear(connectionId);
      return;
    }
    while (!this.stopping) {
      const item = await this.items.claim(this.queue.name, connectionId, new Date());
      if (!item) break;
      this.held.add(item);
      try {
        const outcome = await worker.process(connection, item);
        if (outcome.more?.length) {
          await this.items.add(this.queue.name, connectionId, outcome.more);
          // New rows to share: the other workers (which may have found none and left) are woken.
          if (this.env.CONNECTION_WORKERS > 1) await this.queue.wake(connectionId, { workers: this.env.CONNECTION_WORKERS - 1 });
        }
        await outcome.commit?.();
        if (outcome.keep) await this.items.release(item);
        else await this.items.done(item);
        if (outcome.fetched) await this.items.countFetched(connectionId, outcome.fetched);
      } catch (error) {
        if (error instanceof RateLimited) {
          await this.items.release(item);
          await this.rateLimited(connectionId, error.until);
          return;
        }
        if (error instanceof ConnectionRevoked) {
          await this.items.clear(connectionId);
          await this.items.setBackfill(connectionId, { status: 'revoked', backfillStatus: 'error', backfillLastError: 'The provider refused the tokens: connect again', backfillNextAttemptAt: null });
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        const at = new Date(Date.now() + retryDelayMs(item.attempts + 1));
        this.logger.warn(`${connection.provider} ${item.kind} ${item.externalId || ''} of connection ${connectionId} failed (attempt ${item.attempts + 1}, again at ${at.toISOString()}): ${message}`);
        await this.items.release(item, at, message);
        await this.items.setBackfill(connectionId, { backfillLastError: message });
        await this.wakeAt(connectionId, at);
      } finally {
        this.held.delete(item);
      }
      await this.refreshCounters(connectionId);
    }
    await this.refreshCounters(connectionId);
    if (this.stopping) return;
    const waiting = await this.items.waiting(this.queue.name, connectionId);
    if (waiting.retry) await this.wakeAt(connectionId, waiting.retry);
    // A row held elsewhere is finished by its worker; should that process have died, its lease runs out then.
    if (waiting.lease) await this.queue.wake(connectionId, { startAfter: waiting.lease, oncePerMinute: 'lease' });
  }

  private async rateLimited(connectionId: string, until: Date): Promise<void> {
    // The instant first, then the status: a reader never sees `rate_limited` without `nextAttemptAt`.
    await this.wakeAt(connectionId, until, this.env.CONNECTION_WORKERS);
    await this.db
      .update(providerConnections)
      .set({ status: 'rate_limited', backfillStatus: sql`case when ${providerConnections.backfillStatus} = 'running' then 'rate_limited' else ${providerConnections.backfillStatus} end` })
      .where(and(eq(providerConnections.id, connectionId), sql`${providerConnections.status} <> 'revoked'`));
  }

  /**
   * One deferred wake-up per connection and instant: whoever first sets `backfill_next_attempt_at`
   * to `at` (none set, one already past, or a later one) sends the jobs; the others see it set.
   */
  private async wakeAt(connectionId: string, at: Date, workers = 1): Promise<void> {
    const set = await this.db
      .update(providerConnections)
      .set({ backfillNextAttemptAt: at })
      .where(
        and(
          eq(providerConnections.id, connectionId),
          or(isNull(providerConnections.backfillNextAttemptAt), lte(providerConnections.backfillNextAttemptAt, new Date()), gt(providerConnections.backfillNextAttemptAt, at)),
        ),
      )
      .returning({ id: providerConnections.id });
    if (set.length > 0) await this.queue.wake(connectionId, { startAfter: at, workers: Math.max(1, workers) });
  }

  /** The connection row from its work rows: pending details, and whether the backfill is done. */
  private async refreshCounters(connectionId: string): Promise<void> {
    const { pending, listing } = await this.items.backfillLeft(connectionId);
    const done = pending === 0 && !listing;
    await this.db
      .update(providerConnections)
      .set({
        backfillPending: pending,
        status: sql`case when ${providerConnections.status} in ('revoked', 'error') then ${providerConnections.status} when ${sql.raw(String(done))} then 'active' else 'backfilling' end`,
        backfillStatus: sql`case when ${providerConnections.backfillStatus} in ('pending', 'error') and ${sql.raw(String(done))} then ${providerConnections.backfillStatus} when ${sql.raw(String(done))} then 'done' else 'running' end`,
        backfillNextAttemptAt: sql`case when ${providerConnections.backfillNextAttemptAt} > now() then ${providerConnections.backfillNextAttemptAt} else null end`,
      })
      .where(eq(providerConnections.id, connectionId));
  }

  /** The priority of a webhook event's rows (exported for providers). */
  static readonly EVENT = PRIORITY.event;
}
