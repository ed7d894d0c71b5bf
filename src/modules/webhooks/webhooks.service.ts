import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { MAX_WEBHOOK_ENDPOINTS, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from '@unified-activity/contract';
import { and, asc, count, desc, eq, inArray } from 'drizzle-orm';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import {
  webhookDeliveries,
  webhookDeliveryAttempts,
  webhookEndpoints,
  type WebhookDeliveryAttemptRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from '../../database/schema/index.js';
import { ruleViolation } from '../api/errors.js';
import { AthletesService } from '../athletes/athletes.service.js';
import { ChangesRepository } from '../changes/changes.repository.js';
import { checkTarget, systemResolver, TargetRefusedError, type ResolvedAddress, type Resolver } from './target-guard.js';

/** How long the secret before a rotation keeps signing deliveries. */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;
const ATTEMPT_LOG = 50;

export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const endpointNotFound = () => new ORPCError('NOT_FOUND', { message: 'Webhook endpoint not found' });

export const toEndpoint = (row: WebhookEndpointRow): WebhookEndpoint => ({
  id: row.id,
  url: row.url,
  description: row.description,
  events: row.events as WebhookEventType[],
  athleteIds: row.athleteIds,
  status: row.status,
  disabledReason: row.disabledReason,
  disabledAt: row.disabledAt,
  previousSecretExpiresAt: row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date() ? row.previousSecretExpiresAt : null,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export const toDelivery = (row: WebhookDeliveryRow, attempts: WebhookDeliveryAttemptRow[]): WebhookDelivery => ({
  id: row.id,
  eventType: row.eventType,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt : null,
  lastStatusCode: row.lastStatusCode,
  lastDurationMs: row.lastDurationMs,
  lastError: row.lastError,
  deliveredAt: row.deliveredAt,
  createdAt: row.createdAt,
  attemptLog: attempts.map((attempt) => ({ attemptedAt: attempt.attemptedAt, statusCode: attempt.statusCode, durationMs: attempt.durationMs, error: attempt.error })),
});

/** Outbound webhook endpoints and their deliveries (README "Following changes"); WebhookDispatcher sends. */
@Injectable()
export class WebhooksService {
  /** The DNS seam: tests replace it to make a name resolve where they want. */
  resolver: Resolver = systemResolver;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectDb() private readonly db: Database,
    private readonly athletes: AthletesService,
    private readonly changes: ChangesRepository,
  ) {}

  /** The address to connect to for `url`, or a TargetRefusedError (the SSRF guard, target-guard.ts). */
  checkTarget(url: string): Promise<ResolvedAddress> {
    return checkTarget(url, { allowPrivate: this.env.WEBHOOK_ALLOW_PRIVATE_TARGETS, requireHttps: this.env.NODE_ENV === 'production' }, this.resolver);
  }

  private async assertTarget(url: string): Promise<void> {
    try {
      await this.checkTarget(url);
    } catch (error) {
      if (error instanceof TargetRefusedError) throw ruleViolation([{ path: ['url'], message: error.message }], 'The webhook target is refused');
      throw error;
    }
  }

  private async assertAthletes(userId: string, athleteIds: string[] | null | undefined): Promise<void> {
    for (const athleteId of new Set(athleteIds ?? [])) await this.athletes.assertOwned(userId, athleteId);
  }

  private async owned(userId: string, id: string): Promise<WebhookEndpointRow> {
    const [row] = await this.db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)));
    if (!row) throw endpointNotFound();
    return row;
  }

  async create(userId: string, input: { url: string; events: WebhookEventType[]; athleteIds?: string[] | null; description?: string }) {
    await this.assertAthletes(userId, input.athleteIds);
    await this.assertTarget(input.url);
    const [{ value: existing } = { value: 0 }] = await this.db.select({ value: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId));
    if (existing >= MAX_WEBHOOK_ENDPOINTS) throw ruleViolation(undefined, `At most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints per user`);
    // The endpoint receives what commits from now on: its cursor starts at the feed's current end.
    const { watermark } = await this.changes.bounds();
    const secret = newWebhookSecret();
    const [row] = await this.db
      .insert(webhookEndpoints)
      .values({
        userId,
        url: input.url,
        description: input.description ?? null,
        events: [...new Set(input.events)],
        athleteIds: input.athleteIds ?? null,
        secret,
        cursorPos: watermark,
        cursorSeq: 0,
      })
      .returning();
    return { ...toEndpoint(row!), secret };
  }

  async list(userId: string) {
    const rows = await this.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)).orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
    return { items: rows.map(toEndpoint) };
  }

  async get(userId: string, id: string) {
    return toEndpoint(await this.owned(userId, id));
  }

  async update(
    userId: string,
    input: { id: string; url?: string; events?: WebhookEventType[]; athleteIds?: string[] | null; description?: string | null; enabled?: boolean; rotateSecret?: boolean },
  ) {
    const current = await this.owned(userId, input.id);
    await this.assertAthletes(userId, input.athleteIds);
    if (input.url !== undefined) await this.assertTarget(input.url);
    const changes: Partial<WebhookEndpointRow> = {};
    if (input.url !== undefined) changes.url = input.url;
    if (input.events !== undefined) changes.events = [...new Set(input.events)];
    if (input.athleteIds !== undefined) changes.athleteIds = input.athleteIds;
    if (input.description !== undefined) changes.description = input.description;
    if (input.enabled === true) Object.assign(changes, { status: 'active', disabledReason: null, disabledAt: null });
    if (input.enabled === false && current.status === 'active') Object.assign(changes, { status: 'disabled', disabledReason: 'Disabled by its owner', disabledAt: new Date() });
    let secret: string | undefined;
    if (input.rotateSecret) {
      secret = newWebhookSecret();
      Object.assign(changes, { secret, previousSecret: current.secret, previousSecretExpiresAt: new Date(Date.now() + PREVIOUS_SECRET_MS) });
    }
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({ ...changes, updatedAt: new Date() })
      .where(and(eq(webhookEndpoints.id, input.id), eq(webhookEndpoints.userId, userId)))
      .returning();
    if (!row) throw endpointNotFound();
    return { ...toEndpoint(row), ...(secret ? { secret } : {}) };
  }

  async delete(userId: string, id: string): Promise<void> {
    const deleted = await this.db.delete(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId))).returning({ id: webhookEndpoints.id });
    if (deleted.length === 0) throw endpointNotFound();
  }

  async deliveries(userId: string, id: string, limit = 50) {
    await this.owned(userId, id);
    const rows = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id)).orderBy(desc(webhookDeliveries.seq)).limit(limit);
    const attempts = await this.attemptsOf(rows.map((row) => row.id));
    return { items: rows.map((row) => toDelivery(row, attempts.get(row.id) ?? [])) };
  }

  async delivery(userId: string, endpointId: string, deliveryId: string): Promise<WebhookDeliveryRow> {
    await this.owned(userId, endpointId);
    const [row] = await this.db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)));
    if (!row) throw new ORPCError('NOT_FOUND', { message: 'Delivery not found' });
    return row;
  }

  async describeDelivery(id: string): Promise<WebhookDelivery> {
    const [row] = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    if (!row) throw new ORPCError('NOT_FOUND', { message: 'Delivery not found' });
    return toDelivery(row, (await this.attemptsOf([id])).get(id) ?? []);
  }

  private async attemptsOf(ids: string[]): Promise<Map<string, WebhookDeliveryAttemptRow[]>> {
    const byDelivery = new Map<string, WebhookDeliveryAttemptRow[]>();
    if (ids.length === 0) return byDelivery;
    const rows = await this.db.select().from(webhookDeliveryAttempts).where(inArray(webhookDeliveryAttempts.deliveryId, ids)).orderBy(asc(webhookDeliveryAttempts.id));
    for (const row of rows) {
      const list = byDelivery.get(row.deliveryId) ?? [];
      list.push(row);
      byDelivery.set(row.deliveryId, list.slice(-ATTEMPT_LOG));
    }
    return byDelivery;
  }
}
