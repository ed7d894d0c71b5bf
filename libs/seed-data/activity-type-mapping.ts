/**
 * Provider activity types ⇄ canonical slugs, by the rules of CATALOG.md.
 *
 * - `toCanonical(provider, value, qualifiers?)`: which slug an incoming
 *   provider value gets. Never throws and never rejects: anything unknown
 *   becomes `other` (DATA-MODEL §3; the original stays in
 *   `source_activity_type`).
 * - `fromCanonical(provider, slug)`: what to send when a canonical type is
 *   exported to a provider it did not come from. A same-provider round trip
 *   should use the stored original instead; this table is lossy by design.
 *
 * All lookup tables are built once from the validated catalog. Building them
 * also enforces the catalog's central invariant (one inbound slug per provider
 * value and qualifier), so a conflicting ★ fails at import, not silently.
 */
import {
  activityTypeBySlug,
  activityTypes,
  inboundFallbacks,
  type ActivityType,
  type HealthKitQualifier,
  type Provider,
} from './activity-types.js';

/** Result of mapping a provider value inbound. */
export interface CanonicalMatch {
  /** The canonical slug; `other` when nothing matched. */
  slug: string;
  /**
   * True when the value hit its own inbound-default (★) catalog row. A
   * qualifier with no row of its own for that value is ignored, so an indoor
   * hike is an exact `hiking`. False when a fallback rule chose the slug
   * (fallback lists, FIT rules 2–5), or when the value was not recognised.
   */
  exact: boolean;
  /**
   * False when the provider value is not one the catalog knows (a new or
   * misspelled provider type), so `slug` is `other` by default rather than by
   * a rule. Worth logging: it is how new provider types get noticed.
   */
  known: boolean;
}

/**
 * HealthKit workout metadata that selects a different canonical type for the
 * same activity type: `HKMetadataKeyIndoorWorkout` and
 * `HKMetadataKeySwimmingLocationType` (0 unknown, 1 pool, 2 open water).
 */
export interface HealthKitQualifiers {
  indoor?: boolean | null;
  swimmingLocation?: 0 | 1 | 2 | 'unknown' | 'pool' | 'open_water' | 'openWater' | null;
}

/** Strava's `trainer` flag ("recorded on a training machine"). */
export interface StravaQualifiers {
  trainer?: boolean | null;
}

/**
 * A FIT `sport` / `sub_sport` pair. Each may be the enum number, the profile
 * snake_case name (`fitness_equipment`) or the JS SDK camelCase name
 * (`fitnessEquipment`). A missing sub-sport means `generic` (0).
 */
export interface FitValue {
  sport: string | number;
  subSport?: string | number | null;
}

/** What each provider's inbound value looks like. */
export interface InboundValue {
  /** Swift case (`running`), Objective-C constant (`HKWorkoutActivityTypeRunning`) or raw value (37 / '37'). */
  healthkit: string | number;
  /** `sport_type` (or legacy `type`), e.g. `Run`. */
  strava: string;
  fit: FitValue;
  /** Constant with or without the `EXERCISE_TYPE_` prefix, or its integer value. */
  health_connect: string | number;
  /** Garmin Health/Activity API `activityType` key, e.g. `LAP_SWIMMING` (case-insensitive). */
  garmin: string;
}

/** Qualifiers each provider accepts; FIT and Health Connect encode everything in the value. */
export interface InboundQualifiers {
  healthkit: HealthKitQualifiers;
  strava: StravaQualifiers;
  fit: never;
  health_connect: never;
  garmin: never;
}

/** The outbound value for each provider. `approximate` = no equivalent exists (CATALOG ≈ or –). */
export interface OutboundValue {
  healthkit: {
    case: string;
    rawValue: number;
    /** Set `HKMetadataKeyIndoorWorkout` to true. */
    indoor?: true;
    /** Set `HKMetadataKeySwimmingLocationType` (pool = 1, open water = 2). */
    swimmingLocation?: 'pool' | 'open_water';
    approximate: boolean;
  };
  strava: { sportType: string; trainer?: true; approximate: boolean };
  fit: { sport: string; sportId: number; subSport: string; subSportId: number; approximate: boolean };
  /** `constant` is without the `EXERCISE_TYPE_` prefix. */
  health_connect: { constant: string; value: number; approximate: boolean };
  garmin: { typeKey: string; approximate: boolean };
}

const OTHER = 'other';

/**
 * Maps a provider's activity type (plus qualifiers) to a canonical slug.
 *
 * @example toCanonical('healthkit', 'running', { indoor: true }) // { slug: 'treadmill_running', exact: true, known: true }
 * @example toCanonical('strava', 'VirtualRow')                   // { slug: 'indoor_rowing', exact: false, known: true }
 * @example toCanonical('fit', { sport: 'cycling', subSport: 'spin' }) // { slug: 'indoor_cycling', exact: false, known: true }
 */
export function toCanonical<P extends Provider>(
  provider: P,
  value: InboundValue[P],
  qualifiers?: InboundQualifiers[P],
): CanonicalMatch {
  return inbound[provider](value, qualifiers);
}

/**
 * The value to send to `provider` for a canonical slug, including the
 * qualifier that makes the distinction (indoor, pool, trainer). For types the
 * provider lacks, the nearest or generic value with `approximate: true`.
 * An unknown slug is exported as `other`, matching the inbound rule.
 */
export function fromCanonical<P extends Provider>(provider: P, slug: string): OutboundValue[P] {
  const type = activityTypeBySlug.get(slug) ?? otherType();
  return outbound[provider](type);
}

function otherType(): ActivityType {
  const type = activityTypeBySlug.get(OTHER);
  if (!type) throw new Error('the catalog has no "other" type');
  return type;
}

const inbound: { [P in Provider]: (value: InboundValue[P], qualifiers?: InboundQualifiers[P]) => CanonicalMatch } = {
  healthkit: healthKitToCanonical,
  strava: stravaToCanonical,
  fit: fitToCanonical,
  health_connect: healthConnectToCanonical,
  garmin: garminToCanonical,
};

const outbound: { [P in Provider]: (type: ActivityType) => OutboundValue[P] } = {
  healthkit: ({ mappings: { healthkit: m } }) => ({
    case: m.case,
    rawValue: m.rawValue,
    ...(m.qualifier === 'indoor' ? { indoor: true as const } : {}),
    ...(m.qualifier === 'pool' || m.qualifier === 'open_water' ? { swimmingLocation: m.qualifier } : {}),
    approximate: m.approximate,
  }),
  strava: ({ mappings: { strava: m } }) => ({
    sportType: m.sportType,
    ...(m.trainer ? { trainer: true as const } : {}),
    approximate: m.approximate,
  }),
  fit: ({ mappings: { fit: m } }) => ({
    sport: m.sport,
    sportId: m.sportId,
    subSport: m.subSport,
    subSportId: m.subSportId,
    approximate: m.approximate,
  }),
  health_connect: ({ mappings: { health_connect: m } }) => ({
    constant: m.constant,
    value: m.value,
    approximate: m.approximate,
  }),
  garmin: ({ mappings: { garmin: m } }) => ({ typeKey: m.typeKey, approximate: m.approximate }),
};

// ---------------------------------------------------------------------------
// Shared helpers

const exactMatch = (slug: string): CanonicalMatch => ({ slug, exact: true, known: true });
const fallbackMatch = (slug: string): CanonicalMatch => ({ slug, exact: false, known: true });
const UNKNOWN: CanonicalMatch = Object.freeze({ slug: OTHER, exact: false, known: false });

/** Adds a key → slug entry, refusing a second, different slug for the same key. */
function claim(index: Map<string, string>, key: string, slug: string, what: string): void {
  const existing = index.get(key);
  if (existing !== undefined && existing !== slug) {
    throw new Error(`activity-type catalog: ${what} "${key}" maps inbound to both "${existing}" and "${slug}"`);
  }
  index.set(key, slug);
}

/** Records a name ⇄ number pair, refusing one name with two numbers or the reverse. */
function registerNumber(byName: Map<string, number>, byNumber: Map<number, string>, name: string, n: number): void {
  if ((byName.has(name) && byName.get(name) !== n) || (byNumber.has(n) && byNumber.get(n) !== name)) {
    throw new Error(`activity-type catalog: "${name}" and ${n} are paired inconsistently`);
  }
  byName.set(name, n);
  byNumber.set(n, name);
}

function parseInteger(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  return /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

const qualifierKey = (name: string, qualifier: string | undefined): string => `${name}+${qualifier ?? ''}`;

// ---------------------------------------------------------------------------
// HealthKit

const healthKit = buildHealthKitIndex();

function buildHealthKitIndex() {
  // Keys are lower-cased so the Objective-C spelling (…TypeRunning) matches the Swift case.
  const defaults = new Map<string, string>();
  const fallbacks = new Map<string, string>();
  const caseByRaw = new Map<number, string>();
  const rawByCase = new Map<string, number>();
  for (const { slug, mappings } of activityTypes) {
    const m = mappings.healthkit;
    registerNumber(rawByCase, caseByRaw, m.case.toLowerCase(), m.rawValue);
    if (m.inboundDefault) claim(defaults, qualifierKey(m.case.toLowerCase(), m.qualifier), slug, 'HealthKit value');
  }
  for (const { case: name, rawValue, slug } of inboundFallbacks.healthkit) {
    registerNumber(rawByCase, caseByRaw, name.toLowerCase(), rawValue);
    if (defaults.has(qualifierKey(name.toLowerCase(), undefined))) {
      throw new Error(`activity-type catalog: HealthKit "${name}" has both a ★ row and a fallback`);
    }
    claim(fallbacks, name.toLowerCase(), slug, 'HealthKit fallback');
  }
  return { defaults, fallbacks, caseByRaw };
}

const HK_OBJC_PREFIX = 'hkworkoutactivitytype';

function healthKitCase(value: string | number): string | undefined {
  const raw = parseInteger(value);
  if (raw !== undefined) return healthKit.caseByRaw.get(raw);
  if (typeof value !== 'string') return undefined;
  const name = value.trim().toLowerCase();
  return name.startsWith(HK_OBJC_PREFIX) ? name.slice(HK_OBJC_PREFIX.length) : name;
}

function swimmingLocation(value: HealthKitQualifiers['swimmingLocation']): 'pool' | 'open_water' | undefined {
  if (value === 1 || value === 'pool') return 'pool';
  if (value === 2 || value === 'open_water' || value === 'openWater') return 'open_water';
  return undefined;
}

function healthKitToCanonical(value: string | number, qualifiers: HealthKitQualifiers = {}): CanonicalMatch {
  const name = healthKitCase(value);
  if (name === undefined) return UNKNOWN;
  // Most specific first. A qualifier with no row of its own for this case is
  // just metadata (an indoor hike is still a hike), so the plain row applies.
  const location = swimmingLocation(qualifiers.swimmingLocation);
  const candidates: (HealthKitQualifier | undefined)[] = [
    ...(location ? [location] : []),
    ...(qualifiers.indoor === true ? ['indoor' as const] : []),
    undefined,
  ];
  for (const qualifier of candidates) {
    const slug = healthKit.defaults.get(qualifierKey(name, qualifier));
    if (slug !== undefined) return exactMatch(slug);
  }
  const fallback = healthKit.fallbacks.get(name);
  return fallback === undefined ? UNKNOWN : fallbackMatch(fallback);
}

// ---------------------------------------------------------------------------
// Strava

const strava = buildStravaIndex();

function buildStravaIndex() {
  // Lower-cased keys: sport types never differ only by case, and clients do send "run".
  const defaults = new Map<string, string>();
  const fallbacks = new Map<string, string>();
  for (const { slug, mappings } of activityTypes) {
    const m = mappings.strava;
    if (m.inboundDefault) {
      claim(defaults, qualifierKey(m.sportType.toLowerCase(), m.trainer ? 'trainer' : undefined), slug, 'Strava value');
    }
  }
  for (const { sportType, slug } of inboundFallbacks.strava) {
    if (defaults.has(qualifierKey(sportType.toLowerCase(), undefined))) {
      throw new Error(`activity-type catalog: Strava "${sportType}" has both a ★ row and a fallback`);
    }
    claim(fallbacks, sportType.toLowerCase(), slug, 'Strava fallback');
  }
  return { defaults, fallbacks };
}

function stravaToCanonical(value: string, qualifiers: StravaQualifiers = {}): CanonicalMatch {
  if (typeof value !== 'string') return UNKNOWN;
  const name = value.trim().toLowerCase();
  const candidates = qualifiers.trainer === true ? ['trainer', undefined] : [undefined];
  for (const qualifier of candidates) {
    const slug = strava.defaults.get(qualifierKey(name, qualifier));
    if (slug !== undefined) return exactMatch(slug);
  }
  const fallback = strava.fallbacks.get(name);
  return fallback === undefined ? UNKNOWN : fallbackMatch(fallback);
}

// ---------------------------------------------------------------------------
// Garmin FIT

const fitPairKey = (sportId: number, subSportId: number): string => `${sportId}/${subSportId}`;
const fit = buildFitIndex();

function buildFitIndex() {
  const sportIds = new Map<string, number>();
  const sportNames = new Map<number, string>();
  const subSportIds = new Map<string, number>();
  const subSportNames = new Map<number, string>();
  const pairDefaults = new Map<string, string>();
  const overrides = new Map<string, string>();
  const sportDefaults = new Map<string, string>();

  for (const { slug, mappings } of activityTypes) {
    const m = mappings.fit;
    registerNumber(sportIds, sportNames, m.sport, m.sportId);
    registerNumber(subSportIds, subSportNames, m.subSport, m.subSportId);
    if (m.inboundDefault) claim(pairDefaults, fitPairKey(m.sportId, m.subSportId), slug, 'FIT sport/sub_sport');
  }
  const rules = inboundFallbacks.fit;
  for (const o of rules.subSportOverrides) {
    registerNumber(sportIds, sportNames, o.sport, o.sportId);
    registerNumber(subSportIds, subSportNames, o.subSport, o.subSportId);
    if (pairDefaults.has(fitPairKey(o.sportId, o.subSportId))) {
      throw new Error(`activity-type catalog: FIT ${o.sport}/${o.subSport} has both a ★ row and an override`);
    }
    claim(overrides, fitPairKey(o.sportId, o.subSportId), o.slug, 'FIT sub-sport override');
  }
  const sportsWithRows = new Set(activityTypes.map((t) => t.mappings.fit.sportId));
  for (const { sport, sportId, slug } of rules.sportsWithoutRow) {
    registerNumber(sportIds, sportNames, sport, sportId);
    if (sportsWithRows.has(sportId)) throw new Error(`activity-type catalog: FIT sport "${sport}" has a row`);
    claim(sportDefaults, String(sportId), slug, 'FIT sport without row');
  }
  // Rule 5 needs only to know these sports exist, to tell a deliberate `other` from an unseen sport.
  for (const { sport, sportId } of rules.sportsToOther) registerNumber(sportIds, sportNames, sport, sportId);
  return { sportIds, subSportIds, sportNames, pairDefaults, overrides, sportDefaults };
}

const GENERIC_SUB_SPORT = 0;

/** FIT enum number from a number, a numeric string, a profile name or a JS SDK camelCase name. */
function fitId(value: string | number, ids: ReadonlyMap<string, number>): number | undefined {
  const n = parseInteger(value);
  if (n !== undefined) return n;
  if (typeof value !== 'string') return undefined;
  const snake = value
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
  return ids.get(snake);
}

/** Resolution order 1–5 of CATALOG.md "Inbound fallbacks → FIT". */
function fitToCanonical(value: FitValue): CanonicalMatch {
  if (typeof value !== 'object' || value === null) return UNKNOWN;
  const sportId = fitId(value.sport, fit.sportIds);
  if (sportId === undefined) return UNKNOWN;
  // An unrecognised sub-sport name cannot match rules 1–2, but rule 3 still applies.
  const subSportId =
    value.subSport === undefined || value.subSport === null ? GENERIC_SUB_SPORT : fitId(value.subSport, fit.subSportIds);

  if (subSportId !== undefined) {
    const exact = fit.pairDefaults.get(fitPairKey(sportId, subSportId)); // 1
    if (exact !== undefined) return exactMatch(exact);
    const override = fit.overrides.get(fitPairKey(sportId, subSportId)); // 2
    if (override !== undefined) return fallbackMatch(override);
  }
  const generic = fit.pairDefaults.get(fitPairKey(sportId, GENERIC_SUB_SPORT)); // 3
  if (generic !== undefined) return fallbackMatch(generic);
  const sportDefault = fit.sportDefaults.get(String(sportId)); // 4
  if (sportDefault !== undefined) return fallbackMatch(sportDefault);
  // 5: a sport the catalog knows (it has rows, or is listed as going to
  // `other`) is a deliberate `other`; any other number is a sport we have never seen.
  return fit.sportNames.has(sportId) ? fallbackMatch(OTHER) : UNKNOWN;
}

// ---------------------------------------------------------------------------
// Health Connect

const healthConnect = buildHealthConnectIndex();

function buildHealthConnectIndex() {
  const slugs = new Map<string, string>();
  const constantByValue = new Map<number, string>();
  const valueByConstant = new Map<string, number>();
  const fallbackConstants = new Set<string>();
  for (const { slug, mappings } of activityTypes) {
    const m = mappings.health_connect;
    registerNumber(valueByConstant, constantByValue, m.constant, m.value);
    if (m.inboundDefault) claim(slugs, m.constant, slug, 'Health Connect value');
  }
  for (const { constant, value, slug } of inboundFallbacks.health_connect) {
    registerNumber(valueByConstant, constantByValue, constant, value);
    if (slugs.has(constant)) {
      throw new Error(`activity-type catalog: Health Connect "${constant}" has both a ★ row and a fallback`);
    }
    claim(slugs, constant, slug, 'Health Connect fallback');
    fallbackConstants.add(constant);
  }
  return { slugs, constantByValue, fallbackConstants };
}

const HC_PREFIX = 'EXERCISE_TYPE_';

function healthConnectToCanonical(value: string | number): CanonicalMatch {
  const n = parseInteger(value);
  let constant: string | undefined;
  if (n !== undefined) constant = healthConnect.constantByValue.get(n);
  else if (typeof value === 'string') {
    const upper = value.trim().toUpperCase();
    constant = upper.startsWith(HC_PREFIX) ? upper.slice(HC_PREFIX.length) : upper;
  }
  const slug = constant === undefined ? undefined : healthConnect.slugs.get(constant);
  if (constant === undefined || slug === undefined) return UNKNOWN;
  return healthConnect.fallbackConstants.has(constant) ? fallbackMatch(slug) : exactMatch(slug);
}

// ---------------------------------------------------------------------------
// Garmin Health/Activity API activity-type keys (not FIT: the push API's own vocabulary)

const garmin = buildGarminIndex();

function buildGarminIndex() {
  const defaults = new Map<string, string>();
  const fallbacks = new Map<string, string>();
  for (const { slug, mappings } of activityTypes) {
    if (mappings.garmin.inboundDefault) claim(defaults, mappings.garmin.typeKey, slug, 'Garmin value');
  }
  for (const { typeKey, slug } of inboundFallbacks.garmin) {
    if (defaults.has(typeKey)) throw new Error(`activity-type catalog: Garmin "${typeKey}" has both a ★ row and a fallback`);
    claim(fallbacks, typeKey, slug, 'Garmin fallback');
  }
  return { defaults, fallbacks };
}

function garminToCanonical(value: string): CanonicalMatch {
  if (typeof value !== 'string') return UNKNOWN;
  // Garmin Connect's web API spells the same keys in lower case (`lap_swimming`).
  const key = value.trim().toUpperCase();
  const slug = garmin.defaults.get(key);
  if (slug !== undefined) return exactMatch(slug);
  const fallback = garmin.fallbacks.get(key);
  return fallback === undefined ? UNKNOWN : fallbackMatch(fallback);
}
