import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNotNull, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { SourcePriorities } from '@unified-activity/contract';
import { ENV } from '../../../config/config.module.js';
import type { Env } from '../../../config/env.js';
import type { Database, Transaction } from '../../../database/database.js';
import { InjectDb } from '../../../database/database.module.js';
import { activities, activityDuplicateOverrides, activityStreams, athleteSourcePriorities, athletes, type DuplicateOverrideKind } from '../../../database/schema/index.js';
import { summaryColumns, type ActivitySummaryRow } from '../activity-rows.js';
import { duplicateComponents, MAX_START_DIFFERENCE_MS, pairKey, type DuplicateCandidate } from './duplicate-detection.js';
import { DEFAULT_SOURCE_PRIORITIES, electPrimary, rankMembers, tiesOnPriority, type ElectionMember } from './primary-election.js';
import { executedRows } from '../../../database/executed-rows.js';

type Db = Database | Transaction;

/** The last re-election of an athlete's primaries after a priority change (GET source-priorities). */
export interface Reelection {
  state: 'pending' | 'done';
  changedPrimaries: number | null;
  finishedAt: Date | null;
}

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

/** An activity about to be inserted, as detection reads it (placeFresh). */
export type FreshActivity = Omit<DuplicateCandidate, 'parentId'>;

/** A row of `neighbourhood`, as the driver returns raw SQL (timestamps and JSON may come as text). */
type NeighbourRow = Record<keyof Node | 'overrides', unknown>;

const toDate = (value: unknown) => (value instanceof Date ? value : new Date(String(value)));
const toNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function toNode(row: NeighbourRow): Node & { overrides: [string, string, DuplicateOverrideKind][] | null } {
  return {
    id: row.id as string,
    source: row.source as string,
    externalId: (row.externalId as string | null) ?? null,
    parentId: (row.parentId as string | null) ?? null,
    activityType: row.activityType as string,
    startTime: toDate(row.startTime),
    endTime: toDate(row.endTime),
    distanceM: toNumber(row.distanceM),
    avgHeartRateBpm: toNumber(row.avgHeartRateBpm),
    duplicateOf: (row.duplicateOf as string | null) ?? null,
    createdAt: toDate(row.createdAt),
    overrides: typeof row.overrides === 'string' ? JSON.parse(row.overrides) : ((row.overrides as [string, string, DuplicateOverrideKind][] | null) ?? null),
  };
}

/**
 * How far from each id `neighbourhood` reads: twice the start difference a candidate may have. A
 * copy within MAX_START_DIFFERENCE_MS of a seed then has its own candidates read in the same
 * statement; with the candidates' reach alone, every copy of a batch (the HealthKit workout a
 * Garmin copy joins, 40 s earlier) needed a second round for its window, doubling the reads.
 */
export const READ_REACH_MS = 2 * MAX_START_DIFFERENCE_MS;

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
   * (`neighbourhood`) loads the seeds, their candidates and the candidates' own (activities starting
   * within READ_REACH_MS of a seed: one range of the (athlete_id, start_time) index per seed),
   * the current group mates of all of them, and their overrides. The set grows (same statement)
   * only from connected activities whose own candidate window was not read yet (a chain of copies
   * more than 10 minutes apart) and from hand-joined partners elsewhere in time — for a batch of
   * copies, usually not at all. Then each activity's duplicate_of is written in one statement.
   * Answers how many groups got a different primary.
   */
  async regroup(tx: Transaction, userId: string, athleteId: string, seedIds: readonly string[]): Promise<{ changedPrimaries: number }> {
    if (seedIds.length === 0) return { changedPrimaries: 0 };
    const { nodes, seeds, settled, pinned } = await this.settle(tx, userId, athleteId, seedIds, []);
    return this.assign(tx, athleteId, nodes, seeds, settled, pinned);
  }

  /**
   * Groups activities that are about to be inserted (their ids chosen, their rows not written yet)
   * as regroup would once they are: answers the duplicate_of each is to be inserted with, and the
   * write of the stored rows whose duplicate_of changes (a stored copy the new one outranks), to run
   * once the new rows are in. A new copy that joins a stored primary is then written once, not
   * inserted and then updated (a non-HOT update in every index of activities: half the cost of a
   * batch of such copies, docs/benchmarks.md "The cost of duplicate detection"). Takes the lock;
   * the caller inserts in the same transaction. Rows to insert put the primaries first (insertFirst).
   */
  async placeFresh(
    tx: Transaction,
    userId: string,
    athleteId: string,
    fresh: readonly FreshActivity[],
  ): Promise<{ duplicateOf: Map<string, string | null>; afterInsert: () => Promise<void> }> {
    const freshNodes = fresh.map((activity): Node => ({ ...activity, parentId: null, duplicateOf: null, createdAt: new Date() }));
    const { nodes, seeds, settled, pinned } = await this.settle(tx, userId, athleteId, [], freshNodes);
    const { target } = await this.elect(tx, athleteId, nodes, seeds, settled, pinned);
    const freshIds = new Set(freshNodes.map((node) => node.id));
    const duplicateOf = new Map(freshNodes.map((node) => [node.id, target.get(node.id) ?? null]));
    return {
      duplicateOf,
      afterInsert: async () => {
        for (const id of freshIds) target.delete(id);
        await this.write(tx, athleteId, nodes, target);
      },
    };
  }

  /**
   * The groups around `seedIds` (stored) and `fresh` (not stored yet): one statement
   * (`neighbourhood`) loads the seeds, their candidates and the candidates' own (activities starting
   * within READ_REACH_MS of a seed: one range of the (athlete_id, start_time) index per seed),
   * the current group mates of all of them, and their overrides. The set grows (same statement)
   * only from connected activities whose own candidate window was not read yet (a chain of copies
   * more than 10 minutes apart) and from hand-joined partners elsewhere in time — for a batch of
   * copies, usually not at all. Under the athlete's lock.
   */
  private async settle(tx: Transaction, userId: string, athleteId: string, seedIds: readonly string[], fresh: readonly Node[]) {
    await this.lock(tx, athleteId);
    const nodes = new Map<string, Node>(fresh.map((node) => [node.id, node]));
    const separate = new Set<string>();
    const same = new Map<string, [string, string]>();
    const pinned = new Set<string>();
    const seeds = new Set([...seedIds, ...nodes.keys()]);
    /** Activities whose candidate window, mates and overrides were read (the fresh ones' by their start times). */
    const read = new Set<string>(nodes.keys());
    const windows: [number, number][] = fresh.map((node) => [node.startTime.getTime() - READ_REACH_MS, node.startTime.getTime() + READ_REACH_MS]);
    let frontier = [...seedIds];
    let starts = fresh.map((node) => node.startTime);
    /** The components of the nodes loaded so far (each round's last load is its final state). */
    let components: string[][] | undefined;
    for (let round = 0; (frontier.length > 0 || starts.length > 0) && round < MAX_ROUNDS; round++) {
      const rows = await this.neighbourhood(tx, userId, athleteId, frontier, starts);
      starts = [];
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
        if (node) windows.push([node.startTime.getTime() - READ_REACH_MS, node.startTime.getTime() + READ_REACH_MS]);
      }
      // Grow from every former group mate of a seed (a group that loses its primary or a link is
      // regrouped whole) and from whatever is connected to a seed (a chain of unrelated back-to-back
      // workouts stops there); load the neighbourhood of those whose window was not read, and
      // hand-joined partners not loaded yet.
      const heads = new Set([...seeds].filter((id) => nodes.has(id)).map((id) => nodes.get(id)!.duplicateOf ?? id));
      const formerMates = [...nodes.values()].filter((node) => heads.has(node.duplicateOf ?? node.id)).map((node) => node.id);
      for (const id of formerMates) seeds.add(id);
      components = this.components(nodes, separate, same);
      const connected = components.filter((members) => members.some((id) => seeds.has(id))).flat();
      for (const id of connected) seeds.add(id);
      const partners = [...same.values()].flat().filter((id) => !nodes.has(id));
      // The windows' union once per round (per id, sorting 500 windows of a batch was most of a batch of copies' regroup).
      const union = unionOf(windows);
      const unread = [...formerMates, ...connected].filter((id) => !read.has(id) && !inUnion(union, nodes.get(id)!.startTime.getTime()));
      frontier = [...new Set([...unread, ...partners])];
      for (const id of frontier) seeds.add(id);
    }
    // Only activities whose neighbourhood was loaded are (re)assigned; a candidate that joined no
    // seed's group keeps its own group, which this regroup did not read in full. Nothing was loaded
    // after the last round's components, so they are the final ones.
    const settled = (components ?? this.components(nodes, separate, same)).filter((members) => members.some((id) => seeds.has(id)));
    return { nodes, seeds, settled, pinned };
  }

  private components(nodes: Map<string, Node>, separate: Set<string>, same: Map<string, [string, string]>): string[][] {
    return duplicateComponents([...nodes.values()], { separate, same: [...same.values()] });
  }

  /**
   * One statement: the activities `ids` (and the not yet stored ones starting at `starts`), every
   * activity of the athlete starting within READ_REACH_MS of one of them (a LATERAL range of
   * activities_athlete_start_time_idx per seed, never a scan of the history: its OFFSET 0 keeps the
   * planner from flattening it into one join over the athlete's history, which it chose for 500
   * seeds with the athlete's row count underestimated — a second per batch), the members of the groups of all of those (the primary by
   * id, the rest by activities_duplicate_of_idx), each with its overrides.
   * Each row of that list is then read by one probe of (id, athlete_id) (a LATERAL … LIMIT 1 the
   * planner cannot turn into a join): as a join or `id = any(…)`, the list's size is unknown when
   * the plan is made, and the planner bitmap-scanned the athlete's whole history for it (and the
   * athlete's range again for its owner), the cost of ingesting a batch of copies growing with the
   * history (bench:ingest's copies at 0.37 of the rate without detection).
   */
  async neighbourhood(db: Db, userId: string, athleteId: string, ids: readonly string[], starts: readonly Date[] = []) {
    return executedRows<NeighbourRow>(await db.execute(neighbourhoodSql(userId, athleteId, ids, starts))).map(toNode);
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
    const { changedPrimaries, target } = await this.elect(tx, athleteId, nodes, settledIds, components, pinned);
    await this.write(tx, athleteId, nodes, target);
    return { changedPrimaries };
  }

  /** Each component's primary: the duplicate_of every settled activity is to have. */
  private async elect(tx: Transaction, athleteId: string, nodes: Map<string, Node>, settledIds: Set<string>, components: string[][], pinned: Set<string>) {
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
    return { changedPrimaries, target };
  }

  /**
   * Writes duplicate_of where `target` differs from the stored value: one statement for every change
   * (a batch of copies joins its groups at once), atomic, so no row ever points at a member that is
   * no longer a primary. The rows are found by (id, athlete_id) = any(…) on
   * activities_id_athlete_id_key, each one's target by its position in the list: a join with
   * unnest(…) let the planner hash the athlete's whole history instead (its size unknown).
   */
  private async write(tx: Transaction, athleteId: string, nodes: Map<string, Node>, target: Map<string, string | null>): Promise<void> {
    const ids: string[] = [];
    const targets: (string | null)[] = [];
    for (const [id, duplicateOf] of target) {
      if (nodes.get(id)!.duplicateOf === duplicateOf) continue;
      ids.push(id);
      targets.push(duplicateOf);
    }
    if (ids.length === 0) return;
    await tx.execute(
      sql`update ${activities} set duplicate_of = (${uuidArray(targets)}::uuid[])[array_position(${uuidArray(ids)}::uuid[], ${activities.id})]
          where ${activities.id} = any(${uuidArray(ids)}::uuid[]) and ${activities.athleteId} = ${athleteId}`,
    );
    ids.forEach((id, n) => (nodes.get(id)!.duplicateOf = targets[n]!));
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

  /**
   * Stores the athlete's priority. An athlete with at most `inlineMax` duplicate groups has their
   * primaries re-elected in the same transaction (answers how many changed); a larger one is left
   * `reelection_pending` for a job (reelectPending; answers null).
   */
  async setPriorities(userId: string, athleteId: string, priorities: SourcePriorities, inlineMax: number): Promise<{ changedPrimaries: number | null }> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, athleteId);
      const inline = (await this.countGroups(tx, athleteId, inlineMax + 1)) <= inlineMax;
      const state = { priorities, reelectionPending: !inline, changedPrimaries: null, reelectedAt: null };
      await tx
        .insert(athleteSourcePriorities)
        .values({ athleteId, ...state })
        .onConflictDoUpdate({ target: athleteSourcePriorities.athleteId, set: { ...state, updatedAt: new Date() } });
      if (!inline) return { changedPrimaries: null };
      const { changedPrimaries } = await this.reelectAll(tx, userId, athleteId);
      await tx.update(athleteSourcePriorities).set({ changedPrimaries, reelectedAt: new Date() }).where(eq(athleteSourcePriorities.athleteId, athleteId));
      return { changedPrimaries };
    });
  }

  /**
   * The job's side of setPriorities: re-elects the athlete's primaries under the current priority if
   * a re-election is still pending (a second job of the same change, or of a change since done
   * inline, finds nothing to do), and records how many changed. One transaction, under the lock.
   */
  async reelectPending(athleteId: string): Promise<{ changedPrimaries: number } | undefined> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, athleteId);
      const [row] = await tx
        .select({ userId: athletes.userId })
        .from(athleteSourcePriorities)
        .innerJoin(athletes, eq(athletes.id, athleteSourcePriorities.athleteId))
        .where(and(eq(athleteSourcePriorities.athleteId, athleteId), eq(athleteSourcePriorities.reelectionPending, true)));
      if (!row) return undefined;
      const { changedPrimaries } = await this.reelectAll(tx, row.userId, athleteId);
      await tx
        .update(athleteSourcePriorities)
        .set({ reelectionPending: false, changedPrimaries, reelectedAt: new Date() })
        .where(eq(athleteSourcePriorities.athleteId, athleteId));
      return { changedPrimaries };
    });
  }

  /** Athletes whose re-election is still pending (a job lost before it ran is sent again at boot). */
  async pendingReelections(): Promise<string[]> {
    const rows = await this.db
      .select({ athleteId: athleteSourcePriorities.athleteId })
      .from(athleteSourcePriorities)
      .where(eq(athleteSourcePriorities.reelectionPending, true));
    return rows.map((row) => row.athleteId);
  }

  /** The athlete's priority as GET source-priorities shows it, with the state of the last re-election. */
  async prioritiesView(athleteId: string): Promise<Required<SourcePriorities> & { reelection: Reelection | null }> {
    const [row] = await this.db.select().from(athleteSourcePriorities).where(eq(athleteSourcePriorities.athleteId, athleteId));
    if (!row) return { default: [...DEFAULT_SOURCE_PRIORITIES.default], byCategory: {}, reelection: null };
    return {
      default: row.priorities.default,
      byCategory: row.priorities.byCategory ?? {},
      reelection: { state: row.reelectionPending ? 'pending' : 'done', changedPrimaries: row.changedPrimaries, finishedAt: row.reelectedAt },
    };
  }

  /**
   * The athlete's duplicate groups, counted up to `upTo` (enough to choose inline or job): distinct
   * primaries named by its members, from the trailing duplicate_of of its timeline index.
   */
  private async countGroups(tx: Transaction, athleteId: string, upTo: number): Promise<number> {
    const [row] = await tx.execute<{ groups: number }>(
      sql`select count(*)::int as groups from (select distinct a.duplicate_of from ${activities} a
          where a.athlete_id = ${athleteId} and a.duplicate_of is not null limit ${upTo}) g`,
    ).then((result) => executedRows<{ groups: number }>(result));
    return Number(row?.groups ?? 0);
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

  /**
   * The other members of each of `primaries`, best first as election ranks them (groupOf's order):
   * one query for all their members with their richness, one for their athletes' priorities — a
   * fixed cost per timeline page, whatever its size (the list's merged items).
   */
  async rankedMembersOf(userId: string, primaries: readonly ActivitySummaryRow[]): Promise<Map<string, ActivitySummaryRow[]>> {
    const byPrimary = new Map<string, ActivitySummaryRow[]>();
    if (primaries.length === 0) return byPrimary;
    const athleteIds = [...new Set(primaries.map((row) => row.athleteId))];
    const [members, stored] = await Promise.all([
      this.db
        .select({
          ...summaryColumns,
          // Qualified by hand: Drizzle writes a single table's columns unqualified in the select list.
          streamTypes: sql<number>`(select count(*)::int from ${activityStreams} s where s.activity_id = "activities"."id")`,
          samples: sql<number>`(select coalesce(sum(s.sample_count), 0)::float8 from ${activityStreams} s where s.activity_id = "activities"."id")`,
        })
        .from(activities)
        .where(and(eq(activities.userId, userId), anyOf(activities.duplicateOf, primaries.map((row) => row.id)))),
      this.db
        .select({ athleteId: athleteSourcePriorities.athleteId, priorities: athleteSourcePriorities.priorities })
        .from(athleteSourcePriorities)
        .where(anyOf(athleteSourcePriorities.athleteId, athleteIds)),
    ]);
    const priorities = new Map(stored.map((row) => [row.athleteId, { default: row.priorities.default, byCategory: row.priorities.byCategory ?? {} }]));
    for (const primary of primaries) {
      const own = members.filter((member) => member.duplicateOf === primary.id).map((member) => ({ ...member, samples: Number(member.samples) }));
      if (own.length === 0) continue;
      // The primary takes part for the group's category; its own richness does not change the others' order.
      const ranked = rankMembers([{ ...primary, streamTypes: 0, samples: 0 }, ...own], priorities.get(primary.athleteId) ?? DEFAULT_SOURCE_PRIORITIES);
      byPrimary.set(
        primary.id,
        ranked.filter((member) => member.id !== primary.id).map(({ streamTypes: _t, samples: _s, ...row }) => row as ActivitySummaryRow),
      );
    }
    return byPrimary;
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

/** The union of `windows` as disjoint intervals in start order (adjacent or overlapping ones merged). */
export function unionOf(windows: readonly [number, number][]): [number, number][] {
  const union: [number, number][] = [];
  for (const [a, b] of [...windows].sort((x, y) => x[0] - y[0])) {
    const last = union.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else union.push([a, b]);
  }
  return union;
}

/** Whether [start − 10 min, start + 10 min] lies inside `union` (unionOf): one binary search. */
export function inUnion(union: readonly [number, number][], start: number): boolean {
  const from = start - MAX_START_DIFFERENCE_MS;
  let low = 0;
  let high = union.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [a, b] = union[middle]!;
    if (from < a) high = middle - 1;
    else if (from > b) low = middle + 1;
    else return b >= start + MAX_START_DIFFERENCE_MS;
  }
  return false;
}

/** Whether [start − 10 min, start + 10 min] lies inside the union of `windows` (its candidates were read). */
export function covered(windows: readonly [number, number][], start: number): boolean {
  return inUnion(unionOf(windows), start);
}

/** The statement of DuplicateGroups.neighbourhood (test/integration/timeline.spec.ts reads its plan). */
export function neighbourhoodSql(userId: string, athleteId: string, ids: readonly string[], starts: readonly Date[] = []): SQL {
  const window = sql`${READ_REACH_MS}::int * interval '1 millisecond'`;
  // Activities not stored yet (placeFresh) are seeds by their start time alone.
  const fresh =
    starts.length === 0
      ? sql``
      : sql` union all select null::uuid, null::uuid, f.start_time from unnest(${`{${starts.map((start) => start.toISOString()).join(',')}}`}::timestamptz[]) as f(start_time)`;
  // Each row of base carries its group's head (its duplicate_of, else itself) from the row it was read
  // in: the candidates' from the timeline index, which holds duplicate_of (re-reading them by id
  // was a third of the statement for a batch of copies).
  return sql`select a.* from unnest(array(
        with seed as (select s.id, coalesce(s.duplicate_of, s.id) as head, s.start_time from ${activities} s where s.athlete_id = ${athleteId} and s.id = any(${uuidArray(ids)}::uuid[])${fresh}),
        base as (
          select seed.id, seed.head from seed where seed.id is not null
          union
          select c.id, c.head from seed cross join lateral (
            select w.id, coalesce(w.duplicate_of, w.id) as head from ${activities} w
            where w.athlete_id = ${athleteId} and w.start_time between seed.start_time - ${window} and seed.start_time + ${window}
            offset 0
          ) c
        ),
        heads as (select distinct base.head as id from base)
        select base.id from base
        union select heads.id from heads
        union select m.id from ${activities} m where m.duplicate_of = any(array(select heads.id from heads)) and m.duplicate_of is not null
      )) as n(id)
      cross join lateral (
        select r.id, r.source, r.external_id as "externalId", r.parent_id as "parentId", r.activity_type as "activityType",
               r.start_time as "startTime", r.end_time as "endTime", r.distance_m as "distanceM", r.avg_heart_rate_bpm as "avgHeartRateBpm",
               r.duplicate_of as "duplicateOf", r.created_at as "createdAt",
               case when exists (select 1 from ${activityDuplicateOverrides} x where x.athlete_id = ${athleteId}) then
                 (select json_agg(json_build_array(o.activity_id, o.other_id, o.kind))
                    from ${activityDuplicateOverrides} o where o.activity_id = r.id or o.other_id = r.id) end as overrides
          from ${activities} r
         where r.id = n.id and r.athlete_id = ${athleteId} and r.user_id = ${userId}
         limit 1
      ) a`;
}

