import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { WebhookEventType } from '@unified-activity/contract';
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { settleWithin } from '../../common/settle-within.js';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import type { Database, DatabaseHandle } from '../../database/database.js';
import { DATABASE_HANDLE, InjectDb } from '../../database/database.module.js';
import {
  changes,
  importJobs,
  syncStates,
  webhookDeliveries,
  webhookDeliveryAttempts,
  webhookEndpoints,
  type ChangeRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from '../../database/schema/index.js';
import { ActivitiesService } from '../activities/activities.service.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { toChange } from '../changes/changes.service.js';
import { ChangesRepository } from '../changes/changes.repository.js';
import { toJob } from '../imports/imports.service.js';
import { toState } from '../sync/sync.service.js';
import { UnknownKeyError } from '../connections/token-cipher.js';
import { TargetRefusedError } from './target-guard.js';
import { sendWebhook, type SendOutcome } from './webhook-sender.js';
import { WebhooksService } from './webhooks.service.js';

/** Changes turned into deliveries per endpoint and round; deliveries sent at once per round. */
const FAN_OUT_BATCH = 500;
const SEND_BATCH = 50;
/**
 * With no active endpoint in the database a round is one query, and the next comes after this many
 * polls (5 s by default): an idle server's CPU (issue 24, bench:footprint). An endpoint created or
 * enabled in this process ends the wait at once (WebhooksService.onActivation); one created by
 * another replica is found by the next idle round. A new endpoint receives only the changes after
 * its creation, so at worst its first delivery waits that long.
 */
export const IDLE_POLL_FACTOR = 5;

/**
 * On the embedded database every endpoint is created in this process (one process owns the folder),
 * so the idle round is only a safety net: once a minute at the default poll (each round is a query
 * PGlite runs in this process's CPU; docs/benchmarks.md, "Idle polls on the embedded database").
 */
export const EMBEDDED_IDLE_POLL_FACTOR = 60;

/** The event type of a change, or undefined when it has none. */
export function eventTypeOf(change: Pick<ChangeRow, 'entity' | 'op' | 'inserted'>): WebhookEventType | undefined {
  switch (change.entity) {
    case 'activity':
      return change.op === 'delete' ? 'activity.deleted' : change.inserted ? 'activity.created' : 'activity.updated';
    case 'stream':
      return change.op === 'delete' ? 'stream.deleted' : 'stream.updated';
    case 'athlete':
      return change.op === 'delete' ? 'athlete.deleted' : change.inserted ? 'athlete.created' : 'athlete.updated';
    case 'sync_state':
      return change.op === 'delete' ? undefined : 'sync.updated';
    case 'connection':
      return change.op === 'delete' ? 'connection.deleted' : 'connection.updated';
    case 'sync_run':
      return 'sync.finished';
    case 'import':
      return 'import.finished';
  }
}

/** Exponential backoff with jitter: base·2^(n−1), capped, then a random 50–100 % of it. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full / 2 + random() * (full / 2));
}

/**
 * Feeds webhook endpoints from the change feed and sends their deliveries (README "Following
 * changes"). Each round: (1) for every active endpoint, the feed after its cursor (the same
 * watermark rule as GET /changes, so nothing is skipped) becomes delivery rows and the cursor moves,
 * in one transaction; (2) due deliveries are claimed with a lease (FOR UPDATE SKIP LOCKED, so
 * replicas share the work, and a process that dies mid-send leaves a delivery that is sent again
 * when the lease ends: at least once), at most one per endpoint and activity at a time and the
 * oldest first (in order per activity), signed per Standard Webhooks and POSTed to the address the
 * SSRF guard checked. Failures retry with exponential backoff and jitter for WEBHOOK_RETRY_WINDOW_MS;
 * then the delivery is given up and its endpoint disabled with the reason.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectDb() private readonly db: Database,
    @Inject(DATABASE_HANDLE) private readonly database: DatabaseHandle,
    private readonly changesRepository: ChangesRepository,
    private readonly webhooks: WebhooksService,
    private readonly activities: ActivitiesService,
    private readonly athletes: AthletesService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.WEBHOOK_DISPATCH) return;
    this.stopListening = this.webhooks.onActivation(() => this.wakeFromIdle());
    this.schedule(0);
  }

  private stopListening: (() => void) | undefined;
  /** Set while the timer is an idle wait (no active endpoint at the last round). */
  private idle = false;

  /** An endpoint became active: an idle wait ends now (a round in progress is followed by the usual poll). */
  private wakeFromIdle(): void {
    if (!this.idle || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    if (this.timer) clearTimeout(this.timer);
    await settleWithin(this.round);
  }

  private schedule(delay: number, idle = false): void {
    if (this.stopped) return;
    this.idle = idle;
    this.timer = setTimeout(() => {
      this.idle = false;
      const round = this.runRound();
      this.round = round.then(() => undefined);
      // No endpoint anywhere: nothing can be due, so the next look comes after the idle factor's polls.
      const idleFactor = this.database.kind === 'pglite' ? EMBEDDED_IDLE_POLL_FACTOR : IDLE_POLL_FACTOR;
      void round.then((endpoints) =>
        endpoints === 0 ? this.schedule(this.env.WEBHOOK_POLL_MS * idleFactor, true) : this.schedule(this.env.WEBHOOK_POLL_MS),
      );
    }, delay);
    this.timer.unref();
  }

  /** One round; answers the number of active endpoints (undefined when the round failed). */
  private async runRound(): Promise<number | undefined> {
    try {
      const endpoints = await this.fanOut();
      // Deliveries are sent only to active endpoints: with none, there is nothing to claim.
      // A full batch means more are due: keep sending rather than wait for the next poll.
      if (endpoints > 0) while (!this.stopped && (await this.sendDue()) === SEND_BATCH);
      return endpoints;
    } catch (error) {
      if (!this.stopped) this.logger.warn(`Webhook round failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** One round now (tests, bench). */
  async runOnce(): Promise<void> {
    await this.fanOut();
    await this.sendDue();
  }

  /** Fans the feed out to every active endpoint; answers how many there are. */
  private async fanOut(): Promise<number> {
    const endpoints = await this.db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.status, 'active'));
    if (endpoints.length === 0) return 0;
    const { watermark } = await this.changesRepository.bounds();
    for (const { id } of endpoints) {
      for (;;) {
        const more = await this.fanOutEndpoint(id, watermark);
        if (!more) break;
      }
    }
    return endpoints.length;
  }

  /**
   * Turns up to FAN_OUT_BATCH changes into deliveries for one endpoint; true when more are waiting.
   * The payloads are built outside the transaction (they read the activities); the transaction then
   * writes them only if the endpoint's cursor has not moved meanwhile (another replica's round).
   */
  private async fanOutEndpoint(id: string, watermark: number): Promise<boolean> {
    const [endpoint] = await this.db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.status, 'active')));
    if (!endpoint) return false;
    const rows = await this.db
      .select()
      .from(changes)
      .where(
        and(
          eq(changes.userId, endpoint.userId),
          sql`(${changes.pos}, ${changes.seq}) > (${endpoint.cursorPos}, ${endpoint.cursorSeq})`,
          lt(changes.pos, watermark),
        ),
      )
      .orderBy(asc(changes.pos), asc(changes.seq))
      .limit(FAN_OUT_BATCH);
    if (rows.length === 0) return false;
    const wanted = new Set(endpoint.events);
    const athletes = endpoint.athleteIds ? new Set(endpoint.athleteIds) : undefined;
    const values: (typeof webhookDeliveries.$inferInsert)[] = [];
    for (const row of rows) {
      const type = eventTypeOf(row);
      if (!type || !wanted.has(type) || (athletes && !athletes.has(row.athleteId))) continue;
      values.push({
        endpointId: endpoint.id,
        eventType: type,
        orderKey: row.activityId ?? row.entityId,
        payload: { type, timestamp: row.changedAt.toISOString(), data: { ...toChange(row), ...(await this.resourceOf(endpoint, row)) } },
      });
    }
    const last = rows.at(-1)!;
    return this.db.transaction(async (tx) => {
      const [locked] = await tx
        .select({ id: webhookEndpoints.id })
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.cursorPos, endpoint.cursorPos), eq(webhookEndpoints.cursorSeq, endpoint.cursorSeq)))
        .for('update', { skipLocked: true });
      if (!locked) return false;
      if (values.length > 0) await tx.insert(webhookDeliveries).values(values);
      await tx.update(webhookEndpoints).set({ cursorPos: last.pos, cursorSeq: last.seq }).where(eq(webhookEndpoints.id, id));
      return rows.length === FAN_OUT_BATCH;
    });
  }

  /**
   * The changed record's public shape for upserts of activities and athletes, for a finished sync
   * run (the sync state) and a finished import job (as they are now); ids only otherwise. The feed
   * row's owner is the endpoint's (fanOutEndpoint reads only its user's changes).
   */
  private async resourceOf(endpoint: WebhookEndpointRow, row: ChangeRow): Promise<Record<string, unknown>> {
    if (row.op === 'delete') return {};
    try {
      if (row.entity === 'activity') return { activity: await this.activities.get(endpoint.userId, row.entityId) };
      if (row.entity === 'athlete') return { athlete: await this.athletes.get(endpoint.userId, row.entityId) };
      if (row.entity === 'sync_run') {
        const [state] = await this.db.select().from(syncStates).where(and(eq(syncStates.id, row.entityId), eq(syncStates.athleteId, row.athleteId)));
        return state ? { syncState: toState(state) } : {};
      }
      if (row.entity === 'import') {
        const [job] = await this.db.select().from(importJobs).where(and(eq(importJobs.id, row.entityId), eq(importJobs.userId, endpoint.userId)));
        return job ? { importJob: toJob(job) } : {};
      }
    } catch {
      // Deleted since (its tombstone follows): ids only.
    }
    return {};
  }

  /** Claims and sends up to SEND_BATCH due deliveries; answers how many. */
  private async sendDue(): Promise<number> {
    const leaseMs = this.env.WEBHOOK_TIMEOUT_MS + 5000;
    const claimed = await this.db.transaction(async (tx) => {
      const due = await tx
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
        .where(
          and(
            eq(webhookDeliveries.status, 'pending'),
            sql`${webhookDeliveries.nextAttemptAt} <= now()`,
            eq(webhookEndpoints.status, 'active'),
            sql`not exists (select 1 from webhook_deliveries p where p.endpoint_id = ${webhookDeliveries.endpointId}
              and p.order_key = ${webhookDeliveries.orderKey} and p.status = 'pending' and p.seq < ${webhookDeliveries.seq})`,
          ),
        )
        .orderBy(asc(webhookDeliveries.seq))
        .limit(SEND_BATCH)
        .for('update', { of: webhookDeliveries, skipLocked: true });
      if (due.length === 0) return [];
      return tx
        .update(webhookDeliveries)
        .set({ nextAttemptAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
        .where(inArray(webhookDeliveries.id, due.map((row) => row.id)))
        .returning();
    });
    await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    return claimed.length;
  }

  /** Sends one delivery now and records the attempt (also the retry route's way). */
  async attempt(delivery: WebhookDeliveryRow): Promise<void> {
    const [endpoint] = await this.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, delivery.endpointId));
    if (!endpoint) return;
    const body = JSON.stringify(delivery.payload);
    let outcome: SendOutcome;
    try {
      const headers = this.sign(endpoint, delivery.id, body);
      const pinned = await this.webhooks.checkTarget(endpoint.url);
      outcome = await sendWebhook(endpoint.url, pinned, headers, body, this.env.WEBHOOK_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof UnknownKeyError && Date.now() - delivery.createdAt.getTime() < this.env.WEBHOOK_RETRY_WINDOW_MS) {
        // Not the receiver's failure and not an attempt: left to a process that holds the key (a
        // replica mid-rotation of TOKEN_ENCRYPTION_KEY) and looked at again after a poll. Past the
        // retry window it is a failed attempt like any other, and the endpoint is disabled saying why.
        this.logger.warn(`Delivery ${delivery.id} left for another process: ${error.message}`);
        await this.db
          .update(webhookDeliveries)
          .set({ nextAttemptAt: new Date(Date.now() + this.env.WEBHOOK_POLL_MS) })
          .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
        return;
      }
      outcome = { durationMs: 0, error: error instanceof TargetRefusedError ? `target refused: ${error.message}` : error instanceof Error ? error.message : String(error) };
    }
    await this.record(endpoint, delivery, outcome);
  }

  /** The Standard Webhooks headers; during a rotation signed with the new and the previous secret. */
  sign(endpoint: WebhookEndpointRow, id: string, body: string, now = new Date()): Record<string, string> {
    const signature = this.webhooks
      .secrets(endpoint, now).map((secret) => new Webhook(secret).sign(id, now, body)).join(' ');
    return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature };
  }

  private async record(endpoint: WebhookEndpointRow, delivery: WebhookDeliveryRow, outcome: SendOutcome): Promise<void> {
    const ok = outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const error = ok ? null : (outcome.error ?? `HTTP ${outcome.statusCode}`);
    const attempts = delivery.attempts + 1;
    const now = Date.now();
    const expired = !ok && now - delivery.createdAt.getTime() >= this.env.WEBHOOK_RETRY_WINDOW_MS;
    await this.db.transaction(async (tx) => {
      await tx.insert(webhookDeliveryAttempts).values({ deliveryId: delivery.id, statusCode: outcome.statusCode ?? null, durationMs: outcome.durationMs, error });
      await tx
        .update(webhookDeliveries)
        .set({
          attempts,
          status: ok ? 'succeeded' : expired ? 'failed' : 'pending',
          nextAttemptAt: ok || expired ? new Date(now) : new Date(now + retryDelayMs(attempts, this.env.WEBHOOK_RETRY_BASE_MS, this.env.WEBHOOK_RETRY_MAX_MS)),
          lastStatusCode: outcome.statusCode ?? null,
          lastDurationMs: outcome.durationMs,
          lastError: error,
          deliveredAt: ok ? new Date(now) : null,
        })
        .where(eq(webhookDeliveries.id, delivery.id));
      if (expired && endpoint.status === 'active') {
        const hours = Math.round((this.env.WEBHOOK_RETRY_WINDOW_MS / 3_600_000) * 10) / 10;
        await tx
          .update(webhookEndpoints)
          .set({
            status: 'disabled',
            disabledAt: new Date(now),
            disabledReason: `Delivery ${delivery.id} (${delivery.eventType}) failed for ${hours} h, ${attempts} attempts; last error: ${error}`,
          })
          .where(eq(webhookEndpoints.id, endpoint.id));
      }
    });
  }
}
