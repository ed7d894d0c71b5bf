import { sql } from 'drizzle-orm';
import { check, pgTable, smallint, text } from 'drizzle-orm/pg-core';

/**
 * A copy of libs/seed-data/activity-types.json (the source of truth), upserted at boot and by
 * `npm run db:seed`, so that activities.activity_type is checked by a foreign key and the data can
 * be queried by category in SQL without the API.
 */
export const activityTypes = pgTable(
  'activity_types',
  {
    slug: text('slug').primaryKey(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    tier: smallint('tier').notNull(),
  },
  (t) => [check('activity_types_tier_check', sql`${t.tier} in (1, 2)`)],
);
