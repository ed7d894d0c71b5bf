import { describe, expect, it } from '@jest/globals';
import {
  FIT_SPORTS,
  FIT_SUB_SPORTS,
  GARMIN_ACTIVITY_TYPES,
  HEALTH_CONNECT_EXERCISE_TYPES,
  HEALTHKIT_ACTIVITY_TYPES,
  STRAVA_SPORT_TYPES,
} from '../../test/fixtures/provider-enums.js';
import { fromCanonical, toCanonical, type CanonicalMatch } from './activity-type-mapping.js';
import { PROVIDERS, activityTypeBySlug, activityTypes, inboundFallbacks, type Provider } from './activity-types.js';

/**
 * The "lossy: round trip via provider gives" column of CATALOG.md, every row:
 * the slug that comes back after exporting a type to a provider and importing
 * it again, wherever that differs from the type itself. Types not listed here
 * (and providers not listed for a type) are lossless. The `garmin` entries are
 * not in CATALOG.md (it predates the Garmin vocabulary); they follow from the
 * non-★ Garmin cells of activity-types.json.
 */
const LOSSY: Readonly<Record<string, Partial<Record<Provider, string>>>> = {
  trail_running: { healthkit: 'running', health_connect: 'running' },
  road_cycling: { healthkit: 'cycling', strava: 'cycling', health_connect: 'cycling' },
  mountain_biking: { healthkit: 'cycling', health_connect: 'cycling' },
  virtual_cycling: { healthkit: 'indoor_cycling', health_connect: 'indoor_cycling' },
  e_biking: { healthkit: 'cycling', health_connect: 'cycling' },
  swimming: { health_connect: 'pool_swimming' },
  pool_swimming: { strava: 'swimming' },
  open_water_swimming: { strava: 'swimming' },
  functional_training: { strava: 'strength_training', fit: 'strength_training', health_connect: 'strength_training', garmin: 'strength_training' },
  cardio_training: { strava: 'other', health_connect: 'other' },
  stretching: { strava: 'other' },
  cross_country_skiing: { health_connect: 'alpine_skiing' },
  virtual_running: { healthkit: 'treadmill_running', health_connect: 'treadmill_running' },
  treadmill_walking: { health_connect: 'walking' },
  gravel_cycling: { healthkit: 'cycling', health_connect: 'cycling' },
  e_mountain_biking: { healthkit: 'cycling', health_connect: 'cycling' },
  paddling: { strava: 'kayaking' },
  kayaking: { healthkit: 'paddling', health_connect: 'paddling' },
  canoeing: { healthkit: 'paddling', health_connect: 'paddling', garmin: 'paddling' },
  stand_up_paddling: { healthkit: 'paddling', health_connect: 'paddling' },
  scuba_diving: { strava: 'other' },
  backcountry_skiing: { healthkit: 'alpine_skiing', health_connect: 'alpine_skiing' },
  snowshoeing: { healthkit: 'other' },
  crossfit: { fit: 'other', health_connect: 'hiit', garmin: 'strength_training' },
  core_training: { strava: 'other', fit: 'strength_training', health_connect: 'functional_training', garmin: 'strength_training' },
  jump_rope: { strava: 'other', health_connect: 'other' },
  stair_climbing: { strava: 'stair_stepper' },
  barre: { strava: 'other', fit: 'other', health_connect: 'other', garmin: 'cardio_training' },
  mind_and_body: { strava: 'other' },
  indoor_climbing: { strava: 'climbing', health_connect: 'climbing' },
  bouldering: { healthkit: 'climbing', strava: 'climbing', health_connect: 'climbing' },
  sport_climbing: { healthkit: 'climbing', strava: 'climbing', fit: 'climbing', health_connect: 'climbing', garmin: 'climbing' },
  trad_climbing: { healthkit: 'climbing', strava: 'climbing', fit: 'climbing', health_connect: 'climbing', garmin: 'climbing' },
  ice_climbing: { healthkit: 'climbing', strava: 'climbing', fit: 'climbing', health_connect: 'climbing', garmin: 'climbing' },
  mountaineering: { healthkit: 'hiking', strava: 'hiking', health_connect: 'hiking' },
  american_football: { strava: 'other' },
  baseball: { strava: 'other' },
  hockey: { strava: 'other' },
  rugby: { strava: 'other' },
  team_sport: { healthkit: 'other', strava: 'other', health_connect: 'other', garmin: 'other' },
  pickleball: { health_connect: 'other' },
  padel: { healthkit: 'other', health_connect: 'other' },
  boxing: { strava: 'other' },
  kickboxing: { strava: 'other', fit: 'boxing', health_connect: 'boxing', garmin: 'boxing' },
  martial_arts: { strava: 'other' },
  inline_skating: { healthkit: 'ice_skating' },
  horseback_riding: { strava: 'other', health_connect: 'other' },
  triathlon: { strava: 'other', health_connect: 'other', garmin: 'multisport' },
  multisport: { healthkit: 'triathlon', strava: 'other', health_connect: 'other' },
  transition: { strava: 'other', health_connect: 'other' },
  wheelchair_run_pace: { strava: 'wheelchair_walk_pace', health_connect: 'wheelchair_walk_pace' },
  handcycling: { health_connect: 'cycling' },
};

const slugs = new Set(activityTypes.map((t) => t.slug));

/** Exports `slug` to `provider`, feeds the result back in, and returns the slug it arrives as. */
function roundTrip(provider: Provider, slug: string, form: 'names' | 'numbers'): string {
  switch (provider) {
    case 'healthkit': {
      const out = fromCanonical('healthkit', slug);
      const qualifiers = { indoor: out.indoor, swimmingLocation: out.swimmingLocation };
      return toCanonical('healthkit', form === 'names' ? out.case : out.rawValue, qualifiers).slug;
    }
    case 'strava': {
      const out = fromCanonical('strava', slug);
      return toCanonical('strava', out.sportType, { trainer: out.trainer }).slug;
    }
    case 'fit': {
      const out = fromCanonical('fit', slug);
      const value = form === 'names' ? { sport: out.sport, subSport: out.subSport } : { sport: out.sportId, subSport: out.subSportId };
      return toCanonical('fit', value).slug;
    }
    case 'health_connect': {
      const out = fromCanonical('health_connect', slug);
      return toCanonical('health_connect', form === 'names' ? out.constant : out.value).slug;
    }
    case 'garmin':
      return toCanonical('garmin', fromCanonical('garmin', slug).typeKey).slug;
  }
}

const exact = (slug: string): CanonicalMatch => ({ slug, exact: true, known: true });
const fallback = (slug: string): CanonicalMatch => ({ slug, exact: false, known: true });
const unknown: CanonicalMatch = { slug: 'other', exact: false, known: false };

describe('toCanonical: the examples CATALOG.md spells out', () => {
  it('HealthKit', () => {
    expect(toCanonical('healthkit', 'running', { indoor: true })).toEqual(exact('treadmill_running'));
    expect(toCanonical('healthkit', 'running')).toEqual(exact('running'));
    expect(toCanonical('healthkit', 'swimming', { swimmingLocation: 'pool' })).toEqual(exact('pool_swimming'));
    expect(toCanonical('healthkit', 'swimming', { swimmingLocation: 2 })).toEqual(exact('open_water_swimming'));
    expect(toCanonical('healthkit', 'softball')).toEqual(fallback('baseball'));
    expect(toCanonical('healthkit', 'snowSports')).toEqual(fallback('other'));
    expect(toCanonical('healthkit', 'mixedMetabolicCardioTraining')).toEqual(fallback('cardio_training'));
  });

  it('Strava', () => {
    expect(toCanonical('strava', 'VirtualRow')).toEqual(fallback('indoor_rowing'));
    expect(toCanonical('strava', 'Run', { trainer: true })).toEqual(exact('treadmill_running'));
    expect(toCanonical('strava', 'Ride', { trainer: true })).toEqual(exact('indoor_cycling'));
    expect(toCanonical('strava', 'Walk', { trainer: true })).toEqual(exact('treadmill_walking'));
    expect(toCanonical('strava', 'Rowing', { trainer: true })).toEqual(exact('indoor_rowing'));
    expect(toCanonical('strava', 'Ride')).toEqual(exact('cycling'));
    expect(toCanonical('strava', 'Kitesurf')).toEqual(fallback('surfing'));
    expect(toCanonical('strava', 'PhysicalTherapy')).toEqual(fallback('stretching'));
  });

  it('FIT, one example per resolution step', () => {
    expect(toCanonical('fit', { sport: 'running', subSport: 'trail' })).toEqual(exact('trail_running')); // 1
    expect(toCanonical('fit', { sport: 'running', subSport: 'street' })).toEqual(fallback('running')); // 2
    expect(toCanonical('fit', { sport: 'cycling', subSport: 'spin' })).toEqual(fallback('indoor_cycling'));
    expect(toCanonical('fit', { sport: 'cycling', subSport: 'cyclocross' })).toEqual(fallback('gravel_cycling'));
    expect(toCanonical('fit', { sport: 'hiit', subSport: 'tabata' })).toEqual(fallback('hiit'));
    expect(toCanonical('fit', { sport: 'diving', subSport: 'apnea_diving' })).toEqual(fallback('scuba_diving'));
    expect(toCanonical('fit', { sport: 'multisport', subSport: 'pool_triathlon' })).toEqual(fallback('triathlon'));
    expect(toCanonical('fit', { sport: 'training', subSport: 'breathing' })).toEqual(fallback('mind_and_body'));
    expect(toCanonical('fit', { sport: 'fitness_equipment', subSport: 'treadmill' })).toEqual(
      fallback('treadmill_running'),
    );
    expect(toCanonical('fit', { sport: 'fitness_equipment', subSport: 'indoor_walking' })).toEqual(
      fallback('treadmill_walking'),
    );
    expect(toCanonical('fit', { sport: 'fitness_equipment', subSport: 'indoor_skiing' })).toEqual(
      fallback('cardio_training'),
    );
    expect(toCanonical('fit', { sport: 'cycling', subSport: 'recumbent' })).toEqual(fallback('cycling')); // 3
    expect(toCanonical('fit', { sport: 'racket', subSport: 'generic' })).toEqual(fallback('other'));
    expect(toCanonical('fit', { sport: 'rafting' })).toEqual(fallback('paddling')); // 4
    expect(toCanonical('fit', { sport: 'kitesurfing', subSport: 'generic' })).toEqual(fallback('surfing'));
    expect(toCanonical('fit', { sport: 'lacrosse' })).toEqual(fallback('team_sport'));
    expect(toCanonical('fit', { sport: 'mobility' })).toEqual(fallback('stretching'));
    expect(toCanonical('fit', { sport: 'geocaching' })).toEqual(fallback('hiking'));
    expect(toCanonical('fit', { sport: 'flying', subSport: 'fly_ifr' })).toEqual(fallback('other')); // 5
  });

  it('FIT: Pilates and HIIT arrive from both of their encodings', () => {
    expect(toCanonical('fit', { sport: 'training', subSport: 'pilates' })).toEqual(exact('pilates'));
    expect(toCanonical('fit', { sport: 'fitness_equipment', subSport: 'pilates' })).toEqual(fallback('pilates'));
    expect(toCanonical('fit', { sport: 'hiit', subSport: 'generic' })).toEqual(exact('hiit'));
    expect(toCanonical('fit', { sport: 'training', subSport: 'hiit' })).toEqual(fallback('hiit'));
    expect(toCanonical('fit', { sport: 10, subSport: 70 })).toEqual(fallback('hiit'));
  });

  it('Health Connect', () => {
    expect(toCanonical('health_connect', 'WEIGHTLIFTING')).toEqual(fallback('strength_training'));
    expect(toCanonical('health_connect', 'EXERCISE_TYPE_WEIGHTLIFTING')).toEqual(fallback('strength_training'));
    expect(toCanonical('health_connect', 81)).toEqual(fallback('strength_training'));
    expect(toCanonical('health_connect', 'RUNNING_TREADMILL')).toEqual(exact('treadmill_running'));
    expect(toCanonical('health_connect', 'SWIMMING_POOL')).toEqual(exact('pool_swimming'));
    expect(toCanonical('health_connect', 'CALISTHENICS')).toEqual(fallback('functional_training'));
  });

  it('unknown values become `other` and say so', () => {
    expect(toCanonical('healthkit', 'quidditch')).toEqual(unknown);
    expect(toCanonical('healthkit', 81)).toEqual(unknown); // the one gap in HKWorkoutActivityType
    expect(toCanonical('healthkit', 9999)).toEqual(unknown);
    expect(toCanonical('strava', 'Quidditch')).toEqual(unknown);
    expect(toCanonical('strava', '')).toEqual(unknown);
    expect(toCanonical('fit', { sport: 'quidditch' })).toEqual(unknown);
    expect(toCanonical('fit', { sport: 200, subSport: 0 })).toEqual(unknown);
    expect(toCanonical('health_connect', 'QUIDDITCH')).toEqual(unknown);
    expect(toCanonical('health_connect', 1)).toEqual(unknown); // a retired Health Connect number
    expect(toCanonical('health_connect', 12.5)).toEqual(unknown);
  });
});

describe('toCanonical: qualifiers', () => {
  it('HealthKit falls back to the plain ★ row when a qualifier has no row of its own', () => {
    expect(toCanonical('healthkit', 'hiking', { indoor: true })).toEqual(exact('hiking'));
    expect(toCanonical('healthkit', 'swimming', { indoor: true })).toEqual(exact('swimming'));
    expect(toCanonical('healthkit', 'swimming', { swimmingLocation: 0 })).toEqual(exact('swimming'));
    expect(toCanonical('healthkit', 'running', { swimmingLocation: 'pool' })).toEqual(exact('running'));
    expect(toCanonical('healthkit', 'softball', { indoor: true })).toEqual(fallback('baseball'));
  });

  it('HealthKit prefers the swimming location over the indoor flag, and ignores indoor=false', () => {
    expect(toCanonical('healthkit', 'swimming', { indoor: true, swimmingLocation: 1 })).toEqual(exact('pool_swimming'));
    expect(toCanonical('healthkit', 'swimming', { swimmingLocation: 'openWater' })).toEqual(
      exact('open_water_swimming'),
    );
    expect(toCanonical('healthkit', 'running', { indoor: true, swimmingLocation: 'pool' })).toEqual(
      exact('treadmill_running'),
    );
    expect(toCanonical('healthkit', 'cycling', { indoor: false })).toEqual(exact('cycling'));
    expect(toCanonical('healthkit', 'climbing', { indoor: true })).toEqual(exact('indoor_climbing'));
  });

  it('Strava falls back to the plain row (or the fallback list) when trainer has no row', () => {
    expect(toCanonical('strava', 'Swim', { trainer: true })).toEqual(exact('swimming'));
    expect(toCanonical('strava', 'VirtualRide', { trainer: true })).toEqual(exact('virtual_cycling'));
    expect(toCanonical('strava', 'VirtualRow', { trainer: true })).toEqual(fallback('indoor_rowing'));
    expect(toCanonical('strava', 'Run', { trainer: false })).toEqual(exact('running'));
  });
});

describe('toCanonical: accepted spellings', () => {
  it('HealthKit: Swift case, Objective-C constant, raw number and numeric string agree', () => {
    for (const spelling of ['traditionalStrengthTraining', 'HKWorkoutActivityTypeTraditionalStrengthTraining', 50, '50']) {
      expect(toCanonical('healthkit', spelling)).toEqual(exact('strength_training'));
    }
    expect(toCanonical('healthkit', 37, { indoor: true })).toEqual(exact('treadmill_running'));
  });

  it('FIT: numbers, numeric strings, profile names and JS SDK camelCase names agree; a missing sub-sport is generic', () => {
    const expected = fallback('indoor_cycling');
    expect(toCanonical('fit', { sport: 'fitness_equipment', subSport: 'indoor_cycling' })).toEqual(expected);
    expect(toCanonical('fit', { sport: 'fitnessEquipment', subSport: 'indoorCycling' })).toEqual(expected);
    expect(toCanonical('fit', { sport: 4, subSport: 6 })).toEqual(expected);
    expect(toCanonical('fit', { sport: '4', subSport: '6' })).toEqual(expected);
    expect(toCanonical('fit', { sport: 'eBiking', subSport: 'eBikeFitness' })).toEqual(fallback('e_biking'));
    expect(toCanonical('fit', { sport: 'running' })).toEqual(exact('running'));
    expect(toCanonical('fit', { sport: 'running', subSport: null })).toEqual(exact('running'));
  });

  it('Strava and Health Connect tolerate case and surrounding whitespace', () => {
    expect(toCanonical('strava', ' run ')).toEqual(exact('running'));
    expect(toCanonical('health_connect', 'exercise_type_yoga')).toEqual(exact('yoga'));
    expect(toCanonical('health_connect', '83')).toEqual(exact('yoga'));
  });
});

describe('toCanonical: every provider enum value resolves to one catalog slug', () => {
  it('HealthKit: all 84 cases, by name and by raw value, with and without qualifiers', () => {
    expect(HEALTHKIT_ACTIVITY_TYPES).toHaveLength(84);
    const qualifierSets = [{}, { indoor: true }, { swimmingLocation: 1 as const }, { swimmingLocation: 2 as const }];
    for (const { case: name, rawValue } of HEALTHKIT_ACTIVITY_TYPES) {
      for (const qualifiers of qualifierSets) {
        const byName = toCanonical('healthkit', name, qualifiers);
        expect([name, byName.known, slugs.has(byName.slug)]).toEqual([name, true, true]);
        expect(toCanonical('healthkit', rawValue, qualifiers)).toEqual(byName);
      }
    }
  });

  it('Strava: all 56 sport types, with and without trainer', () => {
    expect(STRAVA_SPORT_TYPES).toHaveLength(56);
    for (const sportType of STRAVA_SPORT_TYPES) {
      for (const trainer of [false, true]) {
        const match = toCanonical('strava', sportType, { trainer });
        expect([sportType, match.known, slugs.has(match.slug)]).toEqual([sportType, true, true]);
      }
    }
  });

  it('FIT: all 82 × 112 sport/sub_sport pairs, by name and by number', () => {
    expect(FIT_SPORTS).toHaveLength(82);
    expect(FIT_SUB_SPORTS).toHaveLength(112);
    for (const sport of FIT_SPORTS) {
      for (const subSport of FIT_SUB_SPORTS) {
        const byNumber = toCanonical('fit', { sport: sport.value, subSport: subSport.value });
        expect(slugs.has(byNumber.slug)).toBe(true);
        // `all` (254) is a goal-only value, not a sport an activity can have.
        expect([sport.name, byNumber.known]).toEqual([sport.name, sport.name !== 'all']);
        expect(toCanonical('fit', { sport: sport.name, subSport: subSport.name })).toEqual(byNumber);
      }
    }
  });

  it('Health Connect: all 61 constants, with and without prefix and by value', () => {
    expect(HEALTH_CONNECT_EXERCISE_TYPES).toHaveLength(61);
    for (const { constant, value } of HEALTH_CONNECT_EXERCISE_TYPES) {
      const match = toCanonical('health_connect', constant);
      expect([constant, match.known, slugs.has(match.slug)]).toEqual([constant, true, true]);
      expect(toCanonical('health_connect', constant.replace(/^EXERCISE_TYPE_/, ''))).toEqual(match);
      expect(toCanonical('health_connect', value)).toEqual(match);
    }
  });

  it('Garmin: every activity-type key, in either case', () => {
    for (const key of GARMIN_ACTIVITY_TYPES) {
      const match = toCanonical('garmin', key);
      expect([key, match.known, slugs.has(match.slug)]).toEqual([key, true, true]);
      expect(toCanonical('garmin', ` ${key.toLowerCase()} `)).toEqual(match);
    }
    expect(toCanonical('garmin', 'UNDERWATER_BASKET_WEAVING')).toEqual({ slug: 'other', exact: false, known: false });
    expect(toCanonical('garmin', 'LAP_SWIMMING')).toEqual(exact('pool_swimming'));
    expect(toCanonical('garmin', 'TREADMILL_RUNNING')).toEqual(exact('treadmill_running'));
    expect(toCanonical('garmin', 'INDOOR_RUNNING')).toEqual(fallback('treadmill_running'));
  });

  it('every ★ row is an exact match for its own slug', () => {
    for (const type of activityTypes) {
      const m = type.mappings.garmin;
      if (m.inboundDefault) expect(['garmin', toCanonical('garmin', m.typeKey)]).toEqual(['garmin', exact(type.slug)]);
    }
    for (const type of activityTypes) {
      const { healthkit: hk, strava, fit, health_connect: hc } = type.mappings;
      const results: [string, CanonicalMatch][] = [];
      if (hk.inboundDefault) {
        const qualifiers = {
          indoor: hk.qualifier === 'indoor',
          swimmingLocation: hk.qualifier === 'indoor' ? undefined : hk.qualifier,
        };
        results.push(['healthkit', toCanonical('healthkit', hk.rawValue, qualifiers)]);
      }
      if (strava.inboundDefault) {
        results.push(['strava', toCanonical('strava', strava.sportType, { trainer: strava.trainer })]);
      }
      if (fit.inboundDefault) results.push(['fit', toCanonical('fit', { sport: fit.sportId, subSport: fit.subSportId })]);
      if (hc.inboundDefault) results.push(['health_connect', toCanonical('health_connect', hc.value)]);
      for (const [provider, match] of results) expect([provider, match]).toEqual([provider, exact(type.slug)]);
    }
  });

  it('every fallback entry resolves to its slug as a non-exact match', () => {
    for (const f of inboundFallbacks.healthkit) expect(toCanonical('healthkit', f.case)).toEqual(fallback(f.slug));
    for (const f of inboundFallbacks.strava) expect(toCanonical('strava', f.sportType)).toEqual(fallback(f.slug));
    for (const f of inboundFallbacks.garmin) expect(toCanonical('garmin', f.typeKey)).toEqual(fallback(f.slug));
    for (const f of inboundFallbacks.health_connect) {
      expect(toCanonical('health_connect', f.constant)).toEqual(fallback(f.slug));
    }
    for (const f of inboundFallbacks.fit.subSportOverrides) {
      expect(toCanonical('fit', { sport: f.sport, subSport: f.subSport })).toEqual(fallback(f.slug));
    }
    for (const f of inboundFallbacks.fit.sportsWithoutRow) {
      expect(toCanonical('fit', { sport: f.sport, subSport: 'generic' })).toEqual(fallback(f.slug));
    }
    for (const f of inboundFallbacks.fit.sportsToOther) {
      expect(toCanonical('fit', { sport: f.sport })).toEqual(fallback('other'));
    }
  });
});

describe('fromCanonical', () => {
  it('carries the qualifier that makes the distinction', () => {
    expect(fromCanonical('healthkit', 'treadmill_running')).toEqual({
      case: 'running',
      rawValue: 37,
      indoor: true,
      approximate: false,
    });
    expect(fromCanonical('healthkit', 'pool_swimming')).toEqual({
      case: 'swimming',
      rawValue: 46,
      swimmingLocation: 'pool',
      approximate: false,
    });
    expect(fromCanonical('healthkit', 'running')).toEqual({ case: 'running', rawValue: 37, approximate: false });
    expect(fromCanonical('strava', 'treadmill_running')).toEqual({ sportType: 'Run', trainer: true, approximate: false });
    expect(fromCanonical('strava', 'indoor_rowing')).toEqual({ sportType: 'Rowing', trainer: true, approximate: false });
  });

  it('sends the nearest (≈) or generic (–) value, flagged approximate', () => {
    expect(fromCanonical('health_connect', 'swimming')).toEqual({ constant: 'SWIMMING_POOL', value: 74, approximate: true });
    expect(fromCanonical('strava', 'scuba_diving')).toEqual({ sportType: 'Workout', approximate: true });
    expect(fromCanonical('strava', 'paddling')).toEqual({ sportType: 'Kayaking', approximate: true });
    expect(fromCanonical('healthkit', 'mountaineering')).toEqual({ case: 'hiking', rawValue: 24, approximate: true });
    expect(fromCanonical('fit', 'kickboxing')).toEqual({
      sport: 'boxing',
      sportId: 47,
      subSport: 'generic',
      subSportId: 0,
      approximate: true,
    });
  });

  it('sends collapsed (non-★ but equivalent) values as not approximate', () => {
    expect(fromCanonical('healthkit', 'trail_running')).toEqual({ case: 'running', rawValue: 37, approximate: false });
    expect(fromCanonical('fit', 'scuba_diving')).toEqual({
      sport: 'diving',
      sportId: 53,
      subSport: 'single_gas_diving',
      subSportId: 53,
      approximate: false,
    });
  });

  it('exports an unknown slug as `other`', () => {
    for (const provider of PROVIDERS) {
      expect(fromCanonical(provider, 'quidditch')).toEqual(fromCanonical(provider, 'other'));
    }
    expect(fromCanonical('strava', 'quidditch')).toEqual({ sportType: 'Workout', approximate: false });
  });
});

describe('round trips (export, then import again) match the CATALOG.md lossy column', () => {
  it('lists only real slugs and providers', () => {
    for (const [slug, providers] of Object.entries(LOSSY)) {
      expect(activityTypeBySlug.has(slug)).toBe(true);
      for (const [provider, result] of Object.entries(providers)) {
        expect(PROVIDERS).toContain(provider);
        expect([slug, provider, result !== slug && activityTypeBySlug.has(result)]).toEqual([slug, provider, true]);
      }
    }
  });

  for (const form of ['names', 'numbers'] as const) {
    it(`gives every type back, or the documented slug, for all five providers (values as ${form})`, () => {
      const actual = activityTypes.map((t) => [t.slug, PROVIDERS.map((p) => roundTrip(p, t.slug, form))]);
      const expected = activityTypes.map((t) => [t.slug, PROVIDERS.map((p) => LOSSY[t.slug]?.[p] ?? t.slug)]);
      expect(actual).toEqual(expected);
    });
  }

  it('counts the documented lossless types', () => {
    const lossless = activityTypes.filter((t) => PROVIDERS.every((p) => roundTrip(p, t.slug, 'numbers') === t.slug));
    expect(lossless.map((t) => t.slug)).toEqual(activityTypes.map((t) => t.slug).filter((slug) => !(slug in LOSSY)));
    expect(lossless).toHaveLength(33);
  });
});
