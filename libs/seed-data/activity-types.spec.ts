import { describe, expect, it } from '@jest/globals';
import {
  FIT_SPORTS,
  FIT_SUB_SPORTS,
  GARMIN_ACTIVITY_TYPES,
  HEALTH_CONNECT_EXERCISE_TYPES,
  HEALTHKIT_ACTIVITY_TYPES,
  STRAVA_SPORT_TYPES,
} from '../../test/fixtures/provider-enums.js';
import {
  ACTIVITY_CATEGORIES,
  activityCategories,
  activityTypeBySlug,
  activityTypes,
  inboundFallbacks,
  nearestSlugs,
  parseCatalog,
  type ActivityCategory,
  type Catalog,
} from './activity-types.js';

// Transcribed from CATALOG.md (Tier 1 table, then Tier 2 table), deliberately
// not derived from the JSON so that the two are checked against each other.
const CATALOG_TYPES: readonly (readonly [slug: string, category: ActivityCategory, tier: 1 | 2])[] = [
  ['running', 'running', 1],
  ['trail_running', 'running', 1],
  ['treadmill_running', 'running', 1],
  ['walking', 'walking_hiking', 1],
  ['hiking', 'walking_hiking', 1],
  ['cycling', 'cycling', 1],
  ['road_cycling', 'cycling', 1],
  ['mountain_biking', 'cycling', 1],
  ['indoor_cycling', 'cycling', 1],
  ['virtual_cycling', 'cycling', 1],
  ['e_biking', 'cycling', 1],
  ['swimming', 'swimming', 1],
  ['pool_swimming', 'swimming', 1],
  ['open_water_swimming', 'swimming', 1],
  ['strength_training', 'strength', 1],
  ['functional_training', 'strength', 1],
  ['hiit', 'cardio_fitness', 1],
  ['cardio_training', 'cardio_fitness', 1],
  ['yoga', 'mind_body', 1],
  ['pilates', 'mind_body', 1],
  ['stretching', 'mind_body', 1],
  ['elliptical', 'cardio_fitness', 1],
  ['indoor_rowing', 'cardio_fitness', 1],
  ['rowing', 'water_sports', 1],
  ['stair_stepper', 'cardio_fitness', 1],
  ['alpine_skiing', 'winter_sports', 1],
  ['cross_country_skiing', 'winter_sports', 1],
  ['snowboarding', 'winter_sports', 1],
  ['climbing', 'climbing', 1],
  ['tennis', 'racket_sports', 1],
  ['soccer', 'team_sports', 1],
  ['basketball', 'team_sports', 1],
  ['other', 'other', 1],
  ['virtual_running', 'running', 2],
  ['treadmill_walking', 'walking_hiking', 2],
  ['gravel_cycling', 'cycling', 2],
  ['e_mountain_biking', 'cycling', 2],
  ['paddling', 'water_sports', 2],
  ['kayaking', 'water_sports', 2],
  ['canoeing', 'water_sports', 2],
  ['stand_up_paddling', 'water_sports', 2],
  ['surfing', 'water_sports', 2],
  ['sailing', 'water_sports', 2],
  ['scuba_diving', 'water_sports', 2],
  ['backcountry_skiing', 'winter_sports', 2],
  ['snowshoeing', 'winter_sports', 2],
  ['ice_skating', 'winter_sports', 2],
  ['crossfit', 'strength', 2],
  ['core_training', 'strength', 2],
  ['jump_rope', 'cardio_fitness', 2],
  ['dance', 'cardio_fitness', 2],
  ['stair_climbing', 'cardio_fitness', 2],
  ['barre', 'mind_body', 2],
  ['mind_and_body', 'mind_body', 2],
  ['indoor_climbing', 'climbing', 2],
  ['bouldering', 'climbing', 2],
  ['sport_climbing', 'climbing', 2],
  ['trad_climbing', 'climbing', 2],
  ['ice_climbing', 'climbing', 2],
  ['mountaineering', 'climbing', 2],
  ['american_football', 'team_sports', 2],
  ['baseball', 'team_sports', 2],
  ['volleyball', 'team_sports', 2],
  ['hockey', 'team_sports', 2],
  ['rugby', 'team_sports', 2],
  ['cricket', 'team_sports', 2],
  ['team_sport', 'team_sports', 2],
  ['badminton', 'racket_sports', 2],
  ['table_tennis', 'racket_sports', 2],
  ['squash', 'racket_sports', 2],
  ['pickleball', 'racket_sports', 2],
  ['padel', 'racket_sports', 2],
  ['racquetball', 'racket_sports', 2],
  ['boxing', 'combat_sports', 2],
  ['kickboxing', 'combat_sports', 2],
  ['martial_arts', 'combat_sports', 2],
  ['golf', 'outdoor_recreation', 2],
  ['inline_skating', 'outdoor_recreation', 2],
  ['horseback_riding', 'outdoor_recreation', 2],
  ['triathlon', 'multisport', 2],
  ['multisport', 'multisport', 2],
  ['transition', 'multisport', 2],
  ['wheelchair_walk_pace', 'adaptive', 2],
  ['wheelchair_run_pace', 'adaptive', 2],
  ['handcycling', 'adaptive', 2],
];

// The "types" column of the CATALOG.md category table.
const CATEGORY_COUNTS: Record<ActivityCategory, number> = {
  running: 4,
  walking_hiking: 3,
  cycling: 8,
  swimming: 3,
  water_sports: 8,
  winter_sports: 6,
  strength: 4,
  cardio_fitness: 8,
  mind_body: 5,
  climbing: 7,
  team_sports: 9,
  racket_sports: 7,
  combat_sports: 3,
  outdoor_recreation: 3,
  multisport: 3,
  adaptive: 3,
  other: 1,
};

const DOCUMENTED_CATEGORIES = [
  'running',
  'walking_hiking',
  'cycling',
  'swimming',
  'water_sports',
  'winter_sports',
  'strength',
  'cardio_fitness',
  'mind_body',
  'climbing',
  'team_sports',
  'racket_sports',
  'combat_sports',
  'outdoor_recreation',
  'multisport',
  'adaptive',
  'other',
];

const hkRawByCase = new Map(HEALTHKIT_ACTIVITY_TYPES.map((t) => [t.case, t.rawValue]));
const fitSportIds = new Map(FIT_SPORTS.map((s) => [s.name, s.value]));
const fitSubSportIds = new Map(FIT_SUB_SPORTS.map((s) => [s.name, s.value]));
const hcValues = new Map(HEALTH_CONNECT_EXERCISE_TYPES.map((t) => [t.constant, t.value]));

/** How many times each key occurs. */
function tally(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

const duplicates = (keys: readonly string[]): string[] =>
  [...tally(keys)].filter(([, count]) => count > 1).map(([key]) => key);

describe('activity-type catalog contents', () => {
  it('holds exactly the 85 CATALOG.md types with their categories and tiers, in catalog order', () => {
    expect(activityTypes.map((t) => [t.slug, t.category, t.tier])).toEqual(CATALOG_TYPES);
  });

  it('has 33 Tier 1 and 52 Tier 2 types', () => {
    expect(activityTypes).toHaveLength(85);
    expect(activityTypes.filter((t) => t.tier === 1)).toHaveLength(33);
    expect(activityTypes.filter((t) => t.tier === 2)).toHaveLength(52);
  });

  it('uses unique snake_case slugs and unique display names', () => {
    const slugs = activityTypes.map((t) => t.slug);
    expect(duplicates(slugs)).toEqual([]);
    for (const slug of slugs) expect(slug).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    expect(duplicates(activityTypes.map((t) => t.name))).toEqual([]);
  });

  it('uses only the 17 documented categories, each described, with the documented type counts', () => {
    expect([...ACTIVITY_CATEGORIES]).toEqual(DOCUMENTED_CATEGORIES);
    expect(activityCategories.map((c) => c.slug)).toEqual(DOCUMENTED_CATEGORIES);
    for (const category of activityCategories) {
      expect(category.name.length).toBeGreaterThan(0);
      expect(category.description.length).toBeGreaterThan(10);
    }
    const counts = tally(activityTypes.map((t) => t.category));
    expect(Object.fromEntries(counts)).toEqual(CATEGORY_COUNTS);
  });

  it('indexes every type by slug', () => {
    expect(activityTypeBySlug.size).toBe(85);
    for (const type of activityTypes) expect(activityTypeBySlug.get(type.slug)).toBe(type);
    expect(activityTypeBySlug.get('not_a_type')).toBeUndefined();
  });

  it('is frozen, so no caller can change the shared catalog', () => {
    const type = activityTypes[0] as { name: string; mappings: { strava: { sportType: string } } };
    expect(() => {
      type.name = 'Jogging';
    }).toThrow(TypeError);
    expect(() => {
      type.mappings.strava.sportType = 'Walk';
    }).toThrow(TypeError);
  });
});

describe('every mapping names a real provider value', () => {
  it('HealthKit: cases exist and raw values match (types and fallbacks)', () => {
    const named = [...activityTypes.map((t) => t.mappings.healthkit), ...inboundFallbacks.healthkit];
    for (const m of named) expect([m.case, hkRawByCase.get(m.case)]).toEqual([m.case, m.rawValue]);
  });

  it('Strava: sport types exist (types and fallbacks)', () => {
    const named = [...activityTypes.map((t) => t.mappings.strava), ...inboundFallbacks.strava];
    for (const m of named) expect(STRAVA_SPORT_TYPES).toContain(m.sportType);
  });

  it('FIT: sports and sub-sports exist and ids match names (types and every resolution rule)', () => {
    const fit = inboundFallbacks.fit;
    const pairs = [...activityTypes.map((t) => t.mappings.fit), ...fit.subSportOverrides];
    for (const m of pairs) {
      expect([m.sport, fitSportIds.get(m.sport)]).toEqual([m.sport, m.sportId]);
      expect([m.subSport, fitSubSportIds.get(m.subSport)]).toEqual([m.subSport, m.subSportId]);
    }
    for (const m of [...fit.sportsWithoutRow, ...fit.sportsToOther]) {
      expect([m.sport, fitSportIds.get(m.sport)]).toEqual([m.sport, m.sportId]);
    }
  });

  it('Health Connect: constants exist and values match (types and fallbacks)', () => {
    const named = [...activityTypes.map((t) => t.mappings.health_connect), ...inboundFallbacks.health_connect];
    for (const m of named) {
      expect([m.constant, hcValues.get(`EXERCISE_TYPE_${m.constant}`)]).toEqual([m.constant, m.value]);
    }
  });
});

describe('Garmin activity-type keys (the push API vocabulary, not FIT)', () => {
  it('names only real keys (types and fallbacks)', () => {
    const named = [...activityTypes.map((t) => t.mappings.garmin.typeKey), ...inboundFallbacks.garmin.map((f) => f.typeKey)];
    for (const key of named) expect(GARMIN_ACTIVITY_TYPES).toContain(key);
  });

  it('gives every key exactly one inbound rule (★ row or fallback)', () => {
    const defaults = activityTypes.map((t) => t.mappings.garmin).filter((m) => m.inboundDefault).map((m) => m.typeKey);
    const rules = [...defaults, ...inboundFallbacks.garmin.map((f) => f.typeKey)];
    const counts = Object.fromEntries(GARMIN_ACTIVITY_TYPES.map((key) => [key, rules.filter((r) => r === key).length]));
    expect(counts).toEqual(Object.fromEntries(GARMIN_ACTIVITY_TYPES.map((key) => [key, 1])));
  });

  it('sends the issue\'s keys for their types', () => {
    const key = (slug: string) => activityTypeBySlug.get(slug)?.mappings.garmin.typeKey;
    expect(
      ['running', 'trail_running', 'treadmill_running', 'cycling', 'road_cycling', 'mountain_biking', 'indoor_cycling', 'pool_swimming', 'open_water_swimming', 'strength_training', 'multisport'].map(key),
    ).toEqual(['RUNNING', 'TRAIL_RUNNING', 'TREADMILL_RUNNING', 'CYCLING', 'ROAD_BIKING', 'MOUNTAIN_BIKING', 'INDOOR_CYCLING', 'LAP_SWIMMING', 'OPEN_WATER_SWIMMING', 'STRENGTH_TRAINING', 'MULTI_SPORT']);
  });
});

describe('inbound defaults (★)', () => {
  it('never marks an approximate (≈ / –) value as an inbound default', () => {
    for (const type of activityTypes) {
      for (const [provider, m] of Object.entries(type.mappings)) {
        if (m.approximate) expect([type.slug, provider, m.inboundDefault]).toEqual([type.slug, provider, false]);
      }
    }
  });

  it('marks the Strava "– (send Workout)" cells as generic Workout', () => {
    const generic = activityTypes.filter((t) => t.mappings.strava.generic);
    expect(generic.map((t) => t.slug)).toEqual([
      'scuba_diving',
      'mind_and_body',
      'american_football',
      'baseball',
      'hockey',
      'rugby',
      'team_sport',
      'boxing',
      'kickboxing',
      'martial_arts',
      'horseback_riding',
      'triathlon',
      'multisport',
      'transition',
    ]);
    for (const type of generic) expect(type.mappings.strava).toMatchObject({ sportType: 'Workout', approximate: true });
  });

  // A plain provider value must resolve through exactly one rule: its own ★
  // row or a fallback entry. Qualified ★ rows (running + indoor) need the plain
  // row too, because an unusable qualifier falls back to it.
  function plainRuleCounts(
    values: readonly string[],
    defaults: readonly { key: string; qualified: boolean }[],
    fallbacks: readonly string[],
  ): Record<string, number> {
    const plain = tally([...defaults.filter((d) => !d.qualified).map((d) => d.key), ...fallbacks]);
    return Object.fromEntries(values.map((value) => [value, plain.get(value) ?? 0]));
  }
  const ones = (values: readonly string[]): Record<string, number> =>
    Object.fromEntries(values.map((value) => [value, 1]));

  it('HealthKit: each case + qualifier has one ★ row at most, and every case exactly one inbound rule', () => {
    const defaults = activityTypes
      .map((t) => t.mappings.healthkit)
      .filter((m) => m.inboundDefault)
      .map((m) => ({ key: m.case, qualified: m.qualifier !== undefined, full: `${m.case}+${m.qualifier ?? ''}` }));
    expect(duplicates(defaults.map((d) => d.full))).toEqual([]);
    const cases = HEALTHKIT_ACTIVITY_TYPES.map((t) => t.case);
    expect(plainRuleCounts(cases, defaults, inboundFallbacks.healthkit.map((f) => f.case))).toEqual(ones(cases));
  });

  it('Strava: each sport type + trainer has one ★ row at most, and every sport type exactly one inbound rule', () => {
    const defaults = activityTypes
      .map((t) => t.mappings.strava)
      .filter((m) => m.inboundDefault)
      .map((m) => ({ key: m.sportType, qualified: m.trainer === true, full: `${m.sportType}+${m.trainer ?? ''}` }));
    expect(duplicates(defaults.map((d) => d.full))).toEqual([]);
    const fallbacks = inboundFallbacks.strava.map((f) => f.sportType);
    expect(plainRuleCounts(STRAVA_SPORT_TYPES, defaults, fallbacks)).toEqual(ones(STRAVA_SPORT_TYPES));
  });

  it('Health Connect: every constant has exactly one inbound rule', () => {
    const defaults = activityTypes
      .map((t) => t.mappings.health_connect)
      .filter((m) => m.inboundDefault)
      .map((m) => ({ key: `EXERCISE_TYPE_${m.constant}`, qualified: false }));
    const fallbacks = inboundFallbacks.health_connect.map((f) => `EXERCISE_TYPE_${f.constant}`);
    const constants = HEALTH_CONNECT_EXERCISE_TYPES.map((t) => t.constant);
    expect(plainRuleCounts(constants, defaults, fallbacks)).toEqual(ones(constants));
  });

  it('FIT: each sport/sub_sport pair has one ★ row or one override at most, never both', () => {
    const pairs = [
      ...activityTypes.map((t) => t.mappings.fit).filter((m) => m.inboundDefault),
      ...inboundFallbacks.fit.subSportOverrides,
    ].map((m) => `${m.sport}/${m.subSport}`);
    expect(duplicates(pairs)).toEqual([]);
  });

  it('FIT: every sport (except `all`, which is for goals) falls under exactly one sport-level rule', () => {
    const withRows = new Set(activityTypes.map((t) => t.mappings.fit.sport));
    const covered = tally([
      ...withRows,
      ...inboundFallbacks.fit.sportsWithoutRow.map((s) => s.sport),
      ...inboundFallbacks.fit.sportsToOther.map((s) => s.sport),
    ]);
    const sports = FIT_SPORTS.map((s) => s.name).filter((name) => name !== 'all');
    expect(Object.fromEntries(sports.map((s) => [s, covered.get(s) ?? 0]))).toEqual(ones(sports));
  });

  it('FIT: the sports whose /generic has no ★ row are exactly the ones CATALOG.md leaves to rules 2–5', () => {
    const withGeneric = new Set(
      activityTypes
        .map((t) => t.mappings.fit)
        .filter((m) => m.inboundDefault && m.subSport === 'generic')
        .map((m) => m.sport),
    );
    const withoutGeneric = [...new Set(activityTypes.map((t) => t.mappings.fit.sport))].filter((s) => !withGeneric.has(s));
    expect(withoutGeneric.sort()).toEqual(['diving', 'fitness_equipment', 'racket', 'training']);
  });
});

describe('parseCatalog', () => {
  // A mutable deep copy of the shipped catalog, for breaking one rule at a time.
  const shipped = (): Catalog => ({
    $comment: [],
    categories: structuredClone([...activityCategories]),
    types: structuredClone([...activityTypes]),
    inboundFallbacks: structuredClone(inboundFallbacks),
  });

  it('accepts the shipped catalog', () => {
    expect(parseCatalog(shipped()).types).toHaveLength(85);
  });

  it('rejects a duplicate slug', () => {
    const catalog = shipped();
    catalog.types.push({ ...catalog.types[0], name: 'Running again' });
    expect(() => parseCatalog(catalog)).toThrow(/duplicate slug "running"/);
  });

  it('rejects a category outside the documented set', () => {
    const catalog: { types: { category: string }[] } = shipped();
    catalog.types[0].category = 'endurance';
    expect(() => parseCatalog(catalog)).toThrow(/category/);
  });

  it('rejects an approximate value marked as inbound default', () => {
    const catalog = shipped();
    catalog.types[0].mappings.strava.approximate = true;
    expect(() => parseCatalog(catalog)).toThrow(/approximate mapping cannot be the inbound default/);
  });

  it('rejects a fallback that points at no type', () => {
    const catalog = shipped();
    catalog.inboundFallbacks.strava[0].slug = 'kitesurfing';
    expect(() => parseCatalog(catalog)).toThrow(/unknown slug "kitesurfing"/);
  });

  it('rejects a non-snake_case slug and a prefixed Health Connect constant', () => {
    const badSlug = shipped();
    badSlug.types[1].slug = 'TrailRunning';
    expect(() => parseCatalog(badSlug)).toThrow(/snake_case/);
    const badConstant = shipped();
    badConstant.types[0].mappings.health_connect.constant = 'EXERCISE_TYPE_RUNNING';
    expect(() => parseCatalog(badConstant)).toThrow(/EXERCISE_TYPE_ prefix/);
  });

  it('rejects a catalog without the `other` type', () => {
    const catalog = shipped();
    catalog.types = catalog.types.filter((t) => t.slug !== 'other');
    expect(() => parseCatalog(catalog)).toThrow(/"other" type/);
  });
});

describe('nearestSlugs', () => {
  it('puts the intended slug first for typos', () => {
    expect(nearestSlugs('runing')[0]).toBe('running');
    expect(nearestSlugs('bouldring')[0]).toBe('bouldering');
    expect(nearestSlugs('yoag')[0]).toBe('yoga');
    expect(nearestSlugs('treadmill-running')[0]).toBe('treadmill_running');
    expect(nearestSlugs('Cross Country Skiing')[0]).toBe('cross_country_skiing');
  });

  it('finds types whose slug or name contains the input, shortest first', () => {
    expect(nearestSlugs('swim')).toEqual(['swimming', 'pool_swimming', 'open_water_swimming']);
    expect(nearestSlugs('Stand-Up Paddleboarding')[0]).toBe('stand_up_paddling');
    expect(nearestSlugs('football')).toEqual(expect.arrayContaining(['soccer', 'american_football']));
  });

  it('returns at most n suggestions and nothing for far-off input', () => {
    expect(nearestSlugs('cycling', 5)).toHaveLength(5);
    expect(nearestSlugs('cycling', 1)).toEqual(['cycling']);
    expect(nearestSlugs('xqzzvk')).toEqual([]);
    expect(nearestSlugs('')).toEqual([]);
    expect(nearestSlugs('running', 0)).toEqual([]);
  });

  it('only suggests real slugs', () => {
    for (const slug of nearestSlugs('ski', 10)) expect(activityTypeBySlug.has(slug)).toBe(true);
  });
});
