import { Inject, Injectable, Logger } from '@nestjs/common';
import { ORPCError } from '@orpc/server';
import type { StravaWebhookEvent } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import { RawArchive } from '../../sync/raw-archive.js';
import { ProviderSyncService } from '../backfill/provider-sync.service.js';
import { RateBudget } from '../backfill/rate-budget.js';
import { PRIORITY, SyncItemsRepository } from '../backfill/sync-items.repository.js';
import { ConnectionsRepository } from '../connections.repository.js';

/** Webhook requests one process answers per minute before 429 (Strava sends far fewer; this bounds a flood). */
export const WEBHOOK_REQUESTS_PER_MINUTE = 3000;

/** What the archive calls a webhook body (beside the sync batches of the same athlete and source). */
export const WEBHOOK_ARCHIVE_EXTENSION = 'webhook.json';

/**
 * Strava's push subscription (https://developers.strava.com/docs/webhooks/): the subscription check
 * and the events. An event is answered at once; the work it asks for is queued ahead of any backfill.
 * Its body is archived raw; the same body again (Strava retries) is a no-op.
 */
@Injectable()
export class StravaWebhooks {
  private readonly logger = new Logger('StravaWebhooks');
  private window = { minute: 0, count: 0 };

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly budget: RateBudget,
    private readonly work: ProviderSyncService,
    private readonly items: SyncItemsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly archive: RawArchive,
  ) {}

  /** GET: echoes hub.challenge when the verify token is ours; anything else 403. */
  check(input: { 'hub.mode'?: string; 'hub.challenge'?: string; 'hub.verify_token'?: string }): { 'hub.challenge': string } {
    this.limit();
    const expected = this.env.STRAVA_WEBHOOK_VERIFY_TOKEN;
    if (!this.env.STRAVA_CLIENT_ID || !expected || input['hub.mode'] !== 'subscribe' || input['hub.verify_token'] !== expected || !input['hub.challenge']) {
      throw new ORPCError('FORBIDDEN', { message: 'Wrong verify token' });
    }
    return { 'hub.challenge': input['hub.challenge'] };
  }

  /** POST: one event. Unknown subscriptions and owners are acknowledged and dropped. */
  async event(event: StravaWebhookEvent, rawBody: Uint8Array | undefined): Promise<{ received: true }> {
    this.limit();
    const clientId = this.env.STRAVA_CLIENT_ID;
    if (!clientId) return { received: true };
    const subscription = await this.budget.subscriptionId('strava', clientId);
    if (subscription === null || subscription !== String(event.subscription_id)) {
      this.logger.warn(`Strava event of subscription ${event.subscription_id} dropped: ours is ${subscription ?? 'not registered (npm run connections:subscribe strava)'}`);
      return { received: true };
    }
    const connection = await this.items.connectionByAccount('strava', String(event.owner_id));
    if (!connection) {
      this.logger.debug(`Strava event for unknown owner ${event.owner_id} dropped`);
      return { received: true };
    }
    const bytes = rawBody ?? new TextEncoder().encode(JSON.stringify(event));
    if (await this.archive.has(connection.athleteId, 'strava', bytes, WEBHOOK_ARCHIVE_EXTENSION)) {
      this.logger.debug(`Strava event replayed (already archived): ${event.aspect_type} ${event.object_type} ${event.object_id}`);
      return { received: true };
    }
    this.logger.debug(`Strava event ${event.aspect_type} ${event.object_type} ${event.object_id} of ${event.owner_id}`);

    if (event.object_type === 'athlete') {
      if (event.updates?.authorized === 'false') {
        // The athlete withdrew access at Strava: the tokens are useless; their work goes, the data stays.
        await this.items.clear(connection.id);
        await this.connections.update(connection.id, {
          status: 'revoked',
          tokensCiphertext: null,
          tokensKeyId: null,
          tokenExpiresAt: null,
          lastEventAt: new Date(),
          backfillStatus: connection.backfillStatus === 'done' ? 'done' : 'error',
          backfillLastError: connection.backfillStatus === 'done' ? connection.backfillLastError : 'The athlete withdrew access at Strava',
          backfillNextAttemptAt: null,
        });
      }
    } else if (event.object_type === 'activity' && connection.tokensCiphertext) {
      const externalId = String(event.object_id);
      const kind = event.aspect_type === 'delete' ? ('delete' as const) : ('fetch' as const);
      await this.work.enqueueEvent(connection, [{ kind, externalId, priority: PRIORITY.event, position: event.event_time }]);
    }
    // Archived after the work is queued: a failure in between makes Strava send it again, and queuing is idempotent.
    await this.archive.put(connection.athleteId, 'strava', bytes, WEBHOOK_ARCHIVE_EXTENSION);
    return { received: true };
  }

  /** A fixed one-minute window per process: a flood is refused with 429 before it reaches the database. */
  private limit(): void {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.window.minute) this.window = { minute, count: 0 };
    if (++this.window.count > WEBHOOK_REQUESTS_PER_MINUTE) {
      throw new ORPCError('TOO_MANY_REQUESTS', { message: 'Too many webhook requests: try again in a minute' });
    }
  }
}
