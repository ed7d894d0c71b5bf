/**
 * Duplicates across sources (docs/data-model.md, "Duplicates across sources"): the per-athlete
 * source priority that elects each duplicate group's primary, and the shapes the activities'
 * read side adds (members of a group, where a merged field came from).
 */
import * as z from 'zod';
import { ACTIVITY_CATEGORIES } from './activity-type.js';
import { ACTIVITY_SOURCES, type ActivitySource } from './catalog.js';
import { uuid } from './common.js';

/** The priority used when an athlete has set none (README, "Duplicates across sources"). */
export const DEFAULT_SOURCE_PRIORITY: readonly ActivitySource[] = ['file', 'garmin', 'healthkit', 'health_connect', 'strava', 'manual'];

const SourceList = z
  .array(z.enum(ACTIVITY_SOURCES))
  .max(ACTIVITY_SOURCES.length)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((source, index) => {
      if (seen.has(source)) ctx.addIssue({ code: 'custom', path: [index], message: `"${source}" is listed twice` });
      seen.add(source);
    });
  })
  .describe('Sources, most preferred first; sources left out rank after the listed ones, in the default order');

export const SourcePrioritiesSchema = z
  .strictObject({
    default: SourceList.describe('The order used for every category without its own list'),
    byCategory: z
      .partialRecord(z.enum(ACTIVITY_CATEGORIES), SourceList)
      .optional()
      .describe('Per catalog category, an order that replaces `default` for activities of that category'),
  });
export type SourcePriorities = z.output<typeof SourcePrioritiesSchema>;

export const SourcePrioritiesUpdateSchema = SourcePrioritiesSchema.extend({ id: uuid('Athlete id') }).meta({ id: 'SourcePrioritiesUpdate' });
export type SourcePrioritiesUpdate = z.output<typeof SourcePrioritiesUpdateSchema>;

/** The re-election of an athlete's primaries after the last priority change. */
export const ReelectionSchema = z
  .object({
    state: z
      .enum(['pending', 'done'])
      .describe('pending: a job re-elects the primaries (more duplicate groups than the server re-elects in the request); done: finished'),
    changedPrimaries: z.number().int().nullable().describe('Duplicate groups whose primary changed; null while pending'),
    finishedAt: z.date().nullable().describe('When the re-election finished; null while pending'),
  })
  .meta({ id: 'Reelection' });

export const SourcePrioritiesViewSchema = z
  .object({
    default: z.array(z.enum(ACTIVITY_SOURCES)).describe('Sources, most preferred first'),
    byCategory: z.partialRecord(z.enum(ACTIVITY_CATEGORIES), z.array(z.enum(ACTIVITY_SOURCES))).describe('Per-category orders (empty when none is set)'),
    reelection: ReelectionSchema.nullable().describe('The re-election after the last change of this priority; null when none was ever set'),
  })
  .meta({ id: 'SourcePrioritiesView' });

export const SourcePrioritiesResultSchema = SourcePrioritiesViewSchema.extend({
  changedPrimaries: z
    .number()
    .int()
    .nullable()
    .describe('Duplicate groups whose primary changed because of this update; null when a job re-elects them (follow `reelection` with GET)'),
}).meta({ id: 'SourcePrioritiesResult' });

/** Another member of an activity's duplicate group, as the detail view lists it. */
export const DuplicateMemberSchema = z
  .object({
    id: uuid('Activity id'),
    source: z.enum(ACTIVITY_SOURCES),
    externalId: z.string().nullable(),
    sourceActivityType: z.string().nullable(),
    startTime: z.date(),
    durationS: z.number().nullable(),
    distanceM: z.number().nullable(),
  })
  .meta({ id: 'DuplicateMember' });

export const DuplicateOfInputSchema = z.strictObject({
  id: uuid('The activity to join to a group'),
  activityId: uuid('A member of the group to join (any member, or a singleton to pair with)'),
});
