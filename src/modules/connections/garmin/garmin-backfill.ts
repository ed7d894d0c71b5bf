import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { ProviderConnectionRow } from '../../../database/schema/index.js';
import { ConnectionsRepository } from '../connections.repository.js';
import { ACCESS_TOKENS, ConnectionRevoked, type AccessTokens } from '../access-tokens.js';
import { GarminBackfillQueue } from './garmin-backfill-queue.js';
import { GarminRepository } from './garmin.repository.js';

/** Garmin refuses a backfill request over more than 90 days. */
export const GARMIN_WINDOW_S = 90 * 86_400;
/** How long a rate-limited backfill waits when Garmin's 429 says nothing (no Retry-After). */
export const GARMIN_RATE_LIMIT_WAIT_MS = 5 * 60_000;
const TIMEOUT_MS = 15_000;
/** The lastError of a backfill whose job could not be queued: requeuePending queues those at the next start. */
export const NOT_QUEUED = 'The backfill could not be queued yet; it is queued again when the server next starts';

/** The windows of a history of `days` days: newest first, each at most 90 days, together covering it. */
export function garminWindows(connectedAt: Date, days: number): Array<{ start: number; end: number }> {
  const end = Math.floor(connectedAt.getTime() / 1000);
  const oldest = end - days * 86_400;
  const windows: Array<{ start: number; end: number }> = [];
  for (let to = end; to > oldest; to -= GARMIN_WINDOW_S) windows.push({ start: Math.max(oldest, to - GARMIN_WINDOW_S), end: to });
  return windows;
}

/**
 * Garmin's history of a new connection: Garmin sends no list to page through; the partner asks for
 * each window of at most 90 days (`GET /wellness-api/rest/backfill/activities`), Garmin answers 202
 * and later pushes that window's activities to the push endpoints (GarminPushes), which ingest them.
 * The windows are fixed by the connection's `connectedAt` and GARMIN_BACKFILL_DAYS, newest first;
 * `backfill.pending` counts the windows not yet requested, so a job resumes where the last one
 * stopped (after a restart, a 429, a failure). `backfill.fetched` counts the activities pushed.
 */
@Injectable()
export class GarminBackfill implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('GarminBackfill');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly queue: GarminBackfillQueue,
    private readonly connections: ConnectionsRepository,
    private readonly garmin: GarminRepository,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.GARMIN_CLIENT_ID) return;
    await this.queue.work((connectionId) => this.run(connectionId));
    await this.requeuePending();
  }

  /**
   * A job for every Garmin backfill left pending because its job could not be queued (NOT_QUEUED).
   * Only those: a pending backfill whose job is queued may belong to another deployment on this
   * database (another Garmin host, another queue), whose tokens this one must not use.
   */
  async requeuePending(): Promise<number> {
    const rows = await this.garmin.pendingBackfills(NOT_QUEUED);
    for (const row of rows) await this.queue.send(row.id);
    return rows.length;
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.stop();
  }

  /** A new (or renewed) connection: every window pending, one job queued. */
  async start(connection: ProviderConnectionRow): Promise<void> {
    const windows = garminWindows(connection.connectedAt, this.env.GARMIN_BACKFILL_DAYS).length;
    await this.connections.update(connection.id, {
      status: windows > 0 ? 'backfilling' : 'active',
      backfillStatus: windows > 0 ? 'pending' : 'done',
      backfillPending: windows,
      backfillFetched: 0,
      backfillNextAttemptAt: null,
      backfillLastError: null,
    });
    if (windows === 0) return;
    try {
      await this.queue.send(connection.id);
    } catch (error) {
      // The connection is made; its backfill stays pending and is queued at the next start (requeuePending).
      this.logger.warn(`Connection ${connection.id}: the Garmin backfill could not be queued: ${(error as Error).message}`);
      await this.connections.update(connection.id, { backfillLastError: NOT_QUEUED });
    }
  }

  /** Goes on with a backfill that stopped on an error (the user granted ACTIVITY_EXPORT since). */
  async resume(connection: ProviderConnectionRow): Promise<void> {
    if (connection.backfillStatus !== 'error' || connection.backfillPending === 0) return;
    await this.connections.update(connection.id, { status: 'backfilling', backfillStatus: 'pending', backfillLastError: null });
    await this.queue.send(connection.id);
  }

  /** The job: requests the windows still pending, newest first. */
  async run(connectionId: string): Promise<void> {
    const row = await this.connections.findById(connectionId);
    if (!row || row.provider !== 'garmin' || row.status === 'revoked' || row.backfillStatus === 'done') return;
    const windows = garminWindows(row.connectedAt, this.env.GARMIN_BACKFILL_DAYS);
    await this.connections.update(row.id, { status: 'backfilling', backfillStatus: 'running', backfillNextAttemptAt: null });
    const service = this.moduleRef.get<AccessTokens>(ACCESS_TOKENS, { strict: false });
    for (let k = Math.max(0, windows.length - row.backfillPending); k < windows.length; k++) {
      const { start, end } = windows[k]!;
      const url = new URL(`${this.env.GARMIN_API_URL}/wellness-api/rest/backfill/activities`);
      url.search = new URLSearchParams({ summaryStartTimeInSeconds: String(start), summaryEndTimeInSeconds: String(end) }).toString();
      let answer: Response;
      try {
        answer = await service.withAccessToken(row.id, (token) => fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) }));
      } catch (error) {
        if (error instanceof ConnectionRevoked) return;
        await this.connections.update(row.id, { backfillLastError: `Garmin backfill request failed: ${(error as Error).message}` });
        throw error; // pg-boss retries the job after its delay; the windows done stay done.
      }
      await answer.body?.cancel();
      // 202: Garmin pushes the window later. 409: this window (or one overlapping it) was requested before.
      if (answer.ok || answer.status === 409) {
        await this.connections.update(row.id, { backfillPending: windows.length - k - 1, backfillLastError: null });
        continue;
      }
      if (answer.status === 429) {
        const retryAfter = Number(answer.headers.get('retry-after'));
        const next = new Date(Date.now() + (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : GARMIN_RATE_LIMIT_WAIT_MS));
        await this.connections.update(row.id, { status: 'rate_limited', backfillStatus: 'rate_limited', backfillNextAttemptAt: next });
        await this.queue.send(row.id, next);
        return;
      }
      const why =
        answer.status === 412
          ? 'The Garmin user has not granted the ACTIVITY_EXPORT permission: no history can be requested'
          : `Garmin answered ${answer.status} to a backfill request`;
      if (answer.status >= 500) {
        await this.connections.update(row.id, { backfillLastError: why });
        throw new Error(why);
      }
      this.logger.warn(`Connection ${row.id}: ${why}`);
      await this.connections.update(row.id, { status: 'active', backfillStatus: 'error', backfillLastError: why });
      return;
    }
    await this.connections.update(row.id, { status: 'active', backfillStatus: 'done', backfillPending: 0, backfillNextAttemptAt: null });
  }
}
