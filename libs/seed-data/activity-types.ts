/**
 * The canonical activity-type catalog (DATA-MODEL §3 and §8, CATALOG.md).
 *
 * The catalog is data, not code, so that it can be reviewed as one table and
 * seeded as-is. It is validated once, at import: a bad edit to the JSON then
 * fails at boot and in every test run instead of at the first request that
 * happens to touch the broken row.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ACTIVITY_CATEGORIES,
  ActivityTypeSchema,
  FitIdSchema,
  FitNameSchema,
  GarminTypeKeySchema,
  HealthConnectConstantSchema,
  HealthConnectValueSchema,
  HealthKitCaseSchema,
  HealthKitRawValueSchema,
  type Provider,
  SlugSchema,
  StravaSportTypeSchema,
} from '@unified-activity/contract';
import * as z from 'zod';

export {
  ACTIVITY_CATEGORIES,
  ActivityTypeSchema,
  HEALTHKIT_QUALIFIERS,
  PROVIDERS,
  CATALOG_PROVIDERS,
  type ActivityCategory,
  type HealthKitQualifier,
  type Provider,
} from '@unified-activity/contract';

export const ActivityCategoryInfoSchema = z.strictObject({
  slug: z.enum(ACTIVITY_CATEGORIES),
  name: z.string().min(1),
  description: z.string().min(1),
});

const InboundFallbacksSchema = z.strictObject({
  healthkit: z.array(z.strictObject({ case: HealthKitCaseSchema, rawValue: HealthKitRawValueSchema, slug: SlugSchema })),
  strava: z.array(z.strictObject({ sportType: StravaSportTypeSchema, slug: SlugSchema })),
  fit: z.strictObject({
    resolutionOrder: z.array(z.string()),
    subSportOverrides: z.array(
      z.strictObject({
        sport: FitNameSchema,
        sportId: FitIdSchema,
        subSport: FitNameSchema,
        subSportId: FitIdSchema,
        slug: SlugSchema,
      }),
    ),
    sportsWithoutRow: z.array(z.strictObject({ sport: FitNameSchema, sportId: FitIdSchema, slug: SlugSchema })),
    sportsToOther: z.array(z.strictObject({ sport: FitNameSchema, sportId: FitIdSchema })),
  }),
  health_connect: z.array(
    z.strictObject({ constant: HealthConnectConstantSchema, value: HealthConnectValueSchema, slug: SlugSchema }),
  ),
  garmin: z.array(z.strictObject({ typeKey: GarminTypeKeySchema, slug: SlugSchema })),
});

const CatalogSchema = z
  .strictObject({
    $comment: z.array(z.string()),
    categories: z.array(ActivityCategoryInfoSchema),
    types: z.array(ActivityTypeSchema).min(1),
    inboundFallbacks: InboundFallbacksSchema,
  })
  .superRefine((catalog, ctx) => {
    for (const message of referentialProblems(catalog)) ctx.addIssue({ code: 'custom', message });
  });

export type ActivityType = z.infer<typeof ActivityTypeSchema>;
export type ActivityCategoryInfo = z.infer<typeof ActivityCategoryInfoSchema>;
export type InboundFallbacks = z.infer<typeof InboundFallbacksSchema>;
export type Catalog = z.infer<typeof CatalogSchema>;
export type ProviderMapping<P extends Provider> = ActivityType['mappings'][P];

/** Cross-row rules a per-row schema cannot see. */
function referentialProblems(catalog: Omit<Catalog, '$comment'>): string[] {
  const problems: string[] = [];
  const listed = catalog.categories.map((c) => c.slug);
  if (listed.join() !== ACTIVITY_CATEGORIES.join()) {
    problems.push(`categories must be exactly ${ACTIVITY_CATEGORIES.join(', ')} in that order`);
  }
  const slugs = new Set<string>();
  for (const { slug } of catalog.types) {
    if (slugs.has(slug)) problems.push(`duplicate slug "${slug}"`);
    slugs.add(slug);
  }
  if (!slugs.has('other')) problems.push('the catalog needs an "other" type: every unmapped value lands there');
  const fallbacks = catalog.inboundFallbacks;
  const targets = [
    ...fallbacks.healthkit,
    ...fallbacks.strava,
    ...fallbacks.health_connect,
    ...fallbacks.garmin,
    ...fallbacks.fit.subSportOverrides,
    ...fallbacks.fit.sportsWithoutRow,
  ];
  for (const { slug } of targets) {
    if (!slugs.has(slug)) problems.push(`inbound fallback points at unknown slug "${slug}"`);
  }
  return problems;
}

/** Validates a raw catalog object; throws a readable error naming every problem. */
export function parseCatalog(raw: unknown): Catalog {
  const result = CatalogSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(`activity-type catalog is invalid:\n${z.prettifyError(result.error)}`);
  }
  return deepFreeze(result.data);
}

// The catalog is a process-wide singleton handed to every module; freezing it
// turns an accidental mutation by one caller into an error instead of a
// silent change seen by all the others.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Read from disk rather than `import … with { type: 'json' }`: the Jest swc
 * transform drops the import attribute (Jest then warns that attribute-less
 * JSON imports will become an error), and `tsc` only copies JSON it sees
 * imported. The compiled module lives in dist/libs/seed-data/, so the file is
 * looked up next to this module first, then at its source location relative
 * to dist/, then relative to the working directory.
 */
function readCatalogFile(): unknown {
  const candidates = [
    new URL('./activity-types.json', import.meta.url),
    new URL('../../../libs/seed-data/activity-types.json', import.meta.url),
    pathToFileURL(join(process.cwd(), 'libs', 'seed-data', 'activity-types.json')),
  ];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new Error(`activity-types.json not found; looked in ${candidates.map((url) => fileURLToPath(url)).join(', ')}`);
  }
  return JSON.parse(readFileSync(found, 'utf8'));
}

const catalog = parseCatalog(readCatalogFile());

export const activityTypes: readonly ActivityType[] = catalog.types;
export const activityTypeBySlug: ReadonlyMap<string, ActivityType> = new Map(
  activityTypes.map((type) => [type.slug, type]),
);
export const activityCategories: readonly ActivityCategoryInfo[] = catalog.categories;
export const inboundFallbacks: InboundFallbacks = catalog.inboundFallbacks;

/**
 * Up to `n` catalog slugs closest to `input`, best first, for "unknown slug,
 * did you mean …" answers. Compares against both the slug and the display
 * name (so "Stand-Up Paddleboarding" finds `stand_up_paddling`), counts a
 * slug that contains the input as one edit (so "swim" finds the swimming
 * types), and drops candidates too far away to be a plausible typo: it may
 * return fewer than `n`, or none.
 */
export function nearestSlugs(input: string, n = 3): string[] {
  const query = normalizeForSearch(input);
  if (query === '' || n <= 0) return [];
  const maxDistance = Math.max(2, Math.floor(query.length / 2));
  return activityTypes
    .map((type) => ({
      slug: type.slug,
      distance: Math.min(searchDistance(query, type.slug), searchDistance(query, normalizeForSearch(type.name))),
    }))
    .filter((candidate) => candidate.distance <= maxDistance)
    .sort(
      (a, b) => a.distance - b.distance || a.slug.length - b.slug.length || a.slug.localeCompare(b.slug),
    )
    .slice(0, n)
    .map((candidate) => candidate.slug);
}

function normalizeForSearch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

// Very short inputs ("e", "ru") are substrings of too many slugs to mean anything.
const MIN_SUBSTRING_LENGTH = 3;

function searchDistance(query: string, candidate: string): number {
  if (query === candidate) return 0;
  if (query.length >= MIN_SUBSTRING_LENGTH && candidate.includes(query)) return 1;
  return editDistance(query, candidate);
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("yoag" → "yoga" is one edit). */
function editDistance(a: string, b: string): number {
  // rows[i][j] = distance between a[0..i) and b[0..j)
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}
