import { Inject, Injectable } from '@nestjs/common';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import { RateBudget, RateLimited, stravaReportedUsage } from '../backfill/rate-budget.js';
import { ConnectionsService } from '../connections.service.js';
import { ProviderFailure } from '../providers.js';

const TIMEOUT_MS = 30_000;

/** The provider no longer has it (deleted, or made private without `activity:read_all`). */
export class GoneAtProvider extends Error {}

/** Requests already counted against the budget for this piece of work (a detail and its streams are taken together). */
export interface Prepaid {
  requests: number;
}

/**
 * Strava API v3 reads for a connection: every request is counted against the application's shared
 * budget before it is made, every answer's rate-limit headers update it, a 429 blocks the
 * application until the next window (RateLimited), and a 401 gets one token refresh and one retry
 * (ConnectionsService.withAccessToken).
 */
@Injectable()
export class StravaApi {
  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly budget: RateBudget,
    private readonly connections: ConnectionsService,
  ) {}

  get clientId(): string {
    return this.env.STRAVA_CLIENT_ID ?? '';
  }

  /** Counts `requests` now (RateLimited when they do not fit), for a piece of work that needs them all. */
  async reserve(requests: number, interactive: boolean): Promise<Prepaid> {
    await this.budget.take('strava', this.clientId, requests, interactive);
    return { requests };
  }

  /** GET `path` (with its query): the exact answer bytes and their JSON. */
  async get(connectionId: string, path: string, options: { interactive: boolean; prepaid?: Prepaid }): Promise<{ bytes: Uint8Array; json: unknown }> {
    const url = `${this.env.STRAVA_API_URL.replace(/\/$/, '')}${path}`;
    const response = await this.connections.withAccessToken(connectionId, async (token) => {
      if (options.prepaid && options.prepaid.requests > 0) options.prepaid.requests--;
      else await this.budget.take('strava', this.clientId, 1, options.interactive);
      const madeAt = this.budget.now();
      const answer = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      const reported = stravaReportedUsage(answer.headers);
      if (answer.status === 429) {
        await answer.body?.cancel();
        throw new RateLimited(await this.budget.refused('strava', this.clientId, reported, madeAt));
      }
      await this.budget.observe('strava', this.clientId, reported, madeAt);
      return answer;
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new GoneAtProvider(`Strava has no ${path.split('?')[0]}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ProviderFailure(response.status, `Strava GET ${path.split('?')[0]}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { bytes, json: JSON.parse(new TextDecoder().decode(bytes)) as unknown };
  }
}
