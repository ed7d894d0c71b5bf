import { sql } from 'drizzle-orm';
import { check, date, index, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { ATHLETE_SEXES } from '@unified-activity/contract';
import { user } from './auth.js';
import { createdAt, sqlList, updatedAt } from './columns.js';

export { ATHLETE_SEXES } from '@unified-activity/contract';

/** The person whose activities are recorded; a user owns one or more (DATA-MODEL §2). */
export const athletes = pgTable(
  'athletes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    displayName: text('display_name').notNull(),
    dateOfBirth: date('date_of_birth', { mode: 'string' }),
    sex: text('sex', { enum: ATHLETE_SEXES }),
    timeZone: text('time_zone').notNull().default('UTC'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('athletes_user_id_idx').on(t.userId),
    // Target of activities (athlete_id, user_id): an activity's owner is its athlete's owner.
    unique('athletes_id_user_id_key').on(t.id, t.userId),
    check('athletes_sex_check', sql`${t.sex} in ${sql.raw(sqlList(ATHLETE_SEXES))}`),
  ],
);

export type AthleteRow = typeof athletes.$inferSelect;
export type NewAthleteRow = typeof athletes.$inferInsert;
