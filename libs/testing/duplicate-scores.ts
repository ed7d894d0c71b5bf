/**
 * Pairwise precision and recall of duplicate groups against the ground truth (issue 25): every
 * unordered pair of stored activities is either "same workout" (truth) and/or "same group"
 * (predicted). Precision = pairs right among the pairs grouped; recall = pairs grouped among the
 * pairs that should be. Counted from the group sizes, so it costs nothing on big corpora; the
 * wrong pairs themselves are listed from the (small) groups.
 */

export interface ScoredMember {
  activityId: string;
  /** The real-world workout this activity records. */
  workoutId: string;
  /** Any value shared by exactly the members of one predicted group (e.g. the primary's id). */
  groupKey: string;
}

export interface PairScores {
  /** Pairs of the same workout. */
  truePairs: number;
  /** Pairs in the same group. */
  predictedPairs: number;
  /** Pairs both. */
  correctPairs: number;
  /** correctPairs / predictedPairs; 1 when nothing is grouped (no pair is wrong). */
  precision: number;
  /** correctPairs / truePairs; 1 when there is nothing to group. */
  recall: number;
  /** Grouped but different workouts. */
  falsePositives: [ScoredMember, ScoredMember][];
  /** Same workout but not grouped. */
  falseNegatives: [ScoredMember, ScoredMember][];
}

const pairs = (n: number) => (n * (n - 1)) / 2;

function bucket<K>(members: ScoredMember[], key: (m: ScoredMember) => K) {
  const out = new Map<K, ScoredMember[]>();
  for (const member of members) {
    const list = out.get(key(member));
    if (list) list.push(member);
    else out.set(key(member), [member]);
  }
  return out;
}

/** Every pair of `list` for which `differ` holds. */
function pairsWhere(list: ScoredMember[], differ: (a: ScoredMember, b: ScoredMember) => boolean) {
  const out: [ScoredMember, ScoredMember][] = [];
  for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) if (differ(list[i]!, list[j]!)) out.push([list[i]!, list[j]!]);
  return out;
}

export function scorePairs(members: ScoredMember[]): PairScores {
  const byWorkout = bucket(members, (m) => m.workoutId);
  const byGroup = bucket(members, (m) => m.groupKey);
  const byBoth = bucket(members, (m) => `${m.workoutId}\u0000${m.groupKey}`);
  const sum = (map: Map<unknown, ScoredMember[]>) => [...map.values()].reduce((total, list) => total + pairs(list.length), 0);
  const truePairs = sum(byWorkout);
  const predictedPairs = sum(byGroup);
  const correctPairs = sum(byBoth);
  return {
    truePairs,
    predictedPairs,
    correctPairs,
    precision: predictedPairs === 0 ? 1 : correctPairs / predictedPairs,
    recall: truePairs === 0 ? 1 : correctPairs / truePairs,
    falsePositives: [...byGroup.values()].flatMap((list) => pairsWhere(list, (a, b) => a.workoutId !== b.workoutId)),
    falseNegatives: [...byWorkout.values()].flatMap((list) => pairsWhere(list, (a, b) => a.groupKey !== b.groupKey)),
  };
}
