/**
 * Whether two activities of one athlete are the same real-world workout (docs/data-model.md,
 * "Duplicates across sources"). Pure: no database, no clock, so every threshold has a unit test
 * (duplicate-detection.spec.ts) and the corpus bench (bench:dedup) can call it directly.
 */
import { activityTypes } from '../../../../libs/seed-data/activity-types.js';

/** Time overlap, as a share of the shorter activity, at or above which two activities can match. */
export const MIN_OVERLAP_OF_SHORTER = 0.7;
/** Start times further apart than this never match (it also bounds the candidate query). */
export const MAX_START_DIFFERENCE_MS = 10 * 60 * 1000;
/** Where both have a distance: the larger may exceed the smaller by at most this share of the larger. */
export const MAX_DISTANCE_DIFFERENCE = 0.1;
/** Where both have an average heart rate: at most this many bpm apart. */
export const MAX_AVG_HEART_RATE_DIFFERENCE_BPM = 8;

/**
 * Types whose distance is not measured over the ground but estimated — a trainer's speed sensor or
 * power curve, a virtual world's route (Zwift), a treadmill run or an erg estimated from the wrist
 * or the machine — so two sources of one indoor workout disagree by 10–15 % (bench:dedup's corpus:
 * Zwift's `VirtualRide` against the bike computer, a treadmill run from the Garmin and the Apple
 * Watch). When either side is one of these, the distance vetoes nothing; start, overlap, type and
 * heart rate still decide. Pool swims are not here: their distance is counted in lengths.
 */
export const ESTIMATED_DISTANCE_TYPES: ReadonlySet<string> = new Set([
  'indoor_cycling',
  'virtual_cycling',
  'treadmill_running',
  'virtual_running',
  'treadmill_walking',
  'elliptical',
  'indoor_rowing',
]);

/**
 * Types of different catalog categories that one workout is recorded as by different sources, as
 * groups of slugs: any two slugs of one group are compatible. Types of one category always are, and
 * `other` is compatible with everything. (Categories already group indoor_cycling, road_cycling and
 * cycling; trail_running and running; open_water_swimming and swimming.)
 */
export const COMPATIBLE_ACTIVITY_TYPES: readonly (readonly string[])[] = [
  // A rowing machine session: `indoor_rowing` (cardio_fitness) at one source, `rowing` at another.
  ['indoor_rowing', 'rowing'],
  // Hand cycles are logged as rides by some sources (adaptive vs cycling).
  ['handcycling', 'cycling', 'road_cycling'],
  // Wheelchair pushes are logged as walks or runs.
  ['wheelchair_walk_pace', 'walking'],
  ['wheelchair_run_pace', 'running'],
  // A step machine (cardio_fitness) recorded as stair climbing or a hike elsewhere.
  ['stair_stepper', 'stair_climbing'],
  // A generic cardio/HIIT workout and a cross-training one.
  ['hiit', 'cardio_training', 'functional_training', 'crossfit'],
];

/** The type that matches anything (a source that could not say what the workout was). */
export const WILDCARD_ACTIVITY_TYPE = 'other';

const categoryOf = new Map(activityTypes.map((type) => [type.slug, type.category]));

export function typesCompatible(a: string, b: string): boolean {
  if (a === b || a === WILDCARD_ACTIVITY_TYPE || b === WILDCARD_ACTIVITY_TYPE) return true;
  const categoryA = categoryOf.get(a);
  if (categoryA !== undefined && categoryA === categoryOf.get(b)) return true;
  return COMPATIBLE_ACTIVITY_TYPES.some((group) => group.includes(a) && group.includes(b));
}

/** What detection reads of an activity: the promoted fields it compares, and identity. */
export interface DuplicateCandidate {
  id: string;
  source: string;
  externalId: string | null;
  parentId: string | null;
  activityType: string;
  startTime: Date;
  endTime: Date;
  distanceM: number | null;
  avgHeartRateBpm: number | null;
}

/** intersection / shorter duration; two zero-length activities at the same instant overlap fully. */
export function overlapOfShorter(a: DuplicateCandidate, b: DuplicateCandidate): number {
  const start = Math.max(a.startTime.getTime(), b.startTime.getTime());
  const end = Math.min(a.endTime.getTime(), b.endTime.getTime());
  const shorter = Math.min(a.endTime.getTime() - a.startTime.getTime(), b.endTime.getTime() - b.startTime.getTime());
  if (shorter <= 0) return start <= end ? 1 : 0;
  return Math.max(0, end - start) / shorter;
}

export function distancesAgree(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return true;
  const larger = Math.max(a, b);
  if (larger === 0) return true;
  return (larger - Math.min(a, b)) / larger <= MAX_DISTANCE_DIFFERENCE;
}

export function heartRatesAgree(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return true;
  return Math.abs(a - b) <= MAX_AVG_HEART_RATE_DIFFERENCE_BPM;
}

/** Whether the distance is an estimate on either side (ESTIMATED_DISTANCE_TYPES): then it vetoes nothing. */
export function distanceEstimated(a: Pick<DuplicateCandidate, 'activityType'>, b: Pick<DuplicateCandidate, 'activityType'>): boolean {
  return ESTIMATED_DISTANCE_TYPES.has(a.activityType) || ESTIMATED_DISTANCE_TYPES.has(b.activityType);
}

/**
 * The session an activity belongs to: its parent's id for a leg, its own id otherwise. Two
 * activities of one session (a session and its leg, two legs) are parts of one workout, never
 * copies of each other, and never end in one group.
 */
export function sessionOf(node: Pick<DuplicateCandidate, 'id' | 'parentId'>): string {
  return node.parentId ?? node.id;
}

/**
 * The rule, in order: never an activity with itself, never one source + external id (that is an
 * update, not a copy), never two parts of one session (a session and its own leg, or two of its
 * legs: a leg may match a copy outside its session, e.g. the Strava `Run` of a brick's run leg),
 * then start within 10 minutes, overlap ≥ 0.7 of the shorter, compatible types, and no
 * contradiction in distance (unless either distance is an estimate) or average heart rate.
 */
export function isDuplicate(a: DuplicateCandidate, b: DuplicateCandidate): boolean {
  if (a.id === b.id) return false;
  if (a.externalId !== null && a.source === b.source && a.externalId === b.externalId) return false;
  if (sessionOf(a) === sessionOf(b)) return false;
  if (Math.abs(a.startTime.getTime() - b.startTime.getTime()) > MAX_START_DIFFERENCE_MS) return false;
  if (overlapOfShorter(a, b) < MIN_OVERLAP_OF_SHORTER) return false;
  if (!typesCompatible(a.activityType, b.activityType)) return false;
  return (distanceEstimated(a, b) || distancesAgree(a.distanceM, b.distanceM)) && heartRatesAgree(a.avgHeartRateBpm, b.avgHeartRateBpm);
}

/**
 * Connected components of the "same workout" graph over `nodes`: detected pairs minus the pairs an
 * athlete split (`separate`), plus the pairs joined by hand (`same`). Components of one node are
 * left out. Sorting by start time first lets each node be compared only with the nodes that start
 * within MAX_START_DIFFERENCE_MS after it. A link that would put two parts of one session in one
 * component (through a third activity that matches both, e.g. a wildcard `other` copy of the whole
 * session) is not made: the earlier link (in start order) wins.
 */
export function duplicateComponents(
  nodes: readonly DuplicateCandidate[],
  overrides: { separate: ReadonlySet<string>; same: readonly [string, string][] },
): string[][] {
  const parent = new Map(nodes.map((node) => [node.id, node.id]));
  // The sessions each component's members belong to, kept on its root.
  const sessions = new Map(nodes.map((node) => [node.id, new Set([sessionOf(node)])]));
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root)!;
    while (parent.get(id) !== root) {
      const next = parent.get(id)!;
      parent.set(id, root);
      id = next;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    if (!parent.has(a) || !parent.has(b)) return;
    const rootA = find(a);
    const rootB = find(b);
    if (rootA === rootB) return;
    const sessionsA = sessions.get(rootA)!;
    const sessionsB = sessions.get(rootB)!;
    for (const session of sessionsA) if (sessionsB.has(session)) return;
    for (const session of sessionsA) sessionsB.add(session);
    parent.set(rootA, rootB);
  };
  const sorted = [...nodes].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      if (sorted[j]!.startTime.getTime() - sorted[i]!.startTime.getTime() > MAX_START_DIFFERENCE_MS) break;
      if (overrides.separate.has(pairKey(sorted[i]!.id, sorted[j]!.id))) continue;
      if (isDuplicate(sorted[i]!, sorted[j]!)) union(sorted[i]!.id, sorted[j]!.id);
    }
  }
  for (const [a, b] of overrides.same) union(a, b);
  const components = new Map<string, string[]>();
  for (const node of nodes) {
    const root = find(node.id);
    const members = components.get(root);
    if (members) members.push(node.id);
    else components.set(root, [node.id]);
  }
  return [...components.values()].filter((members) => members.length > 1);
}

/** The key of an unordered pair, as overrides store it (smaller id first). */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}
