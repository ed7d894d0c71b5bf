import * as z from 'zod';
import { ACTIVITY_CATEGORIES, ActivityTypeSchema } from './activity-type.js';
import { listOf, text } from './common.js';
import { publicProcedure, UnknownActivityTypeDataSchema } from './errors.js';

export const ActivityTypeOutputSchema = ActivityTypeSchema.describe(
  'A canonical activity type: slug, display name, category, tier, and its mapping to each provider',
).meta({ id: 'ActivityType' });

const SlugParam = text({ max: 64 })
  .describe('Canonical activity-type slug')
  .meta({ examples: ['trail_running'] });

const route = { tags: ['Activity types'] as string[], spec: (op: object) => ({ ...op, security: [] }) };

export const activityTypesContract = {
  list: publicProcedure
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activity-types',
      operationId: 'listActivityTypes',
      summary: 'List the activity-type catalog',
      description: 'The 85 canonical types (DATA-MODEL §3). Public: no credentials needed.',
    })
    .input(
      z.strictObject({
        category: z.enum(ACTIVITY_CATEGORIES).optional().describe('Only types of this category'),
        tier: z.literal([1, 2]).optional().describe('Only Tier 1 or Tier 2 types'),
      }),
    )
    .output(listOf(ActivityTypeOutputSchema).meta({ id: 'ActivityTypeList' })),
  get: publicProcedure
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activity-types/{slug}',
      operationId: 'getActivityType',
      summary: 'Get one activity type with its provider mappings',
    })
    .errors({ NOT_FOUND: { status: 404, message: 'No activity type has this slug (suggestions names the nearest)', data: UnknownActivityTypeDataSchema } })
    .input(z.strictObject({ slug: SlugParam }))
    .output(ActivityTypeOutputSchema),
};
