import { Injectable } from '@nestjs/common';
import type { SyncBatch } from '@unified-activity/contract';
import type { ProviderConnectionRow, ProviderSyncItemRow } from '../../../database/schema/index.js';
import { SyncService } from '../../sync/sync.service.js';
import { BackfillRefused, ProviderSyncService, type ProviderWorker, type WorkOutcome } from '../backfill/provider-sync.service.js';
import { PRIORITY, type NewItem } from '../backfill/sync-items.repository.js';
import { GoneAtProvider, StravaApi } from './strava-api.js';

/** Strava's largest page of the activity list. */
export const PAGE_SIZE = 200;
/** The streams asked for with every activity (issue 26), keyed by type. */
export const STREAM_KEYS = 'time,latlng,altitude,heartrate,cadence,watts,velocity_smooth,distance,temp';

/**
 * Where the backfill's listing is, in the athlete's Strava sync state (`cursor`): `before` is the
 * start (epoch seconds) of the oldest activity listed so far, moved in the same transaction as that
 * page's summaries, so a restart asks for the next page and never again for one already ingested.
 */
export interface BackfillCursor {
  backfill: 'listing' | 'listed';
  before?: number;
}

export function parseCursor(cursor: string | null): BackfillCursor | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(cursor) as BackfillCursor;
    return value && (value.backfill === 'listing' || value.backfill === 'listed') ? value : undefined;
  } catch {
    return undefined;
  }
}

const startEpoch = (summary: Record<string, unknown>) => Math.floor(Date.parse(String(summary.start_date)) / 1000);


/**
 * Strava's provider work: the backfill lists newest first (a page of summaries is ingested as soon
 * as it arrives, so the timeline fills from the top) and queues each activity's details and streams
 * behind it; webhook events fetch or delete one activity ahead of all backfill work. Everything goes
 * through the sync ingest path (same mappers, raw archive and idempotency).
 */
@Injectable()
export class StravaSync implements ProviderWorker {
  constructor(
    private readonly api: StravaApi,
    private readonly sync: SyncService,
    work: ProviderSyncService,
  ) {
    work.register('strava', this);
  }

  async startBackfill(connection: ProviderConnectionRow): Promise<NewItem[]> {
    if (!connection.scopes.some((scope) => scope === 'activity:read' || scope === 'activity:read_all')) {
      throw new BackfillRefused('The activity:read_all scope was not granted: connect again and allow access to activities');
    }
    await this.sync.updateState(connection.userId, connection.athleteId, 'strava', JSON.stringify({ backfill: 'listing' } satisfies BackfillCursor));
    return [{ kind: 'list', externalId: '', priority: PRIORITY.list, position: 0 }];
  }

  async process(connection: ProviderConnectionRow, item: ProviderSyncItemRow): Promise<WorkOutcome> {
    switch (item.kind) {
      case 'list':
        return this.listPage(connection);
      case 'fetch':
        return this.fetch(connection, item);
      case 'delete':
        await this.ingest(connection, { activities: [], deletedExternalIds: [item.externalId] });
        return {};
    }
  }

  /** The next page of the list: its summaries ingested with the cursor moved past it, its activities queued for details. */
  private async listPage(connection: ProviderConnectionRow): Promise<WorkOutcome> {
    const state = await this.sync.getState(connection.userId, connection.athleteId, 'strava');
    const cursor = parseCursor(state.cursor) ?? { backfill: 'listing' };
    if (cursor.backfill === 'listed') return { keep: false, more: [] };
    const query = new URLSearchParams({ per_page: String(PAGE_SIZE) });
    if (cursor.before !== undefined) query.set('before', String(cursor.before));
    const { bytes, json } = await this.api.get(connection.id, `/athlete/activities?${query.toString()}`, { interactive: false });
    const page = (Array.isArray(json) ? json : []) as Record<string, unknown>[];
    const last = page.length < PAGE_SIZE;
    const before = page.length > 0 ? Math.min(...page.map(startEpoch)) : cursor.before;
    const next: BackfillCursor = last ? { backfill: 'listed' } : { backfill: 'listing', before };
    if (page.length === 0) {
      await this.sync.updateState(connection.userId, connection.athleteId, 'strava', JSON.stringify(next));
      return { keep: false, more: [] };
    }
    // Details are queued first: a crash between the two asks for the same details again (no request
    // is lost), never for the same page (the cursor moves with its summaries).
    const more = page.map((summary) => ({ kind: 'fetch' as const, externalId: String(summary.id), priority: PRIORITY.detail, position: startEpoch(summary) }));
    return { keep: !last, more, commit: () => this.ingest(connection, { activities: page, cursor: JSON.stringify(next) } as SyncBatch, bytes) };
  }

  /** One activity in full: DetailedActivity and its streams, as one batch item. */
  private async fetch(connection: ProviderConnectionRow, item: ProviderSyncItemRow): Promise<{ fetched: number }> {
    const interactive = item.priority >= PRIORITY.event;
    const prepaid = await this.api.reserve(2, interactive);
    try {
      const detail = await this.api.get(connection.id, `/activities/${encodeURIComponent(item.externalId)}`, { interactive, prepaid });
      const streams = await this.api.get(connection.id, `/activities/${encodeURIComponent(item.externalId)}/streams?keys=${STREAM_KEYS}&key_by_type=true`, {
        interactive,
        prepaid,
      });
      await this.ingest(connection, { activities: [{ ...(detail.json as Record<string, unknown>), streams: streams.json as Record<string, unknown> }] } as SyncBatch);
      return { fetched: 1 };
    } catch (error) {
      // Deleted, or made private since it was listed: there is nothing to fetch (a delete event follows a deletion).
      if (error instanceof GoneAtProvider) return { fetched: 0 };
      throw error;
    }
  }

  private async ingest(connection: ProviderConnectionRow, batch: SyncBatch, rawBody?: Uint8Array): Promise<void> {
    await this.sync.ingestBatch(connection.userId, connection.athleteId, 'strava', batch, rawBody);
  }
}
