import { Inject, Injectable } from '@nestjs/common';
import type { ConnectionProvider } from '@unified-activity/contract';
import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { Database } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { providerApps, type ProviderAppRow } from '../../../database/schema/index.js';

/** A new Strava application's read limits (the smaller pair), until the first answer reports the real ones. */
export const DEFAULT_LIMITS: Record<ConnectionProvider, { window: number; day: number }> = {
  strava: { window: 100, day: 1000 },
  garmin: { window: 100, day: 1000 },
};

/** Backfill leaves this share of each window (at least one request) to interactive work: webhook events never wait behind history. */
export const INTERACTIVE_RESERVE = 0.1;

/** No request may be made before `until` (the provider's window is spent, or it answered 429). */
export class RateLimited extends Error {
  constructor(readonly until: Date) {
    super(`Provider rate limit: next request at ${until.toISOString()}`);
  }
}

/** The limit and usage headers of one answer: `X-RateLimit-Limit: 200,2000`, `X-RateLimit-Usage: 12,340` and the read pair. */
export interface ReportedUsage {
  limit: [number, number];
  usage: [number, number];
}

function pair(value: string | null): [number, number] | undefined {
  if (!value) return undefined;
  const [a, b] = value.split(',').map((part) => Number(part.trim()));
  return Number.isFinite(a) && Number.isFinite(b) ? [a!, b!] : undefined;
}

/**
 * Strava's headers: the overall pair and the read pair (GET requests count against both). What is
 * left is the smaller headroom of the two, expressed as one limit and one usage.
 */
export function stravaReportedUsage(headers: Headers): ReportedUsage | undefined {
  const overall = { limit: pair(headers.get('x-ratelimit-limit')), usage: pair(headers.get('x-ratelimit-usage')) };
  const read = { limit: pair(headers.get('x-readratelimit-limit')), usage: pair(headers.get('x-readratelimit-usage')) };
  const pairs = [overall, read].filter((p): p is ReportedUsage => p.limit !== undefined && p.usage !== undefined);
  if (pairs.length === 0) return undefined;
  const limit: [number, number] = [Math.min(...pairs.map((p) => p.limit[0])), Math.min(...pairs.map((p) => p.limit[1]))];
  const left = [Math.min(...pairs.map((p) => p.limit[0] - p.usage[0])), Math.min(...pairs.map((p) => p.limit[1] - p.usage[1]))];
  return { limit, usage: [limit[0] - left[0]!, limit[1] - left[1]!] };
}

/**
 * The request budget of a provider application, one row shared by every replica (provider_apps):
 * a request is made only after `take` counted it under both the short-window and the daily limit in
 * one UPDATE, so replicas together never plan beyond them. Every answer's headers move the counts
 * up to what the provider says (other clients of the same application count too) and the limits to
 * what it reports. A 429 blocks the application until the next window (or day).
 */
@Injectable()
export class RateBudget {
  /** The clock: a bench or test simulating time faster shrinks the windows, not the clock. */
  now: () => number = Date.now;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectDb() private readonly db: Database,
  ) {}

  windowOf(at: number) {
    return Math.floor(at / this.env.PROVIDER_RATE_WINDOW_MS);
  }

  dayOf(at: number) {
    return Math.floor(at / this.env.PROVIDER_RATE_DAY_MS);
  }

  /**
   * Counts `requests` against the budget, or throws RateLimited with the instant the window (or
   * day, or a 429 block) ends. `interactive` work may spend the reserve backfill leaves.
   */
  async take(provider: ConnectionProvider, clientId: string, requests: number, interactive: boolean): Promise<void> {
    await this.ensure(provider, clientId);
    const now = this.now();
    const window = this.windowOf(now);
    const day = this.dayOf(now);
    const usedWindow = sql`(case when ${providerApps.windowIndex} = ${window} then ${providerApps.windowUsed} else 0 end)`;
    const usedDay = sql`(case when ${providerApps.dayIndex} = ${day} then ${providerApps.dayUsed} else 0 end)`;
    const reserve = interactive ? sql`0` : sql`greatest(1, floor(${providerApps.windowLimit} * ${sql.raw(String(INTERACTIVE_RESERVE))})::int)`;
    const dayReserve = interactive ? sql`0` : sql`greatest(1, floor(${providerApps.dayLimit} * ${sql.raw(String(INTERACTIVE_RESERVE / 10))})::int)`;
    const taken = await this.db
      .update(providerApps)
      .set({ windowUsed: sql`${usedWindow} + ${requests}`, dayUsed: sql`${usedDay} + ${requests}`, windowIndex: window, dayIndex: day })
      .where(
        and(
          this.key(provider, clientId),
          or(isNull(providerApps.blockedUntil), lte(providerApps.blockedUntil, new Date(now))),
          sql`${usedWindow} + ${requests} <= ${providerApps.windowLimit} - ${reserve}`,
          sql`${usedDay} + ${requests} <= ${providerApps.dayLimit} - ${dayReserve}`,
        ),
      )
      .returning({ provider: providerApps.provider });
    if (taken.length > 0) return;
    const row = await this.row(provider, clientId);
    throw new RateLimited(this.nextAttempt(row, now, requests, interactive));
  }

  /** When `requests` may next be taken: the block's end, the next day when the day is spent, else the next window. */
  private nextAttempt(row: ProviderAppRow, now: number, requests: number, interactive: boolean): Date {
    if (row.blockedUntil && row.blockedUntil.getTime() > now) return row.blockedUntil;
    const dayUsed = row.dayIndex === this.dayOf(now) ? row.dayUsed : 0;
    const dayReserve = interactive ? 0 : Math.max(1, Math.floor(row.dayLimit * (INTERACTIVE_RESERVE / 10)));
    if (dayUsed + requests > row.dayLimit - dayReserve) return this.boundary(this.dayOf(now) + 1, this.env.PROVIDER_RATE_DAY_MS);
    return this.boundary(this.windowOf(now) + 1, this.env.PROVIDER_RATE_WINDOW_MS);
  }

  /** A window's start, a little after it (the provider's clock may run behind ours). */
  private boundary(index: number, length: number): Date {
    return new Date(index * length + Math.min(1000, Math.ceil(length / 200)));
  }

  /** What an answer's headers say: counts only go up (within the window the answer was made in), limits follow the provider. */
  async observe(provider: ConnectionProvider, clientId: string, reported: ReportedUsage | undefined, madeAt: number): Promise<void> {
    if (!reported) return;
    await this.ensure(provider, clientId);
    const window = this.windowOf(madeAt);
    const day = this.dayOf(madeAt);
    await this.db
      .update(providerApps)
      .set({
        windowLimit: reported.limit[0],
        dayLimit: reported.limit[1],
        windowUsed: sql`case when ${providerApps.windowIndex} = ${window} then greatest(${providerApps.windowUsed}, ${reported.usage[0]}) when ${providerApps.windowIndex} < ${window} then ${reported.usage[0]} else ${providerApps.windowUsed} end`,
        windowIndex: sql`greatest(${providerApps.windowIndex}, ${window})`,
        dayUsed: sql`case when ${providerApps.dayIndex} = ${day} then greatest(${providerApps.dayUsed}, ${reported.usage[1]}) when ${providerApps.dayIndex} < ${day} then ${reported.usage[1]} else ${providerApps.dayUsed} end`,
        dayIndex: sql`greatest(${providerApps.dayIndex}, ${day})`,
      })
      .where(this.key(provider, clientId));
  }

  /**
   * The provider answered 429: nothing more until the next window, or the next day when the answer
   * says the day is spent. Returns that instant.
   */
  async refused(provider: ConnectionProvider, clientId: string, reported: ReportedUsage | undefined, madeAt: number): Promise<Date> {
    const dayDone = reported !== undefined && reported.usage[1] >= reported.limit[1];
    const until = dayDone
      ? this.boundary(this.dayOf(madeAt) + 1, this.env.PROVIDER_RATE_DAY_MS)
      : this.boundary(this.windowOf(madeAt) + 1, this.env.PROVIDER_RATE_WINDOW_MS);
    await this.observe(provider, clientId, reported, madeAt);
    await this.ensure(provider, clientId);
    await this.db
      .update(providerApps)
      .set({ blockedUntil: sql`greatest(coalesce(${providerApps.blockedUntil}, ${until.toISOString()}::timestamptz), ${until.toISOString()}::timestamptz)` })
      .where(this.key(provider, clientId));
    return until;
  }

  async row(provider: ConnectionProvider, clientId: string): Promise<ProviderAppRow> {
    await this.ensure(provider, clientId);
    const [row] = await this.db.select().from(providerApps).where(this.key(provider, clientId));
    return row!;
  }

  /** The push subscription id the provider's events must carry (null: none registered yet). */
  async subscriptionId(provider: ConnectionProvider, clientId: string): Promise<string | null> {
    return (await this.row(provider, clientId)).subscriptionId;
  }

  async setSubscriptionId(provider: ConnectionProvider, clientId: string, subscriptionId: string | null): Promise<void> {
    await this.ensure(provider, clientId);
    await this.db.update(providerApps).set({ subscriptionId }).where(this.key(provider, clientId));
  }

  private key(provider: ConnectionProvider, clientId: string) {
    return and(eq(providerApps.provider, provider), eq(providerApps.clientId, clientId));
  }

  private readonly known = new Set<string>();

  private async ensure(provider: ConnectionProvider, clientId: string): Promise<void> {
    const id = `${provider}:${clientId}`;
    if (this.known.has(id)) return;
    const limits = DEFAULT_LIMITS[provider];
    await this.db.insert(providerApps).values({ provider, clientId, windowLimit: limits.window, dayLimit: limits.day }).onConflictDoNothing();
    this.known.add(id);
  }
}
