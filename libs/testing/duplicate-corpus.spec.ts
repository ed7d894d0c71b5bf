import { describe, expect, it } from '@jest/globals';
import { ActivityCreateSchema } from '@unified-activity/contract';
import { activityTypeBySlug } from '../seed-data/activity-types.js';
import { MAPPERS } from '../../src/modules/sync/mappers/index.js';
import { corpusCounts, duplicateCorpus, type CorpusItem, type Workout } from './duplicate-corpus.js';
import { scorePairs, type ScoredMember } from './duplicate-scores.js';

const corpus = duplicateCorpus();
const workoutById = new Map(corpus.workouts.map((w) => [w.id, w]));
const categoryOf = (slug: string) => activityTypeBySlug.get(slug)!.category;

/** What the API would store for an item: the project's own mapper for sync items, the body for creates. */
function stored(item: CorpusItem) {
  if (item.delivery.kind === 'create') {
    const body = ActivityCreateSchema.parse({ athleteId: '00000000-0000-4000-8000-000000000000', ...item.delivery.body });
    return { activityType: body.activityType, startTime: body.startTime, endTime: body.endTime, distanceM: body.distanceM ?? null, avgHeartRateBpm: body.avgHeartRateBpm ?? null };
  }
  const mapper = MAPPERS[item.delivery.source];
  const mapped = mapper.map(mapper.schema.parse(item.delivery.payload) as never);
  return { activityType: mapped.activityType, startTime: mapped.startTime, endTime: mapped.endTime, distanceM: mapped.distanceM, avgHeartRateBpm: mapped.avgHeartRateBpm, externalId: mapped.externalId };
}

const storedItems = corpus.items.map((item) => ({ item, workout: workoutById.get(item.workoutId)!, stored: stored(item) }));
const ofCopy = (copy: CorpusItem['copy']) => storedItems.filter((s) => s.item.copy === copy);
const ofTag = (tag: Workout['tag']) => corpus.workouts.filter((w) => w.tag === tag);

describe('duplicateCorpus', () => {
  it('is three years of one athlete: hundreds of workouts, each arriving as two to five copies on average', () => {
    const counts = corpusCounts(corpus);
    expect(counts.workouts).toBeGreaterThan(700);
    expect(counts.workouts).toBeLessThan(1100);
    expect(counts.items / counts.workouts).toBeGreaterThan(2);
    expect(counts.items / counts.workouts).toBeLessThan(5);
    const atLeast = { garmin: 800, strava: 800, fit_file: 150, healthkit: 150, health_connect: 150, manual: 20, gpx_file: 10, strava_reupload: 10 };
    for (const [copy, least] of Object.entries(atLeast)) expect(counts.byCopy[copy]).toBeGreaterThanOrEqual(least);
    const span = Math.max(...corpus.workouts.map((w) => w.startMs)) - Math.min(...corpus.workouts.map((w) => w.startMs));
    expect(span / (365 * 86_400_000)).toBeGreaterThan(2.9);
  });

  it('is deterministic: the same seed gives the same items byte for byte, another seed another corpus', () => {
    expect(JSON.stringify(duplicateCorpus())).toBe(JSON.stringify(corpus));
    expect(JSON.stringify(duplicateCorpus({ seed: 26 }).items.slice(0, 20))).not.toBe(JSON.stringify(corpus.items.slice(0, 20)));
  });

  it('sends payloads the API accepts, with ids unique per source, in arrival order', () => {
    const keys = new Set(corpus.items.map((i) => `${i.source}/${i.externalId}`));
    expect(keys.size).toBe(corpus.items.length);
    for (const { item, stored: s } of storedItems) {
      if ('externalId' in s) expect(s.externalId).toBe(item.externalId);
    }
    expect(corpus.items.every((item, i) => i === 0 || corpus.items[i - 1]!.arrivesAtMs <= item.arrivesAtMs)).toBe(true);
    expect(corpus.items.every((item) => workoutById.has(item.workoutId))).toBe(true);
  });

  it('maps every copy to the category of its workout (Strava VirtualRide and trainer rides included)', () => {
    const wrong = storedItems.filter(({ workout, stored: s }) => categoryOf(s.activityType) !== categoryOf(workout.activityType));
    expect(wrong.map(({ item, stored: s }) => `${item.copy} ${item.workoutId} ${s.activityType}`)).toEqual([]);
    const virtual = ofCopy('strava').filter(({ item }) => item.delivery.kind === 'sync' && item.delivery.payload.sport_type === 'VirtualRide');
    expect(virtual.length).toBeGreaterThan(5);
    expect(virtual.every(({ stored: s }) => s.activityType === 'virtual_cycling')).toBe(true);
  });

  it('gives the copies the differences of real sources', () => {
    const zwift = (item: CorpusItem) => item.delivery.kind === 'sync' && item.delivery.payload.sport_type === 'VirtualRide';
    for (const { item, workout, stored: s } of ofCopy('strava')) {
      const [startS, distance] = zwift(item) ? [90, 0.1501] : [0, 0.0101];
      expect(Math.abs(s.startTime.getTime() - workout.startMs)).toBeLessThanOrEqual(startS * 1000);
      if (workout.distanceM) expect(Math.abs(s.distanceM! / workout.distanceM - 1)).toBeLessThanOrEqual(distance);
    }
    // Zwift's distance differs by more than 10 % from the bike computer's on some rides: real copies a distance veto would split.
    expect(ofCopy('strava').filter(({ item, workout, stored: s }) => zwift(item) && Math.abs(s.distanceM! / workout.distanceM! - 1) > 0.1).length).toBeGreaterThan(3);
    const watch = ofCopy('healthkit').filter(({ workout }) => workout.recordedBy !== 'apple_watch');
    expect(watch.length).toBeGreaterThan(100);
    for (const { workout, stored: s } of watch) {
      expect(Math.abs(s.startTime.getTime() - workout.startMs)).toBeLessThanOrEqual(40_000);
      const ratio = (s.endTime.getTime() - s.startTime.getTime()) / 1000 / workout.durationS;
      expect(ratio).toBeGreaterThan(0.935);
      expect(ratio).toBeLessThan(0.965);
      expect(Math.abs(s.avgHeartRateBpm! - workout.avgHeartRateBpm!)).toBeLessThanOrEqual(3);
    }
    for (const { workout, stored: s } of ofCopy('health_connect').filter(({ workout }) => workout.recordedBy !== 'phone')) {
      expect([s.startTime.getTime(), s.endTime.getTime()]).toEqual([workout.startMs, workout.startMs + workout.durationS * 1000]);
      expect(s.avgHeartRateBpm).toBeNull();
    }
  });

  it('holds the hard negatives: warm-up and race 12 minutes apart, a 20 % overlap, a phone walk during a ride, brick legs', () => {
    const warmups = ofTag('warmup');
    expect(warmups.length).toBe(12);
    for (const warmup of warmups) {
      const race = ofTag('race').find((r) => r.startMs - warmup.startMs === 12 * 60_000);
      expect(race).toBeDefined();
    }
    const rides = ofTag('commute_ride');
    expect(rides.length).toBe(12);
    for (const ride of rides) {
      const run = ofTag('overlapping_run').find((r) => r.startMs > ride.startMs && r.startMs < ride.startMs + ride.durationS * 1000)!;
      const overlapS = (ride.startMs + ride.durationS * 1000 - run.startMs) / 1000;
      expect(overlapS / Math.min(ride.durationS, run.durationS)).toBeCloseTo(0.2, 5);
      expect(corpus.items.filter((i) => i.workoutId === run.id).map((i) => i.copy).sort()).toEqual(['healthkit', 'strava']);
    }
    const walks = ofTag('phone_walk');
    expect(walks.length).toBe(12);
    for (const walk of walks) {
      const ride = ofTag('watch_ride').find((r) => Math.abs(r.startMs - walk.startMs) <= 3 * 60_000)!;
      expect(categoryOf(ride.activityType)).not.toBe(categoryOf(walk.activityType));
      expect(corpus.items.filter((i) => i.workoutId === walk.id).map((i) => i.copy)).toEqual(['health_connect']);
    }
    const bricks = ofTag('brick');
    expect(bricks.length).toBe(12);
    for (const session of bricks) {
      const legs = corpus.workouts.filter((w) => w.parentId === session.id);
      expect(legs.map((l) => l.activityType)).toEqual(['road_cycling', 'running']);
      const parentItem = corpus.items.find((i) => i.workoutId === session.id)!;
      for (const leg of legs) {
        const garmin = corpus.items.find((i) => i.workoutId === leg.id && i.copy === 'garmin')!;
        expect(garmin.delivery.kind === 'sync' && garmin.delivery.payload.parentSummaryId).toBe(parentItem.externalId);
        expect(garmin.arrivesAtMs).toBe(parentItem.arrivesAtMs);
        expect(corpus.items.filter((i) => i.workoutId === leg.id && i.copy === 'strava')).toHaveLength(1);
      }
    }
  });
});

describe('scorePairs', () => {
  const m = (activityId: string, workoutId: string, groupKey: string): ScoredMember => ({ activityId, workoutId, groupKey });

  it('counts pairs: a perfect grouping scores 1 and 1', () => {
    const scores = scorePairs([m('a', 'w1', 'g1'), m('b', 'w1', 'g1'), m('c', 'w1', 'g1'), m('d', 'w2', 'g2')]);
    expect(scores).toMatchObject({ truePairs: 3, predictedPairs: 3, correctPairs: 3, precision: 1, recall: 1, falsePositives: [], falseNegatives: [] });
  });

  it('names the pairs wrongly grouped and the pairs missed', () => {
    // w1 = {a, b, c} split as {a, b} + {c}; d (w2) wrongly joined to c.
    const scores = scorePairs([m('a', 'w1', 'g1'), m('b', 'w1', 'g1'), m('c', 'w1', 'g2'), m('d', 'w2', 'g2')]);
    expect(scores).toMatchObject({ truePairs: 3, predictedPairs: 2, correctPairs: 1, precision: 0.5, recall: 1 / 3 });
    expect(scores.falsePositives.map(([x, y]) => x.activityId + y.activityId)).toEqual(['cd']);
    expect(scores.falseNegatives.map(([x, y]) => x.activityId + y.activityId)).toEqual(['ac', 'bc']);
  });

  it('scores recall 0 and vacuous precision 1 when nothing is grouped', () => {
    const scores = scorePairs([m('a', 'w1', 'a'), m('b', 'w1', 'b'), m('c', 'w2', 'c')]);
    expect(scores).toMatchObject({ truePairs: 1, predictedPairs: 0, precision: 1, recall: 0 });
  });
});
