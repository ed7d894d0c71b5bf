import { Injectable } from '@nestjs/common';
import { and, desc, eq, exists, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { withFlatRowMapper } from '../../database/fast-rows.js';
import { activities, athletes, type ActivityRow } from '../../database/schema/index.js';
import { DEFAULT_SOURCE_PRIORITY } from '@unified-activity/contract';
import { summaryColumns, type ActivitySummaryRow } from './activity-rows.js';
import { WILDCARD_ACTIVITY_TYPE } from './duplicates/duplicate-detection.js';

/** A timeline row with its start time in whole microseconds, for the next page's cursor, and the size of its duplicate group. */
export type TimelineRow = ActivitySummaryRow & { startTimeMicros: string; duplicateCount: number };

/**
 * How many activities name this row as their primary: one probe of the partial index on
 * duplicate_of per row of the page (empty, and so free, for an athlete without duplicates).
 */
const duplicateCount = sql<number>`(select count(*)::int from "activities" "copies" where "copies"."duplicate_of" = "activities"."id")`;

/**
 * A primary's figure for totals (docs/data-model.md, "Duplicates across sources"): its own when it
 * has one; when null, the first member's that has one in the order election ranks them
 * (primary-election.ts, rankMembers): a session's leg first, then the athlete's source priority for
 * the group's category (`byCategory`, else `default`; sources it left out after, in the athlete's
 * default then the documented default order), then more stream types, more samples, the earliest
 * created, the id. So totals count each group once with the figures the detail's merged view shows.
 * Evaluated only for a null figure (CASE), so an athlete without gaps keeps the index-only scan; the
 * members are probes of activities_duplicate_of_idx.
 */
function mergedFigure(column: 'distance_m' | 'duration_s'): SQL {
  const own = sql.raw(`"activities"."${column}"`);
  const member = sql.raw(`m."${column}"`);
  const defaults = `{${DEFAULT_SOURCE_PRIORITY.join(',')}}`;
  // The group's category (primary-election.ts, groupCategory): that of its first created member whose type is not `other`.
  const category = sql`(select t.category from (
      select g.activity_type, g.created_at from "activities" g where g.id = "activities"."id"
      union all select g.activity_type, g.created_at from "activities" g where g.duplicate_of = "activities"."id") x
    join "activity_types" t on t.slug = x.activity_type
    where x.activity_type <> ${WILDCARD_ACTIVITY_TYPE} order by x.created_at limit 1)`;
  const list = (json: SQL) => sql`coalesce(array(select jsonb_array_elements_text(${json})), '{}'::text[])`;
  return sql`case when ${own} is null then (
    select ${member} from "activities" m
      left join "athlete_source_priorities" p on p.athlete_id = m.athlete_id
     where m.duplicate_of = "activities"."id" and ${member} is not null
     order by (m.parent_id is null),
              array_position(${list(sql`coalesce(p.priorities -> 'byCategory' -> ${category}, p.priorities -> 'default')`)} || ${list(sql`p.priorities -> 'default'`)} || ${defaults}::text[], m.source::text),
              (select count(*) from "activity_streams" s where s.activity_id = m.id) desc,
              (select coalesce(sum(s.sample_count), 0) from "activity_streams" s where s.activity_id = m.id) desc,
              m.created_at, m.id
     limit 1) else ${own} end`;
}

export interface ActivityFilter {
  userId: string;
  athleteId?: string;
  activityTypes?: string[];
  sources?: string[];
  startTimeFrom?: Date;
  startTimeTo?: Date;
  topLevelOnly?: boolean;
  parentId?: string;
  /** One item per duplicate group (its primary) plus activities in no group: `duplicate_of is null`, read from the index entry. */
  primariesOnly?: boolean;
}

/** Where the previous page ended: start_time at the column's full precision, then id. */
export interface Keyset {
  startTimeMicros: bigint;
  id: string;
}

const p = sql.placeholder;
const micros = (column: SQL | typeof activities.startTime) => sql<string>`((extract(epoch from ${column}) * 1000000)::bigint)::text`;
const fromMicros = (value: SQL | ReturnType<typeof p>) => sql`(timestamptz 'epoch' + ${value}::bigint * interval '1 microsecond')`;

/**
 * The timeline: one page of an owner's activities, newest first, and the totals of what a filter
 * matches. Like every activities query it scopes by the owning user in the SQL itself
 * (docs/data-model.md, "Ownership"); pages and totals are prepared once per shape of filter.
 */
@Injectable()
export class ActivityTimelineQuery {
  constructor(@InjectDb() private readonly db: Database) {}

  /**
   * The timeline's WHERE clause. Scalar filters are placeholders, so those queries are prepared once
   * per combination of filters; list filters (types, sources) are bound as IN lists per request.
   * With an athleteId, ownership is an uncorrelated EXISTS on athletes (a one-time filter), so the
   * scan runs on (athlete_id, start_time, id, …) alone and totals can be index-only.
   */
  private where(filter: ActivityFilter, inline: boolean): SQL | undefined {
    const bind = <T>(name: string, value: T) => (inline ? (value as unknown as SQL) : p(name));
    const userId = bind('userId', filter.userId);
    return and(
      filter.athleteId
        ? and(
            eq(activities.athleteId, bind('athleteId', filter.athleteId)),
            exists(this.db.select({ one: sql`1` }).from(athletes).where(and(eq(athletes.id, bind('athleteId', filter.athleteId)), eq(athletes.userId, userId)))),
          )
        : eq(activities.userId, userId),
      filter.activityTypes ? inArray(activities.activityType, filter.activityTypes) : undefined,
      filter.sources ? inArray(activities.source, filter.sources as ActivityRow['source'][]) : undefined,
      filter.startTimeFrom ? gte(activities.startTime, bind('startTimeFrom', filter.startTimeFrom)) : undefined,
      filter.startTimeTo ? lt(activities.startTime, bind('startTimeTo', filter.startTimeTo)) : undefined,
      filter.topLevelOnly ? isNull(activities.parentId) : undefined,
      filter.parentId ? eq(activities.parentId, bind('parentId', filter.parentId)) : undefined,
      filter.primariesOnly ? isNull(activities.duplicateOf) : undefined,
    );
  }

  private readonly pageQueries = new Map<string, ReturnType<ReturnType<ActivityTimelineQuery['pageQuery']>['prepare']>>();
  private readonly totalsQueries = new Map<string, ReturnType<ReturnType<ActivityTimelineQuery['totalsQuery']>['prepare']>>();

  private static shape(filter: ActivityFilter): string {
    const { userId: _userId, ...filters } = filter;
    return Object.entries(filters)
      .filter(([, value]) => value !== undefined && value !== false)
      .map(([key]) => key)
      .sort()
      .join('_');
  }

  private static params(filter: ActivityFilter) {
    return {
      userId: filter.userId,
      athleteId: filter.athleteId,
      parentId: filter.parentId,
      startTimeFrom: filter.startTimeFrom?.toISOString(),
      startTimeTo: filter.startTimeTo?.toISOString(),
    };
  }

  /** Lists are bound per request (an IN list's length is part of the SQL); the rest is prepared. */
  private static preparable(filter: ActivityFilter): boolean {
    return !filter.activityTypes && !filter.sources;
  }

  /**
   * Newest first, `order by start_time desc, id desc` — NULLS FIRST, the order of the timeline
   * indexes — and the keyset as one row comparison, so the page is read in index order with no Sort.
   */
  private pageQuery(filter: ActivityFilter, after: Keyset | undefined, limit: number, inline = false) {
    const prepared = !inline && ActivityTimelineQuery.preparable(filter);
    const afterCursor = after
      ? sql`(${activities.startTime}, ${activities.id}) < (${fromMicros(prepared ? p('afterMicros') : sql`${after.startTimeMicros.toString()}`)}, ${
          prepared ? p('afterId') : after.id
        }::uuid)`
      : undefined;
    return this.db
      .select({ ...summaryColumns, startTimeMicros: micros(activities.startTime), duplicateCount })
      .from(activities)
      .where(and(this.where(filter, !prepared), afterCursor))
      .orderBy(desc(activities.startTime), desc(activities.id))
      .limit(prepared ? p('limit') : limit);
  }

  private totalsQuery(filter: ActivityFilter, inline = false) {
    return this.db
      .select({
        count: sql<number>`count(*)::int`,
        // One item per group: its primary's figures, a null one filled from its members (mergedFigure).
        distanceM: sql<number>`coalesce(sum(${filter.primariesOnly ? mergedFigure('distance_m') : activities.distanceM}), 0)::float8`,
        durationS: sql<number>`coalesce(sum(${filter.primariesOnly ? mergedFigure('duration_s') : activities.durationS}), 0)::float8`,
      })
      .from(activities)
      .where(this.where(filter, inline || !ActivityTimelineQuery.preparable(filter)));
  }

  /** The SQL and parameters of a timeline page and of its totals, for EXPLAIN (test/integration/timeline.spec.ts). */
  timelineSql(filter: ActivityFilter, after: Keyset | undefined, limit: number) {
    return { page: this.pageQuery(filter, after, limit, true).toSQL(), totals: this.totalsQuery(filter, true).toSQL() };
  }

  /** One page of the timeline, newest first, after the keyset `after` (exclusive). */
  findPage(filter: ActivityFilter, after: Keyset | undefined, limit: number): Promise<TimelineRow[]> {
    if (!ActivityTimelineQuery.preparable(filter)) return this.pageQuery(filter, after, limit);
    const key = `${ActivityTimelineQuery.shape(filter)}${after ? '_cursor' : ''}`;
    let query = this.pageQueries.get(key);
    if (!query) {
      query = withFlatRowMapper(this.pageQuery(filter, after, limit).prepare(`activity_page_${this.pageQueries.size}`));
      this.pageQueries.set(key, query);
    }
    return query.execute({
      ...ActivityTimelineQuery.params(filter),
      afterMicros: after?.startTimeMicros.toString(),
      afterId: after?.id,
      limit,
    });
  }

  /**
   * Count, distance and duration of everything the filter matches. Only run when a client asks
   * (includeTotals); unfiltered per-athlete or per-user totals are an index-only scan of the
   * timeline index (duration_s and distance_m are its trailing columns).
   */
  async totals(filter: ActivityFilter): Promise<{ count: number; distanceM: number; durationS: number }> {
    let rows: { count: number; distanceM: number; durationS: number }[];
    if (ActivityTimelineQuery.preparable(filter)) {
      const key = ActivityTimelineQuery.shape(filter);
      let query = this.totalsQueries.get(key);
      if (!query) {
        query = this.totalsQuery(filter).prepare(`activity_totals_${this.totalsQueries.size}`);
        this.totalsQueries.set(key, query);
      }
      rows = await query.execute(ActivityTimelineQuery.params(filter));
    } else {
      rows = await this.totalsQuery(filter);
    }
    return rows[0] ?? { count: 0, distanceM: 0, durationS: 0 };
  }
}
