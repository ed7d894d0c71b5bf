import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import { MAX_WEBHOOK_ENDPOINTS, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from '@unified-activity/contract';
import { and, asc, count, desc, eq, inArray, isNotNull, or, sql, type AnyColumn } from 'drizzle-orm';
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
import { TokenCipher } from '../connections/token-cipher.js';
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

/**
 * Outbound webhook endpoints and their deliveries (README "Following changes"); WebhookDispatcher sends.
 * Signing secrets are kept sealed with the shared TokenCipher (`secret` + `secret_key_id`, the same
 * for the previous secret); `secrets()` opens them to sign.
 */
@Injectable()
export class WebhooksService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');

  /** The DNS seam: tests replace it to make a name resolve where they want. */
  resolver: Resolver = systemResolver;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectDb() private readonly db: Database,
    private readonly athletes: AthletesService,
    private readonly changes: ChangesRepository,
    private readonly cipher: TokenCipher,
  ) {}

  /**
   * Seals what is left in clear, in the background: the server boots (and answers 503) while the
   * database is unreachable, as everywhere else; a failed attempt is retried every 5 s.
   */
  onApplicationBootstrap(): void {
    void this.sealAtBoot();
  }

  onModuleDestroy(): void {
    if (this.sealRetry) clearTimeout(this.sealRetry);
  }

  private sealRetry: NodeJS.Timeout | undefined;

  private async sealAtBoot(): Promise<void> {
    try {
      const sealed = await this.sealSecrets();
      if (sealed > 0) this.logger.log(`Sealed the signing secrets of ${sealed} webhook endpoint(s) under the current TOKEN_ENCRYPTION_KEY`);
    } catch (error) {
      this.logger.warn(`Webhook secrets not sealed yet (retrying in 5 s): ${error instanceof Error ? error.message : String(error)}`);
      this.sealRetry = setTimeout(() => void this.sealAtBoot(), 5_000);
      this.sealRetry.unref();
    }
  }

  /**
   * Seals the secrets still in clear (a null key id: written before secrets were sealed, migration
   * 0010) and re-seals those sealed under TOKEN_ENCRYPTION_KEY_PREVIOUS with the current key, so a
   * key rotation completes at the next boot. Idempotent and safe beside other replicas: a row is
   * rewritten only while its key ids are still the ones read. Answers how many endpoints it changed.
   */
  async sealSecrets(): Promise<number> {
    const current = this.cipher.currentKeyId;
    const stale = (keyId: AnyColumn) => sql`${keyId} is distinct from ${current}`;
    const rows = await this.db
      .select()
      .from(webhookEndpoints)
      .where(or(stale(webhookEndpoints.secretKeyId), and(isNotNull(webhookEndpoints.previousSecret), stale(webhookEndpoints.previousSecretKeyId))));
    let sealed = 0;
    for (const row of rows) {
      const changes: Partial<WebhookEndpointRow> = {};
      try {
        if (row.secretKeyId !== current) Object.assign(changes, this.sealSecret(this.openStored(row.secret, row.secretKeyId)));
        if (row.previousSecret !== null && row.previousSecretKeyId !== current) {
          Object.assign(changes, this.sealPrevious(this.openStored(row.previousSecret, row.previousSecretKeyId)));
        }
      } catch (error) {
        // Sealed under a key this process does not have (rotated twice, or another DATA_DIR's
        // development key): left as it is, never a reason not to start. Its deliveries wait for a
        // process that holds the key, and fail with the reason once past the retry window.
        this.logger.warn(`Webhook endpoint ${row.id}: its signing secret cannot be opened (${error instanceof Error ? error.message : String(error)})`);
        continue;
      }
      const done = await this.db
        .update(webhookEndpoints)
        .set(changes)
        .where(
          and(
            eq(webhookEndpoints.id, row.id),
            sql`${webhookEndpoints.secretKeyId} is not distinct from ${row.secretKeyId}`,
            sql`${webhookEndpoints.previousSecretKeyId} is not distinct from ${row.previousSecretKeyId}`,
          ),
        )
        .returning({ id: webhookEndpoints.id });
      sealed += done.length;
    }
    return sealed;
  }

  private sealSecret(secret: string): Pick<WebhookEndpointRow, 'secret' | 'secretKeyId'> {
    const { keyId, ciphertext } = this.cipher.seal(secret);
    return { secret: ciphertext, secretKeyId: keyId };
  }

  private sealPrevious(secret: string): Pick<WebhookEndpointRow, 'previousSecret' | 'previousSecretKeyId'> {
    const { keyId, ciphertext } = this.cipher.seal(secret);
    return { previousSecret: ciphertext, previousSecretKeyId: keyId };
  }

  private openStored(value: string, keyId: string | null): string {
    // A null key id: still in clear (sealed at the next boot, sealSecrets).
    return keyId === null ? value : this.cipher.open({ keyId, ciphertext: value });
  }

  /** The secrets to sign with at `now`: the current one, and the previous one until it expires. */
  secrets(endpoint: WebhookEndpointRow, now = new Date()): string[] {
    const secrets = [this.openStored(endpoint.secret, endpoint.secretKeyId)];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
      secrets.push(this.openStored(endpoint.previousSecret, endpoint.previousSecretKeyId));
    }
    return secrets;
  }

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

  /** Called when an endpoint becomes active (created or enabled): the dispatcher leaves its idle wait. */
  private readonly activated = new Set<() => void>();

  onActivation(listener: () => void): () => void {
    this.activated.add(listener);
    return () => this.activated.delete(listener);
  }

  private announceActivation(): void {
    for (const listener of this.activated) listener();
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
        ...this.sealSecret(secret),
        cursorPos: watermark,
        cursorSeq: 0,
      })
      .returning();
    this.announceActivation();
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
      // The previous secret is re-sealed under the current key (it may still be in clear, or under a previous key).
      // A secret that can no longer be opened (its key is gone) is not kept: the new one alone signs.
      let previous: string | undefined;
      try {
        previous = this.openStored(current.secret, current.secretKeyId);
      } catch {
        previous = undefined;
      }
      Object.assign(
        changes,
        this.sealSecret(secret),
        previous === undefined
          ? { previousSecret: null, previousSecretKeyId: null, previousSecretExpiresAt: null }
          : { ...this.sealPrevious(previous), previousSecretExpiresAt: new Date(Date.now() + PREVIOUS_SECRET_MS) },
      );
    }
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({ ...changes, updatedAt: new Date() })
      .where(and(eq(webhookEndpoints.id, input.id), eq(webhookEndpoints.userId, userId)))
      .returning();
    if (!row) throw endpointNotFound();
    if (row.status === 'active') this.announceActivation();
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
