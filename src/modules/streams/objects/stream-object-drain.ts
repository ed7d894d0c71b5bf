import { Logger } from '@nestjs/common';
import type { ObjectStore } from '../storage/object-store.js';
import type { StreamsRepository } from '../streams.repository.js';

/** How often an entry whose object is not in this process's store is handed back before it is completed (1 s, 2 s, … 10 s apart, each taken up at a poll at the latest). */
const MISSING_RETRIES = 10;
const MISSING_MARK = 'object not in this process’s store (hand-back ';
const missingCount = (lastError: string | null) =>
  lastError?.startsWith(MISSING_MARK) ? Number(lastError.slice(MISSING_MARK.length).replace(')', '')) || 0 : 0;

export interface StreamObjectDrainOptions {
  /**
   * How often the outbox is polled when nobody kicks the drain; 10 s by default (60 s on the embedded
   * database: StreamsService). Deletions made by this process kick it at once, and the retries it
   * sets after its store refused bring the next look forward to when the first is due (not an entry
   * handed back as missing from its store); the poll finds other replicas' entries, and is a query each time, which an idle server
   * should rarely make (issue 24, bench:footprint).
   */
  intervalMs?: number;
  /** Entries per batch (one DeleteObjects request). */
  batchSize?: number;
  /** How long a claimed batch is reserved for this drain (its store call must finish within it). */
  leaseMs?: number;
  /** Retry backoff: min(maxBackoffMs, baseBackoffMs · 2^(attempts)). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface DrainResult {
  deleted: number;
  failed: number;
}

/**
 * Drains the deletion outbox (stream_object_deletions): removes the objects of deleted or superseded
 * streams from the object store, then their outbox rows; when the store is down, the entries stay and
 * are retried with exponential backoff until they succeed. Several replicas may drain at once — a
 * batch is claimed with FOR UPDATE SKIP LOCKED and leased, so no two work on the same entry.
 */
export class StreamObjectDrain {
  private readonly logger = new Logger('StreamObjectDrain');
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<DrainResult> | undefined;
  /** The soonest retry this drain set since its last tick (ms from when it was set). */
  private soonestRetryMs: number | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly repository: StreamsRepository,
    private readonly store: ObjectStore,
    options: StreamObjectDrainOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.batchSize = options.batchSize ?? 100;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.baseBackoffMs = options.baseBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Drain soon (after a delete or a swap), without waiting for the next poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Everything due now, batch after batch; used by the timer, the sweep and tests. */
  async drainAll(): Promise<DrainResult> {
    const total: DrainResult = { deleted: 0, failed: 0 };
    for (;;) {
      const batch = await this.drainBatch();
      total.deleted += batch.deleted;
      total.failed += batch.failed;
      if (batch.deleted + batch.failed < this.batchSize || batch.failed > 0) return total;
    }
  }

  private async drainBatch(): Promise<DrainResult> {
    let claimed = await this.repository.claimDeletions(this.batchSize, this.leaseMs);
    if (claimed.length === 0) return { deleted: 0, failed: 0 };
    try {
      // Every process that shares the database drains the one outbox. An object missing from this
      // process's store is usually already gone (complete it), but may live in another store on the
      // same database (test suites run several); so it is handed back a few times first, for the
      // process that wrote it, and completed after MISSING_RETRIES tries.
      const present = await Promise.all(claimed.map(async (entry) => (await this.store.stat(entry.objectKey)) !== undefined));
      const handBack = claimed.filter((entry, index) => !present[index] && missingCount(entry.lastError) < MISSING_RETRIES);
      for (const entry of handBack) {
        const count = missingCount(entry.lastError) + 1;
        // Not looked for sooner than the next poll: the entry is most likely another store's, and
        // its hand-backs are meant to be spread over that many polls (an eager look completed other
        // processes' entries as missing before their own drain could take them: CI, streams-faults).
        await this.repository.retryDeletions([entry.id], this.baseBackoffMs * count, `${MISSING_MARK}${count})`);
      }
      if (handBack.length > 0) {
        claimed = claimed.filter((entry) => !handBack.includes(entry));
        if (claimed.length === 0) return { deleted: 0, failed: 0 };
      }
      await this.store.delete(claimed.map((entry) => entry.objectKey));
    } catch (error) {
      // Each entry backs off from its own attempts: a batch can mix entries of other stores on the
      // same database, and a long-failing one must not hold back entries that just arrived.
      const message = error instanceof Error ? error.message : String(error);
      const byAttempts = new Map<number, typeof claimed>();
      for (const entry of claimed) byAttempts.set(entry.attempts, [...(byAttempts.get(entry.attempts) ?? []), entry]);
      for (const [attempts, entries] of byAttempts) {
        const retryIn = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** attempts);
        await this.repository.retryDeletions(entries.map((entry) => entry.id), retryIn, message);
        this.retryIn(retryIn);
      }
      const fresh = byAttempts.get(0)?.length ?? 0;
      if (fresh > 0) this.logger.warn(`Object store refused ${fresh} deletion(s); retrying in ${this.baseBackoffMs} ms: ${message}`);
      return { deleted: 0, failed: claimed.length };
    }
    await this.repository.completeDeletions(claimed.map((entry) => entry.id));
    return { deleted: claimed.length, failed: 0 };
  }

  private retryIn(ms: number): void {
    this.soonestRetryMs = Math.min(this.soonestRetryMs ?? Infinity, ms);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.again = false;
    this.soonestRetryMs = undefined;
    let next = this.intervalMs;
    this.running = this.drainAll();
    try {
      await this.running;
    } catch (error) {
      this.logger.warn(`Draining the stream deletion outbox failed; retrying: ${String(error)}`);
      next = Math.min(next, 10_000);
    } finally {
      this.running = undefined;
    }
    // A retry set by this round (its entries' not_before) is looked for when it is due, not a poll later.
    if (this.soonestRetryMs !== undefined) next = Math.min(next, this.soonestRetryMs + 50);
    if (!this.stopped) this.schedule(this.again ? 0 : next);
  }
}
