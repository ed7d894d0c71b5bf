/**
 * Which member of a duplicate group is its primary (docs/data-model.md, "Duplicates across
 * sources"). Pure, like detection: the athlete's source priority, then the richer record, then the
 * earliest created.
 */
import { DEFAULT_SOURCE_PRIORITY, type ActivitySource, type SourcePriorities } from '@unified-activity/contract';
import { activityTypes } from '../../../../libs/seed-data/activity-types.js';
import { WILDCARD_ACTIVITY_TYPE } from './duplicate-detection.js';

const categoryOf = new Map(activityTypes.map((type) => [type.slug, type.category as string]));

export const DEFAULT_SOURCE_PRIORITIES: SourcePriorities = { default: [...DEFAULT_SOURCE_PRIORITY], byCategory: {} };

/** What election reads of a member. */
export interface ElectionMember {
  id: string;
  source: string;
  activityType: string;
  createdAt: Date;
  /** Distinct stream types stored for it. */
  streamTypes: number;
  /** Samples over all its streams. */
  samples: number;
  /** Its session, when it is a leg of one (a brick's run leg grouped with its Strava copy). */
  parentId?: string | null;
}

/**
 * The group's category: that of its first member (by creation) whose type says one — `other` says
 * nothing. Chooses between `byCategory` and `default`.
 */
export function groupCategory(members: readonly Pick<ElectionMember, 'activityType' | 'createdAt'>[]): string | undefined {
  const typed = [...members].filter((member) => member.activityType !== WILDCARD_ACTIVITY_TYPE).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return typed.length > 0 ? categoryOf.get(typed[0]!.activityType) : undefined;
}

/** A source's rank for a category: its place in the list, then (left out) its place in the default list after it. */
export function sourceRank(priorities: SourcePriorities, category: string | undefined, source: string): number {
  const list: readonly ActivitySource[] = (category && priorities.byCategory?.[category as keyof NonNullable<SourcePriorities['byCategory']>]) || priorities.default;
  const listed = list.indexOf(source as ActivitySource);
  if (listed >= 0) return listed;
  const fallback = [...priorities.default.filter((s) => !list.includes(s)), ...DEFAULT_SOURCE_PRIORITY.filter((s) => !list.includes(s) && !priorities.default.includes(s))];
  const rest = fallback.indexOf(source as ActivitySource);
  return list.length + (rest >= 0 ? rest : fallback.length);
}

/**
 * The members best first: a session's leg before top-level copies (its session already counts it,
 * so a top-level copy as primary would count the workout twice in the list and its totals), then
 * priority, more stream types, more samples, earliest createdAt, then id (a total order).
 */
export function rankMembers<T extends ElectionMember>(members: readonly T[], priorities: SourcePriorities): T[] {
  const category = groupCategory(members);
  const leg = (member: ElectionMember) => (member.parentId ? 0 : 1);
  return [...members].sort(
    (a, b) =>
      leg(a) - leg(b) ||
      sourceRank(priorities, category, a.source) - sourceRank(priorities, category, b.source) ||
      b.streamTypes - a.streamTypes ||
      b.samples - a.samples ||
      a.createdAt.getTime() - b.createdAt.getTime() ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Whether more than one member shares the best leg-and-source rank: only then do richness and the rest decide. */
export function tiesOnPriority(members: readonly ElectionMember[], priorities: SourcePriorities): boolean {
  const category = groupCategory(members);
  const ranks = members.map((member) => (member.parentId ? 0 : 1000) + sourceRank(priorities, category, member.source));
  const best = Math.min(...ranks);
  return ranks.filter((rank) => rank === best).length > 1;
}

/** The primary: the pinned member if the athlete chose one (POST …/primary), else the best ranked. */
export function electPrimary(members: readonly ElectionMember[], priorities: SourcePriorities, pinned?: string): string {
  if (pinned && members.some((member) => member.id === pinned)) return pinned;
  return rankMembers(members, priorities)[0]!.id;
}
