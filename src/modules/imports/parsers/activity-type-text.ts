/** Free-text activity types (GPX `<type>`, TCX `Sport`) → catalog slugs. */
import { toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import { activityTypeBySlug } from '../../../../libs/seed-data/activity-types.js';
import { snakeCase } from './snake-case.js';

const FREE_TEXT_ALIASES: Record<string, string> = {
  run: 'running',
  trail_run: 'trail_running',
  treadmill: 'treadmill_running',
  ride: 'cycling',
  bike: 'cycling',
  biking: 'cycling',
  road_biking: 'road_cycling',
  road_bike: 'road_cycling',
  mountain_bike: 'mountain_biking',
  mtb: 'mountain_biking',
  gravel_biking: 'gravel_cycling',
  indoor_biking: 'indoor_cycling',
  virtual_ride: 'virtual_cycling',
  walk: 'walking',
  hike: 'hiking',
  swim: 'swimming',
  lap_swimming: 'pool_swimming',
  open_water: 'open_water_swimming',
  kayak: 'kayaking',
  row: 'rowing',
  ski: 'alpine_skiing',
  nordic_ski: 'cross_country_skiing',
};

/**
 * The canonical slug for a free-text activity type (GPX `<type>`, TCX `Sport`): a catalog
 * slug or a common alias, else a Strava sport_type or FIT sport name through the catalog,
 * else `other`.
 */
export function activityTypeFromText(value: string | undefined): { slug: string; known: boolean } {
  if (value === undefined || value.trim() === '') return { slug: 'other', known: false };
  const normalized = snakeCase(value.trim()).replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (activityTypeBySlug.has(normalized)) return { slug: normalized, known: true };
  const alias = FREE_TEXT_ALIASES[normalized];
  if (alias) return { slug: alias, known: true };
  // A bare number names nothing portable (Strava's old GPX type ids, FIT enum values).
  if (/^\d+$/.test(normalized)) return { slug: 'other', known: false };
  const strava = toCanonical('strava', value.trim());
  if (strava.known) return { slug: strava.slug, known: true };
  const fit = toCanonical('fit', { sport: normalized });
  if (fit.known) return { slug: fit.slug, known: true };
  return { slug: 'other', known: false };
}
