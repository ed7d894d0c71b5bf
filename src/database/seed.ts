import { sql } from 'drizzle-orm';
import { activityTypes as catalog } from '../../libs/seed-data/activity-types.js';
import type { Database } from './database.js';
import { activityTypes } from './schema/index.js';

/**
 * Mirrors the catalog JSON into the activity_types table. Idempotent: every boot and every
 * `npm run db:seed` converges the table to the JSON (slugs are never removed, as activities may
 * reference them).
 */
export async function seedCatalog(db: Database): Promise<number> {
  const rows = catalog.map(({ slug, name, category, tier }) => ({ slug, name, category, tier }));
  await db
    .insert(activityTypes)
    .values(rows)
    .onConflictDoUpdate({
      target: activityTypes.slug,
      set: { name: sql`excluded.name`, category: sql`excluded.category`, tier: sql`excluded.tier` },
    });
  return rows.length;
}
