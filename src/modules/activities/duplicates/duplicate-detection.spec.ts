import { describe, expect, it } from '@jest/globals';
import {
  duplicateComponents,
  ESTIMATED_DISTANCE_TYPES,
  isDuplicate,
  MAX_AVG_HEART_RATE_DIFFERENCE_BPM,
  MAX_DISTANCE_DIFFERENCE,
  MAX_START_DIFFERENCE_MS,
  MIN_OVERLAP_OF_SHORTER,
  overlapOfShorter,
  pairKey,
  typesCompatible,
  type DuplicateCandidate,
} from './duplicate-detection.js';
import { covered, inUnion, unionOf } from './duplicate-groups.js';
import { DEFAULT_SOURCE_PRIORITIES, electPrimary, sourceRank, tiesOnPriority, type ElectionMember } from './primary-election.js';

const T0 = Date.parse('2026-05-01T06:00:00Z');
const MIN = 60_000;
let next = 0;
/** A one-hour ride of 30 km at 140 bpm from Garmin, changed by `overrides`. */
function activity(overrides: Partial<DuplicateCandidate> & { startMin?: number; minutes?: number } = {}): DuplicateCandidate {
  const { startMin = 0, minutes = 60, ...rest } = overrides;
  return {
    id: `a${next++}`,
    source: 'garmin',
    externalId: null,
    parentId: null,
    activityType: 'road_cycling',
    startTime: new Date(T0 + startMin * MIN),
    endTime: new Date(T0 + (startMin + minutes) * MIN),
    distanceM: 30_000,
    avgHeartRateBpm: 140,
    ...rest,
  };
}

describe('duplicate detection thresholds', () => {
  it(`overlap: ${MIN_OVERLAP_OF_SHORTER} of the shorter matches, just below does not`, () => {
    expect(MIN_OVERLAP_OF_SHORTER).toBe(0.7);
    const base = activity({ minutes: 100 });
    // 100 min vs 100 min starting 30 min later: overlap 70 of 100.
    expect(overlapOfShorter(base, activity({ startMin: 30, minutes: 100 }))).toBeCloseTo(0.7);
    // Start difference is also bounded: test the overlap alone with starts within 10 minutes.
    const shortAtStart = activity({ minutes: 10 });
    const lateShort = activity({ startMin: 3, minutes: 10 });
    expect(overlapOfShorter(shortAtStart, lateShort)).toBeCloseTo(0.7);
    expect(isDuplicate(shortAtStart, lateShort)).toBe(true);
    const tooLate = activity({ startMin: 3.1, minutes: 10 });
    expect(isDuplicate(shortAtStart, tooLate)).toBe(false);
  });

  it('overlap is of the shorter: a 30-minute Apple Watch run inside a 60-minute Garmin run matches', () => {
    expect(isDuplicate(activity({ activityType: 'running' }), activity({ activityType: 'running', startMin: 1, minutes: 30, distanceM: null, source: 'healthkit' }))).toBe(true);
  });

  it(`start: within ${MAX_START_DIFFERENCE_MS / MIN} minutes matches, later does not, whatever the overlap`, () => {
    expect(MAX_START_DIFFERENCE_MS).toBe(10 * MIN);
    const long = activity({ minutes: 300 });
    expect(isDuplicate(long, activity({ startMin: 10, minutes: 290 }))).toBe(true);
    expect(isDuplicate(long, activity({ startMin: 10.5, minutes: 289.5 }))).toBe(false);
  });

  it(`distance: ${MAX_DISTANCE_DIFFERENCE * 100} % of the larger matches, more vetoes, a missing one never does`, () => {
    expect(MAX_DISTANCE_DIFFERENCE).toBe(0.1);
    const base = activity({ distanceM: 10_000 });
    expect(isDuplicate(base, activity({ distanceM: 9_000 }))).toBe(true);
    expect(isDuplicate(base, activity({ distanceM: 8_900 }))).toBe(false);
    expect(isDuplicate(base, activity({ distanceM: null }))).toBe(true);
  });

  it('distance: an estimated distance (indoor, virtual) on either side vetoes nothing; a measured one still does', () => {
    expect([...ESTIMATED_DISTANCE_TYPES].sort()).toEqual(['elliptical', 'indoor_cycling', 'indoor_rowing', 'treadmill_running', 'treadmill_walking', 'virtual_cycling', 'virtual_running']);
    // Zwift's virtual world 15 % longer than the trainer's speed sensor.
    const trainer = activity({ activityType: 'indoor_cycling', distanceM: 30_000 });
    expect(isDuplicate(trainer, activity({ source: 'strava', activityType: 'virtual_cycling', distanceM: 34_500 }))).toBe(true);
    expect(isDuplicate(activity({ distanceM: 30_000 }), activity({ source: 'strava', activityType: 'virtual_cycling', distanceM: 34_500 }))).toBe(true);
    // A treadmill run the Garmin and the Apple Watch each estimate from the wrist, 12 % apart.
    expect(isDuplicate(activity({ activityType: 'treadmill_running', distanceM: 10_000 }), activity({ source: 'healthkit', activityType: 'treadmill_running', distanceM: 8_800 }))).toBe(true);
    // Outdoors, and in a pool (lengths are counted), the distance is measured: 12 % apart vetoes.
    expect(isDuplicate(activity({ activityType: 'running', distanceM: 10_000 }), activity({ source: 'healthkit', activityType: 'running', distanceM: 8_800 }))).toBe(false);
    expect(isDuplicate(activity({ activityType: 'pool_swimming', distanceM: 2_000 }), activity({ source: 'strava', activityType: 'pool_swimming', distanceM: 1_750 }))).toBe(false);
    // The heart rate still vetoes indoors.
    expect(isDuplicate(trainer, activity({ activityType: 'indoor_cycling', avgHeartRateBpm: 160 }))).toBe(false);
  });

  it(`average heart rate: ${MAX_AVG_HEART_RATE_DIFFERENCE_BPM} bpm apart matches, more vetoes, a missing one never does`, () => {
    expect(MAX_AVG_HEART_RATE_DIFFERENCE_BPM).toBe(8);
    const base = activity({ avgHeartRateBpm: 140 });
    expect(isDuplicate(base, activity({ avgHeartRateBpm: 148 }))).toBe(true);
    expect(isDuplicate(base, activity({ avgHeartRateBpm: 148.5 }))).toBe(false);
    expect(isDuplicate(base, activity({ avgHeartRateBpm: null }))).toBe(true);
  });

  it('types: same category, the compatibility list and `other` match; different categories do not', () => {
    expect(typesCompatible('indoor_cycling', 'road_cycling')).toBe(true);
    expect(typesCompatible('cycling', 'virtual_cycling')).toBe(true);
    expect(typesCompatible('trail_running', 'running')).toBe(true);
    expect(typesCompatible('open_water_swimming', 'swimming')).toBe(true);
    expect(typesCompatible('indoor_rowing', 'rowing')).toBe(true);
    expect(typesCompatible('other', 'yoga')).toBe(true);
    expect(typesCompatible('walking', 'road_cycling')).toBe(false);
    expect(typesCompatible('running', 'road_cycling')).toBe(false);
    expect(isDuplicate(activity({ activityType: 'walking' }), activity({ distanceM: null }))).toBe(false);
  });

  it('never two parts of one session, never one source and external id, never itself', () => {
    const session = activity({ activityType: 'triathlon', distanceM: null });
    expect(isDuplicate(session, activity({ activityType: 'other', parentId: session.id }))).toBe(false);
    expect(isDuplicate(activity({ activityType: 'other', parentId: session.id }), activity({ activityType: 'other', parentId: session.id }))).toBe(false);
    const synced = activity({ source: 'strava', externalId: '42' });
    expect(isDuplicate(synced, { ...activity({ source: 'strava', externalId: '42' }) })).toBe(false);
    expect(isDuplicate(synced, activity({ source: 'strava', externalId: '43' }))).toBe(true);
    expect(isDuplicate(synced, synced)).toBe(false);
  });

  it('components: a FIT, its Strava copy and the HealthKit copy form one group; a race 12 minutes after a warm-up is its own', () => {
    const fit = activity({ source: 'file', activityType: 'running', minutes: 15, distanceM: 3000 });
    const strava = activity({ source: 'strava', activityType: 'running', minutes: 15, distanceM: 3020, externalId: 's1' });
    const watch = activity({ source: 'healthkit', activityType: 'running', startMin: 0.5, minutes: 14, distanceM: null });
    const race = activity({ source: 'file', activityType: 'running', startMin: 27, minutes: 40, distanceM: 10_000 });
    const groups = duplicateComponents([race, watch, strava, fit], { separate: new Set(), same: [] });
    expect(groups.map((g) => [...g].sort())).toEqual([[fit.id, strava.id, watch.id].sort()]);
  });

  it('a leg matches a copy outside its session: a brick run leg and its Strava Run', () => {
    const brick = activity({ activityType: 'multisport', minutes: 90, distanceM: null });
    const bike = activity({ parentId: brick.id, minutes: 60 });
    const run = activity({ parentId: brick.id, activityType: 'running', startMin: 62, minutes: 28, distanceM: 6_000, avgHeartRateBpm: 150 });
    const stravaRide = activity({ source: 'strava', externalId: 'r', minutes: 60, distanceM: 30_100 });
    const stravaRun = activity({ source: 'strava', externalId: 'n', activityType: 'running', startMin: 62, minutes: 28, distanceM: 6_050, avgHeartRateBpm: 151 });
    const groups = duplicateComponents([brick, bike, run, stravaRide, stravaRun], { separate: new Set(), same: [] });
    expect(groups.map((g) => [...g].sort())).toEqual([[bike.id, stravaRide.id].sort(), [run.id, stravaRun.id].sort()]);
  });

  it('components: a copy matching a session and its own leg joins one of them, never both (no group holds two parts of a session)', () => {
    const session = activity({ activityType: 'multisport', minutes: 90, distanceM: null, avgHeartRateBpm: null });
    const leg = activity({ parentId: session.id, minutes: 80, distanceM: null });
    // A copy of the whole session typed `other` (compatible with anything), starting with both.
    const wildcard = activity({ source: 'strava', externalId: 'w', activityType: 'other', minutes: 90, distanceM: null });
    const groups = duplicateComponents([session, leg, wildcard], { separate: new Set(), same: [] });
    expect(groups).toHaveLength(1);
    expect(groups[0]).toContain(wildcard.id);
    expect(groups[0]!.filter((id) => id === session.id || id === leg.id)).toHaveLength(1);
    // Nor by hand.
    expect(duplicateComponents([session, leg], { separate: new Set(), same: [[session.id, leg.id]] })).toEqual([]);
  });

  it('components: a split pair stays apart; a pair joined by hand is together', () => {
    const a = activity();
    const b = activity({ source: 'strava' });
    const far = activity({ startMin: 600 });
    expect(duplicateComponents([a, b], { separate: new Set([pairKey(a.id, b.id)]), same: [] })).toEqual([]);
    expect(duplicateComponents([a, far], { separate: new Set(), same: [[a.id, far.id]] })).toHaveLength(1);
  });

  it('a candidate window counts as read when the windows read cover it whole', () => {
    expect(covered([[T0 - 10 * MIN, T0 + 10 * MIN]], T0)).toBe(true);
    expect(covered([[T0 - 10 * MIN, T0 + 10 * MIN]], T0 + 40_000)).toBe(false);
    expect(covered([[T0 - 10 * MIN, T0 + 10 * MIN], [T0 + 5 * MIN, T0 + 25 * MIN]], T0 + 5 * MIN)).toBe(true);
    expect(covered([[T0 - 10 * MIN, T0 + 10 * MIN], [T0 + 11 * MIN, T0 + 31 * MIN]], T0 + 10 * MIN)).toBe(false);
    // Touching windows, given in any order, are one stretch.
    expect(covered([[T0 + 10 * MIN, T0 + 30 * MIN], [T0 - 10 * MIN, T0 + 10 * MIN]], T0 + 5 * MIN)).toBe(true);
    // A batch's windows a day apart: each start inside one is covered, one between two is not.
    const days = Array.from({ length: 500 }, (_, day): [number, number] => [T0 + day * 1440 * MIN - 10 * MIN, T0 + day * 1440 * MIN + 10 * MIN]).reverse();
    const union = unionOf(days);
    expect(union).toHaveLength(500);
    expect(inUnion(union, T0 + 250 * 1440 * MIN)).toBe(true);
    expect(inUnion(union, T0 + 250 * 1440 * MIN + MIN)).toBe(false);
    expect(inUnion(union, T0 - 1440 * MIN)).toBe(false);
    expect(inUnion(union, T0 + 600 * 1440 * MIN)).toBe(false);
  });
});

describe('primary election', () => {
  const member = (overrides: Partial<ElectionMember>): ElectionMember => ({
    id: `m${next++}`,
    source: 'garmin',
    activityType: 'running',
    createdAt: new Date(T0),
    streamTypes: 0,
    samples: 0,
    ...overrides,
  });

  it('follows the default priority: file, garmin, healthkit, health_connect, strava, manual', () => {
    expect(DEFAULT_SOURCE_PRIORITIES.default).toEqual(['file', 'garmin', 'healthkit', 'health_connect', 'strava', 'manual']);
    const strava = member({ source: 'strava' });
    const healthkit = member({ source: 'healthkit' });
    expect(electPrimary([strava, healthkit], DEFAULT_SOURCE_PRIORITIES)).toBe(healthkit.id);
  });

  it('a category list replaces the default; sources left out rank after the listed ones', () => {
    const priorities = { default: ['strava' as const], byCategory: { cycling: ['healthkit' as const] } };
    expect(sourceRank(priorities, 'running', 'strava')).toBe(0);
    expect(sourceRank(priorities, 'running', 'file')).toBe(1);
    const garmin = member({ source: 'garmin', activityType: 'road_cycling' });
    const healthkit = member({ source: 'healthkit', activityType: 'road_cycling' });
    expect(electPrimary([garmin, healthkit], priorities)).toBe(healthkit.id);
  });

  it('ties in one source: more stream types, then more samples, then the earliest created', () => {
    const poor = member({ streamTypes: 1, samples: 9000 });
    const rich = member({ streamTypes: 3, samples: 10 });
    expect(electPrimary([poor, rich], DEFAULT_SOURCE_PRIORITIES)).toBe(rich.id);
    const few = member({ streamTypes: 2, samples: 10 });
    const many = member({ streamTypes: 2, samples: 11 });
    expect(electPrimary([few, many], DEFAULT_SOURCE_PRIORITIES)).toBe(many.id);
    const late = member({ createdAt: new Date(T0 + 1) });
    const early = member({ createdAt: new Date(T0) });
    expect(electPrimary([late, early], DEFAULT_SOURCE_PRIORITIES)).toBe(early.id);
  });

  it('a leg of a session is primary over top-level copies, whatever the priority (its session counts it)', () => {
    const leg = member({ source: 'strava', parentId: 'session' });
    const file = member({ source: 'file' });
    expect(electPrimary([file, leg], DEFAULT_SOURCE_PRIORITIES)).toBe(leg.id);
  });

  it('richness is read only when the best members tie on leg and source', () => {
    expect(tiesOnPriority([member({ source: 'garmin' }), member({ source: 'healthkit' })], DEFAULT_SOURCE_PRIORITIES)).toBe(false);
    expect(tiesOnPriority([member({ source: 'file' }), member({ source: 'file' }), member({ source: 'strava' })], DEFAULT_SOURCE_PRIORITIES)).toBe(true);
    expect(tiesOnPriority([member({ source: 'strava', parentId: 'session' }), member({ source: 'strava' })], DEFAULT_SOURCE_PRIORITIES)).toBe(false);
  });

  it('a pinned member wins over the priority', () => {
    const file = member({ source: 'file' });
    const manual = member({ source: 'manual' });
    expect(electPrimary([file, manual], DEFAULT_SOURCE_PRIORITIES, manual.id)).toBe(manual.id);
  });
});
