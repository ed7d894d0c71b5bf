import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNotNull, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { SourcePriorities } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { Database, Transaction } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { activities, activityDuplicateOverrides, activityStreams, athleteSourcePriorities, type DuplicateOverrideKind } from '../../../database/schema/index.js';
import { duplicateComponents, MAX_START_DIFFERENCE_MS, pairKey, type DuplicateCandidate } from './duplicate-detection.js';
import { DEFAULT_SOURCE_PRIORITIES, electPrimary, rankMembers, tiesOnPriority, type ElectionMember } from './primary-election.js';

type Db = Database | Transaction;

/** The columns detection and election read. */
const nodeColumns = {
  id: activities.id,
  source: activities.source,
  externalId: activities.externalId,
  parentId: activities.parentId,
  activityType: activities.activityType,
  startTime: activities.startTime,
  endTime: activities.endTime,
  distanceM: activities.distanceM,
  avgHeartRateBpm: activities.avgHeartRateBpm,
  duplicateOf: activities.duplicateOf,
  createdAt: activities.createdAt,
};
type Node = DuplicateCandidate & { duplicateOf: string | null; createdAt: Date };

/** Rounds of "load the neighbours of what was just loaded" before a regroup stops growing (a guard: real chains end in one or two). */
const MAX_ROUNDS = 50;

/**
 * Duplicate groups across sources (docs/data-model.md, "Duplicates across sources"): the writes'
 * hook that regroups the neighbourhood of what changed, the athlete's source priority, and the
 * sticky overrides. Every regroup runs in the caller's transaction under a per-athlete advisory
 * lock, so two copies written at once by two transactions end in one group: the second waits for
 * the first to commit, and its candidate query (a later statement, READ COMMITTED) sees it.
 */
@Injectable()
export class DuplicateGroups {
  /** DUPLICATE_DETECTION=false: writes do not regroup (bench:ingest measures the ingest without it). */
  readonly detection: boolean;

  constructor(
    @InjectDb() private readonly db: Database,
    @Inject(ENV) env: Env,
  ) {
    this.detection = env.DUPLICATE_DETECTION;
  }

  /** The per-athlete lock every regroup takes; held until the transaction ends. */
  async lock(tx: Transaction, athleteId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`activity-duplicates:${athleteId}`}, 0))`);
  }

  /**
   * The other members of the groups of `ids`: read before those activities are deleted, so the
   * survivors can be regrouped after (a deleted primary's next member is promoted).
   */
  async matesOf(tx: Transaction, userId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    // A deleted session's legs go with it (ON DELETE CASCADE): their group mates are regrouped too.
    const own = await tx
      .select({ id: activities.id, duplicateOf: activities.duplicateOf })
      .from(activities)
      .where(and(eq(activities.userId, userId), or(anyOf(activities.id, [...ids]), anyOf(activities.parentId, [...ids]))));
    const heads = [...new Set(own.map((row) => row.duplicateOf ?? row.id))];
    if (heads.length === 0) return [];
    const rows = await tx
      .select({ id: activities.id })
      .from(activities)
      .where(and(eq(activities.userId, userId), or(anyOf(activities.id, heads), anyOf(activities.duplicateOf, heads))));
    const gone = new Set([...ids, ...own.map((row) => row.id)]);
    return rows.map((row) => row.id).filter((id) => !gone.has(id));
  }

  /**
   * Regroups the activities `seedIds` of one athlete and everything connected to them. One statement
   * (`neighbourhood`) loads the seeds, their candidates (activities starting within
   * MAX_START_DIFFERENCE_MS of a seed: one range of the (athlete_id, start_time) index per seed),
   * the current group mates of all of them, and their overrides. The set grows (same statement)
   * only from connected activities whose own candidate window was not read yet (a chain of copies
   * more than 10 minutes apart) and from hand-joined partners elsewhere in time — for a batch of
   * copies, usually not at all. Then each activity's duplicate_of is written in one statement.
   * Answers how many groups got a different primary.
   */
  async regroup(tx: Transaction, userId: string, athleteId: string, seedIds: readonly string[]): Promise<{ changedPrimaries: number }> {
    if (seedIds.length === 0) return { changedPrimaries: 0 };
    await this.lock(tx, athleteId);
    const nodes = new Map<string, Node>();
    const separate = new Set<string>();
    const same = new Map<string, [string, string]>();
    const pinned = new Set<string>();
    const seeds = new Set(seedIds);
    /** Activities whose candidate window, mates and overrides were read. */
    const read = new Set<string>();
    const windows: [number, number][] = [];
    let frontier = [...seeds];
    for (let round = 0; frontier.length > 0 && round < MAX_ROUNDS; round++) {
      const rows = await this.neighbourhood(tx, userId, athleteId, frontier);
      for (const id of frontier) read.add(id);
      for (const { overrides, ...row } of rows) {
        if (nodes.has(row.id)) continue;
        nodes.set(row.id, row);
        for (const [activityId, otherId, kind] of overrides ?? []) {
          if (kind === 'separate') separate.add(pairKey(activityId, otherId));
          else if (kind === 'same') same.set(pairKey(activityId, otherId), [activityId, otherId]);
          else pinned.add(activityId);
        }
      }
      for (const id of frontier) {
        const node = nodes.get(id);
        if (node) windows.push([node.startTime.getTime() - MAX_START_DIFFERENCE_MS, node.startTime.getTime() + MAX_START_DIFFERENCE_MS]);
      }
      // Grow from every former group mate of a seed (a group that loses its primary or a link is
      // regrouped whole) and from whatever is connected to a seed (a chain of unrelated back-to-back
      // workouts stops there); load the neighbourhood of those whose window was not read, and
      // hand-joined partners not loaded yet.
      const heads = new Set([...seeds].filter((id) => nodes.has(id)).map((id) => nodes.get(id)!.duplicateOf ?? id));
      const formerMates = [...nodes.values()].filter((node) => heads.has(node.duplicateOf ?? node.id)).map((node) => node.id);
      for (const id of formerMates) seeds.add(id);
      const connected = this.components(nodes, separate, same)
        .filter((members) => members.some((id) => seeds.has(id)))
        .flat();
      for (const id of connected) seeds.add(id);
      const partners = [...same.values()].flat().filter((id) => !nodes.has(id));
      const unread = [...formerMates, ...connected].filter((id) => !read.has(id) && !covered(windows, nodes.get(id)!.startTime.getTime()));
      frontier = [...new Set([...unread, ...partners])];
      for (const id of frontier) seeds.add(id);
    }
    // Only activities whose neighbourhood was loaded are (re)assigned; a candidate that joined no
    // seed's group keeps its own group, which this regroup did not read in full.
    const settled = this.components(nodes, separate, same).filter((members) => members.some((id) => seeds.has(id)));
    return this.assign(tx, athleteId, nodes, seeds, settled, pinned);
  }

  private components(nodes: Map<string, Node>, separate: Set<string>, same: Map<string, [string, string]>): string[][] {
    return duplicateComponents([...nodes.values()], { separate, same: [...same.values()] });
  }

  /**
   * (The overrides' correlation names "activities"."id" by hand: Drizzle writes a single table's
   * columns unqualified in the select list, where `id` would be the override's own.)
   * One statement: the activities `ids`, every activity of the athlete starting within
   * MAX_START_DIFFERENCE_MS of one of them (a LATERAL range of activities_athlete_start_time_idx per
   * id, never a scan of the history), the members of the groups of all of those (the primary by
   * id, the rest by activities_duplicate_of_idx), each with its overrides.
   */
  neighbourhood(db: Db, userId: string, athleteId: string, ids: readonly string[]) {
    const window = sql`${MAX_START_DIFFERENCE_MS}::int * interval '1 millisecond'`;
    return db
      .select({
        ...nodeColumns,
        overrides: sql<[string, string, DuplicateOverrideKind][] | null>`(select json_agg(json_build_array(o.activity_id, o.other_id, o.kind))
          from ${activityDuplicateOverrides} o where o.activity_id = "activities"."id" or o.other_id = "activities"."id")`,
      })
      .from(activities)
      .where(
        and(
          eq(activities.userId, userId),
          eq(activities.athleteId, athleteId),
          // `= any(array(…))` throughout: each list is computed once and probed through an index (an
          // `in (subquery)` let the planner hash-join a sequential scan of the whole table instead).
          sql`${activities.id} = any(array(
            with seed as (select s.id, s.start_time from ${activities} s where s.athlete_id = ${athleteId} and s.id = any(${uuidArray(ids)}::uuid[])),
            base as (
              select seed.id from seed
              union
              select c.id from seed cross join lateral (
                select w.id from ${activities} w
                where w.athlete_id = ${athleteId} and w.start_time between seed.start_time - ${window} and seed.start_time + ${window}
              ) c
            ),
            heads as (select distinct coalesce(b.duplicate_of, b.id) as id from ${activities} b where b.id = any(array(select base.id from base)))
            select base.id from base
            union select heads.id from heads
            union select m.id from ${activities} m where m.duplicate_of = any(array(select heads.id from heads)) and m.duplicate_of is not null
          ))`,
        ),
      );
  }

  /**
   * After a stream of `activityId` was stored or deleted: its richness (stream types, samples) may
   * now decide its group's primary (ties within one source), so a member of a group is regrouped
   * (and only then: an activity in no group costs one indexed read). Its own transaction.
   */
  async reelect(athleteId: string, activityId: string): Promise<void> {
    const [row] = await this.db
      .select({
        userId: activities.userId,
        // Qualified by hand: Drizzle writes a single table's columns unqualified in the select list.
        grouped: sql<boolean>`("activities"."duplicate_of" is not null or exists (select 1 from ${activities} m where m.duplicate_of = "activities"."id"))`,
      })
      .from(activities)
      .where(and(eq(activities.id, activityId), eq(activities.athleteId, athleteId)));
    if (!row?.grouped) return;
    await this.db.transaction((tx) => this.regroup(tx, row.userId, athleteId, [activityId]));
  }

  /** Elects each component's primary and writes duplicate_of where it changes. */
  private async assign(tx: Transaction, athleteId: string, nodes: Map<string, Node>, settledIds: Set<string>, components: string[][], pinned: Set<string>) {
    const priorities = components.length > 0 ? await this.priorities(athleteId, tx) : DEFAULT_SOURCE_PRIORITIES;
    // Richness only breaks ties: read it for the groups whose best members tie on leg and source
    // (a batch of copies from another source needs none).
    const none = new Map<string, { streamTypes: number; samples: number }>();
    const tied = components.filter(
      (members) => !members.some((id) => pinned.has(id)) && tiesOnPriority(members.map((id) => electionMember(nodes.get(id)!, none)), priorities),
    );
    const richness = await this.richness(tx, tied.flat());
    const target = new Map<string, string | null>([...settledIds].filter((id) => nodes.has(id)).map((id) => [id, null]));
    let changedPrimaries = 0;
    for (const members of components) {
      const electable = members.map((id) => electionMember(nodes.get(id)!, richness));
      const primary = electPrimary(electable, priorities, members.find((id) => pinned.has(id)));
      // A group whose primary was a member of another group (or nobody's) before has a new primary.
      if (nodes.get(primary)!.duplicateOf !== null) changedPrimaries++;
      for (const id of members) if (id !== primary) target.set(id, primary);
    }
    const ids: string[] = [];
    const targets: (string | null)[] = [];
    for (const [id, duplicateOf] of target) {
      if (nodes.get(id)!.duplicateOf === duplicateOf) continue;
      ids.push(id);
      targets.push(duplicateOf);
    }
    // One statement for every change (a batch of copies joins its groups at once), atomic, so no row
    // ever points at a member that is no longer a primary.
    if (ids.length > 0) {
      await tx.execute(
        sql`update ${activities} set duplicate_of = change.duplicate_of
            from unnest(${uuidArray(ids)}::uuid[], ${uuidArray(targets)}::uuid[]) as change(id, duplicate_of)
            where ${activities.id} = change.id and ${activities.athleteId} = ${athleteId}`,
      );
      ids.forEach((id, n) => (nodes.get(id)!.duplicateOf = targets[n]!));
    }
    return { changedPrimaries };
  }

  /** Stream types and samples per activity: election's tie-breakers within one source. */
  private async richness(tx: Db, ids: readonly string[]): Promise<Map<string, { streamTypes: number; samples: number }>> {
    if (ids.length === 0) return new Map();
    const rows = await tx
      .select({
        activityId: activityStreams.activityId,
        streamTypes: sql<number>`count(*)::int`,
        samples: sql<number>`coalesce(sum(${activityStreams.sampleCount}), 0)::float8`,
      })
      .from(activityStreams)
      .where(anyOf(activityStreams.activityId, [...ids]))
      .groupBy(activityStreams.activityId);
    return new Map(rows.map((row) => [row.activityId, { streamTypes: row.streamTypes, samples: Number(row.samples) }]));
  }

  /** The athlete's source priority, or the documented default. */
  async priorities(athleteId: string, tx: Db = this.db): Promise<SourcePriorities> {
    const [row] = await tx
      .select({ priorities: athleteSourcePriorities.priorities })
      .from(athleteSourcePriorities)
      .where(eq(athleteSourcePriorities.athleteId, athleteId));
    return row ? { default: row.priorities.default, byCategory: row.priorities.byCategory ?? {} } : DEFAULT_SOURCE_PRIORITIES;
  }

  /** Stores the athlete's priority and re-elects the primaries of all its groups, in one transaction. */
  async setPriorities(userId: string, athleteId: string, priorities: SourcePriorities): Promise<{ changedPrimaries: number }> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, athleteId);
      await tx
        .insert(athleteSourcePriorities)
        .values({ athleteId, priorities })
        .onConflictDoUpdate({ target: athleteSourcePriorities.athleteId, set: { priorities, updatedAt: new Date() } });
      return this.reelectAll(tx, userId, athleteId);
    });
  }

  /**
   * Re-elects the primary of every group of the athlete, groups unchanged (a priority change moves
   * no activity between groups): the members and their primaries in one statement (by
   * activities_duplicate_of_idx), the pins, the richness, then one UPDATE — a fixed number of
   * statements however many groups, no candidate windows read.
   */
  private async reelectAll(tx: Transaction, userId: string, athleteId: string): Promise<{ changedPrimaries: number }> {
    const rows = await tx
      .select(nodeColumns)
      .from(activities)
      .where(
        and(
          eq(activities.userId, userId),
          eq(activities.athleteId, athleteId),
          or(
            isNotNull(activities.duplicateOf),
            sql`${activities.id} in (select m.duplicate_of from ${activities} m where m.athlete_id = ${athleteId} and m.duplicate_of is not null)`,
          ),
        ),
      );
    const nodes = new Map<string, Node>(rows.map((row) => [row.id, row]));
    const groups = new Map<string, string[]>();
    for (const row of rows) {
      const head = row.duplicateOf ?? row.id;
      const members = groups.get(head);
      if (members) members.push(row.id);
      else groups.set(head, [row.id]);
    }
    const pins = rows.length === 0 ? [] : await this.pinsOf(tx, athleteId);
    return this.assign(tx, athleteId, nodes, new Set(nodes.keys()), [...groups.values()].filter((members) => members.length > 1), new Set(pins));
  }

  private async pinsOf(tx: Transaction, athleteId: string): Promise<string[]> {
    const rows = await tx
      .select({ activityId: activityDuplicateOverrides.activityId })
      .from(activityDuplicateOverrides)
      .where(and(eq(activityDuplicateOverrides.athleteId, athleteId), eq(activityDuplicateOverrides.kind, 'primary')));
    return rows.map((row) => row.activityId);
  }

  /**
   * Records an override and regroups around both activities. `same` and `separate` replace each
   * other for the pair; `primary` replaces the pin of every other member of the group.
   */
  async override(tx: Transaction, userId: string, athleteId: string, kind: DuplicateOverrideKind, pairs: [string, string][]): Promise<void> {
    await this.lock(tx, athleteId);
    for (const [a, b] of pairs) {
      const [activityId, otherId] = kind === 'primary' ? [a, a] : a < b ? [a, b] : [b, a];
      if (kind !== 'primary') {
        await tx
          .delete(activityDuplicateOverrides)
          .where(and(eq(activityDuplicateOverrides.activityId, activityId), eq(activityDuplicateOverrides.otherId, otherId)));
      }
      await tx.insert(activityDuplicateOverrides).values({ athleteId, activityId, otherId, kind }).onConflictDoNothing();
    }
  }

  /** Removes pins of these activities (another member becomes the pinned primary). */
  async unpin(tx: Transaction, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await tx
      .delete(activityDuplicateOverrides)
      .where(and(eq(activityDuplicateOverrides.kind, 'primary'), anyOf(activityDuplicateOverrides.activityId, [...ids])));
  }

  /** Removes the hand-joins of an activity (it is split out: nothing keeps it in by hand). */
  async removeJoins(tx: Transaction, id: string): Promise<void> {
    await tx
      .delete(activityDuplicateOverrides)
      .where(and(eq(activityDuplicateOverrides.kind, 'same'), or(eq(activityDuplicateOverrides.activityId, id), eq(activityDuplicateOverrides.otherId, id))));
  }

  /** The group an activity is in (its primary first, then the members by priority), or just itself. */
  async groupOf(userId: string, id: string, duplicateOf: string | null): Promise<string[]> {
    const head = duplicateOf ?? id;
    const rows = await this.db
      .select({ id: activities.id, athleteId: activities.athleteId, parentId: activities.parentId, source: activities.source, activityType: activities.activityType, createdAt: activities.createdAt })
      .from(activities)
      .where(and(eq(activities.userId, userId), or(eq(activities.id, head), eq(activities.duplicateOf, head))));
    if (rows.length <= 1) return rows.map((row) => row.id);
    const richness = await this.richness(this.db, rows.map((row) => row.id));
    const priorities = await this.priorities(rows[0]!.athleteId);
    const ranked = rankMembers(
      rows.map((row) => ({ ...row, streamTypes: richness.get(row.id)?.streamTypes ?? 0, samples: richness.get(row.id)?.samples ?? 0 })),
      priorities,
    ).map((row) => row.id);
    return [head, ...ranked.filter((member) => member !== head)];
  }
}

/**
 * `column = any($1::uuid[])`: one parameter for the whole list. Drizzle's inArray binds one
 * parameter per id, and building a statement of hundreds of them per batch costs more than running it.
 */
/** A PostgreSQL array literal of uuids (NULL for null), bound as one parameter. */
const uuidArray = (ids: readonly (string | null)[]) => `{${ids.map((id) => id ?? 'NULL').join(',')}}`;

function anyOf(column: AnyColumn, ids: readonly string[]): SQL {
  return sql`${column} = any(${uuidArray(ids)}::uuid[])`;
}

function electionMember(node: Node, richness: Map<string, { streamTypes: number; samples: number }>): ElectionMember {
  return {
    id: node.id,
    source: node.source,
    activityType: node.activityType,
    createdAt: node.createdAt,
    parentId: node.parentId,
    streamTypes: richness.get(node.id)?.streamTypes ?? 0,
    samples: richness.get(node.id)?.samples ?? 0,
  };
}

/** Whether [start − 10 min, start + 10 min] lies inside the union of `windows` (its candidates were read). */
export function covered(windows: readonly [number, number][], start: number): boolean {
  let from = start - MAX_START_DIFFERENCE_MS;
  const to = start + MAX_START_DIFFERENCE_MS;
  for (const [a, b] of [...windows].sort((x, y) => x[0] - y[0])) {
    if (a > from) return false;
    if (b >= from) from = b;
    if (from >= to) return true;
  }
  return from >= to;
}
