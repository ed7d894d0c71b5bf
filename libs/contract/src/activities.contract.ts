import * as z from 'zod';
import { ACTIVITY_CATEGORIES } from './activity-type.js';
import { ACTIVITY_SOURCES, EVENT_TYPES } from './catalog.js';
import { boundedJson, checkJson, DateTimeInputSchema, text, TimeZoneSchema, listOf, uuid } from './common.js';
import { ActivityExistsDataSchema, signedIn, signedInWrite } from './errors.js';
import { DuplicateMemberSchema, DuplicateOfInputSchema } from './duplicates.contract.js';
import { StreamMetadataSchema } from './streams.contract.js';

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** A non-negative measure in the unit its name carries (DATA-MODEL §9). */
const measure = (description: string, example: number) =>
  z.number().min(0).max(1e9).describe(description).meta({ examples: [example] });
const heartRate = (description: string, example: number) =>
  z.number().min(20).max(260).describe(`${description}, bpm (20–260)`).meta({ examples: [example] });

/** Applies `fn` to every schema of a record, keeping the keys in the type. */
const mapSchemas = <T extends Record<string, z.ZodNumber>, R extends z.ZodType>(schemas: T, fn: (schema: z.ZodNumber) => R) =>
  Object.fromEntries(Object.entries(schemas).map(([key, schema]) => [key, fn(schema)])) as { [K in keyof T]: R };

/**
 * The promoted measures of DATA-MODEL §5 with their units: the one definition of these fields. The
 * table's columns and the mapper are checked against it at compile time (src/database/contract-conformance.ts).
 */
export const MEASURES = {
  durationS: measure('Elapsed time, seconds', 3600),
  movingTimeS: measure('Moving time, seconds', 3420),
  distanceM: measure('Distance, metres', 10_000),
  activeEnergyKcal: measure('Active energy, kilocalories', 650),
  avgHeartRateBpm: heartRate('Average heart rate', 148),
  maxHeartRateBpm: heartRate('Maximum heart rate', 181),
  elevationGainM: measure('Elevation gain, metres', 120),
  elevationLossM: measure('Elevation loss, metres', 118),
  avgSpeedMS: measure('Average speed, metres per second', 2.9),
  maxSpeedMS: measure('Maximum speed, metres per second', 4.4),
};

const ActivityTypeSlug = text({ min: 1, max: 64 })
  .describe('Canonical activity-type slug from the catalog (GET /v1/activity-types)')
  .meta({ examples: ['trail_running'] });

/** Bounds of event metadata: small, flat details of one lap or marker. */
export const METADATA_BOUNDS = { maxDepth: 16, maxNodes: 1000, maxStringLength: 10_000 } as const;
/** Bounds of a provider payload: generous for real payloads, fatal to none of the server's parsers. */
export const SOURCE_DATA_BOUNDS = { maxDepth: 64, maxNodes: 100_000, maxStringLength: 1_000_000 } as const;

const EventMetadataSchema = z
  .record(text({ max: 200 }), z.unknown())
  .superRefine((value, ctx) => {
    const problem = checkJson(value, METADATA_BOUNDS);
    if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message, params: { malformed: problem.malformed } });
  });

export const StatisticSchema = z
  .strictObject({
    key: text({ min: 1, max: 64 })
      .refine((key) => SNAKE_CASE.test(key), { message: 'must be snake_case, ending in its unit where it has one (avg_power_w)' })
      .describe('snake_case name ending in its unit, e.g. avg_power_w, pool_length_m, total_strokes')
      .meta({ examples: ['avg_power_w'] }),
    value: z.number().describe('The value, in `unit`').meta({ examples: [212] }),
    unit: text({ min: 1, max: 32 }).describe('Unit of the value, e.g. W, m, rpm, count').meta({ examples: ['W'] }),
  })
  .meta({ id: 'Statistic' });

export const EventSchema = z
  .strictObject({
    eventType: z.enum(EVENT_TYPES).describe('What happened: pause, resume, lap, segment, marker, motion_paused, motion_resumed'),
    startTime: DateTimeInputSchema.describe('When it happened or began (ISO 8601)'),
    endTime: DateTimeInputSchema.nullable().optional().describe('End of a span such as a lap (ISO 8601)'),
    metadata: EventMetadataSchema.nullable().optional().describe(
      `Details, e.g. a lap’s distanceM and durationS (a JSON object; at most ${METADATA_BOUNDS.maxDepth} levels, ${METADATA_BOUNDS.maxNodes} values)`,
    ),
  })
  .refine((event) => !event.endTime || event.endTime >= event.startTime, {
    message: 'must not be before startTime',
    path: ['endTime'],
  });

export const ActivityEventSchema = z
  .object({
    eventType: z.enum(EVENT_TYPES),
    startTime: z.date(),
    endTime: z.date().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'ActivityEvent' });

const uniqueStatisticKeys = (statistics: { key: string }[] | undefined, ctx: z.RefinementCtx, path: (string | number)[]) => {
  const seen = new Set<string>();
  statistics?.forEach(({ key }, index) => {
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [...path, index, 'key'], message: `duplicate statistic key "${key}"` });
    seen.add(key);
  });
};

const endAfterStart = (value: { startTime?: Date; endTime?: Date }, ctx: z.RefinementCtx) => {
  if (value.startTime && value.endTime && value.endTime < value.startTime) {
    ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'must not be before startTime' });
  }
};

/** Moving time is part of the elapsed time (DATA-MODEL §5), checked when both are given. */
const movingWithinDuration = (value: { movingTimeS?: number | null; durationS?: number | null }, ctx: z.RefinementCtx) => {
  if (typeof value.movingTimeS === 'number' && typeof value.durationS === 'number' && value.movingTimeS > value.durationS) {
    ctx.addIssue({ code: 'custom', path: ['movingTimeS'], message: 'must not exceed durationS (the elapsed time)' });
  }
};

const maxNotBelowAvg = (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
  for (const [avg, max] of [
    ['avgHeartRateBpm', 'maxHeartRateBpm'],
    ['avgSpeedMS', 'maxSpeedMS'],
  ] as const) {
    const a = value[avg];
    const m = value[max];
    if (typeof a === 'number' && typeof m === 'number' && m < a) {
      ctx.addIssue({ code: 'custom', path: [max], message: `must not be below ${avg}` });
    }
  }
};

/** Fields an activity is created with; `children` and `athleteId` are added for top-level creates. */
const ActivityFields = {
  activityType: ActivityTypeSlug,
  sourceActivityType: text({ max: 200 })
    .nullable()
    .optional()
    .describe('The provider’s own type string, kept for a lossless round trip (e.g. "TrailRun")'),
  source: z.enum(ACTIVITY_SOURCES).optional().describe('Where the activity came from; default manual'),
  externalId: text({ min: 1, max: 200 })
    .nullable()
    .optional()
    .describe('The provider’s id; unique per athlete and source (a second create answers 409)'),
  name: text({ max: 500 }).nullable().optional().describe('Title').meta({ examples: ['Morning trail run'] }),
  notes: text({ max: 10_000, multiline: true }).nullable().optional().describe('Free text'),
  startTime: DateTimeInputSchema.describe('Start (ISO 8601 with an offset, years 1900–2200; stored in UTC)').meta({ examples: ['2026-05-01T06:00:00Z'] }),
  endTime: DateTimeInputSchema.describe('End (ISO 8601 with an offset, years 1900–2200; not before startTime)').meta({ examples: ['2026-05-01T07:00:00Z'] }),
  timeZone: TimeZoneSchema.nullable()
    .optional()
    .describe('IANA time zone of the local wall clock; null: unknown; omitted on create: the athlete’s zone'),
  ...mapSchemas(MEASURES, (schema) => schema.nullable().optional()),
  isIndoor: z.boolean().nullable().optional().describe('Indoors (treadmill, trainer, pool) or not; null when unknown'),
  deviceName: text({ max: 200 }).nullable().optional().describe('Recording device').meta({ examples: ['Forerunner 965'] }),
  sourceData: boundedJson(SOURCE_DATA_BOUNDS)
    .optional()
    .describe(
      'The provider payload; stored once as JSON values (not its bytes: key order and number spelling are not kept; the exact bytes are archived), never changed by updates ' +
        `(any JSON; at most ${SOURCE_DATA_BOUNDS.maxDepth} levels deep and ${SOURCE_DATA_BOUNDS.maxNodes.toLocaleString('en-US')} values, no NUL)`,
    ),
  statistics: z.array(StatisticSchema).max(200).optional().describe('Sport-specific measures (DATA-MODEL §5)'),
  events: z.array(EventSchema).max(5000).optional().describe('Pauses, laps, segments, markers'),
};

const validateActivity = (value: z.output<z.ZodObject<typeof ActivityFields>>, ctx: z.RefinementCtx) => {
  endAfterStart(value, ctx);
  maxNotBelowAvg(value, ctx);
  movingWithinDuration(value, ctx);
  uniqueStatisticKeys(value.statistics, ctx, ['statistics']);
};

export const ActivityChildCreateSchema = z
  .strictObject(ActivityFields)
  .superRefine(validateActivity)
  .describe('A child of a session (a leg, an exercise, a route); it belongs to the parent’s athlete')
  .meta({ id: 'ActivityChildCreate' });

export const ActivityCreateSchema = z
  .strictObject({
    athleteId: uuid('The athlete (one of mine) the activity belongs to'),
    parentId: uuid('Attach as a child of this existing top-level activity').nullable().optional(),
    ...ActivityFields,
    children: z.array(ActivityChildCreateSchema).max(100).optional().describe('Children of a session (DATA-MODEL §4)'),
  })
  .superRefine(validateActivity)
  .superRefine((value, ctx) => {
    if (value.parentId && value.children?.length) {
      ctx.addIssue({ code: 'custom', path: ['children'], message: 'a child cannot have children of its own' });
    }
  })
  .meta({ id: 'ActivityCreate' });

export const ActivityUpdateSchema = z
  .strictObject({
    id: uuid('Activity id'),
    activityType: ActivityTypeSlug.optional(),
    sourceActivityType: ActivityFields.sourceActivityType,
    name: ActivityFields.name,
    notes: ActivityFields.notes,
    startTime: DateTimeInputSchema.optional(),
    endTime: DateTimeInputSchema.optional(),
    timeZone: ActivityFields.timeZone,
    ...mapSchemas(MEASURES, (schema) => schema.nullable().optional()),
    isIndoor: ActivityFields.isIndoor,
    deviceName: ActivityFields.deviceName,
    parentId: uuid('Move under this top-level activity; null detaches').nullable().optional(),
    statistics: z.array(StatisticSchema).max(200).optional().describe('Replaces the whole set'),
    events: z.array(EventSchema).max(5000).optional().describe('Replaces the whole set'),
  })
  .superRefine((value, ctx) => {
    endAfterStart(value, ctx);
    maxNotBelowAvg(value, ctx);
    movingWithinDuration(value, ctx);
    uniqueStatisticKeys(value.statistics, ctx, ['statistics']);
  })
  .meta({ id: 'ActivityUpdate' });

/** An activity without its raw payload and related rows: what lists return. */
export const ActivitySummarySchema = z
  .object({
    id: uuid('Activity id'),
    athleteId: uuid('Athlete id'),
    parentId: uuid('Parent session, for a child').nullable(),
    activityType: z.string().describe('Canonical activity-type slug'),
    sourceActivityType: z.string().nullable().describe('The provider’s own type string'),
    source: z.enum(ACTIVITY_SOURCES).describe('Where the activity came from'),
    externalId: z.string().nullable().describe('The provider’s id; unique per athlete and source'),
    name: z.string().nullable().describe('Title'),
    notes: z.string().nullable().describe('Free text'),
    startTime: z.date().describe('Start (UTC)'),
    endTime: z.date().describe('End (UTC)'),
    timeZone: z
      .string()
      .nullable()
      .describe('IANA time zone of the local wall clock; null when unknown (the source did not tell it; never guessed as UTC)'),
    ...mapSchemas(MEASURES, (schema) => z.number().nullable().describe(schema.description ?? '')),
    isIndoor: z.boolean().nullable().describe('Indoors or not; null when unknown'),
    deviceName: z.string().nullable().describe('Recording device'),
    revision: z.number().int().describe('Starts at 1; increases each time a re-ingest replaces the promoted fields'),
    duplicateOf: z
      .uuid()
      .nullable()
      .describe('The primary of this activity’s duplicate group (the same workout from another source or file); null on a primary and outside any group'),
    createdAt: z.date().describe('When the activity was created (UTC)'),
    updatedAt: z.date().describe('When the activity was last changed (UTC)'),
  })
  .meta({ id: 'ActivitySummary' });

export const ActivityDetailSchema = ActivitySummarySchema.extend({
  sourceData: z
    .json()
    .nullable()
    .describe('The provider payload as parsed (JSON values; key order and number spelling are not kept). The exact bytes: sourceArchiveKey'),
  sourceArchiveKey: z
    .string()
    .nullable()
    .describe('Object-storage key of the archived body this activity’s payload came from (raw/athlete_id=…/source=…/<sha256>.json.br: the sha256 of the bytes as received, stored brotli-compressed); null for manual entries'),
  sourceArchiveIndex: z.number().int().nullable().describe('Position of the item in that archived body: its index in `activities` (counted on over the Garmin push keys when a Garmin push body holds several)'),
  statistics: z.array(StatisticSchema),
  events: z.array(ActivityEventSchema),
  streams: z.array(StreamMetadataSchema).describe('Time series stored for this activity'),
  children: z.array(ActivitySummarySchema).describe('Children of a session, in time order'),
  duplicates: z.array(DuplicateMemberSchema).describe('The other members of this activity’s duplicate group (empty outside any group)'),
  fieldSources: z
    .record(z.string(), z.uuid())
    .describe('Fields this activity lacks (null) that were filled from another member of its group, by source priority: field name → that member’s id'),
  memberStreams: z
    .array(StreamMetadataSchema.extend({ activityId: uuid('The group member the stream belongs to') }))
    .describe('Stream types this activity lacks, from the first member by priority that has each (read them under that activityId)'),
}).meta({ id: 'ActivityDetail' });

const commaList = <T extends z.ZodType<string, string>>(item: T, description: string) =>
  text({ max: 2000 })
    .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(item).min(1).max(100))
    .describe(description);


export const ActivityListQuerySchema = z.strictObject({
  athleteId: uuid('Only this athlete (one of mine); default all my athletes').optional(),
  activityType: commaList(ActivityTypeSlug, 'Comma-separated slugs, e.g. running,trail_running').optional(),
  category: z.enum(ACTIVITY_CATEGORIES).optional().describe('Only types of this catalog category'),
  source: commaList(z.enum(ACTIVITY_SOURCES), 'Comma-separated sources, e.g. strava,garmin').optional(),
  startTimeFrom: DateTimeInputSchema.optional().describe('Only activities starting at or after this instant (ISO 8601 with an offset)'),
  startTimeTo: DateTimeInputSchema.optional().describe('Only activities starting before this instant (ISO 8601 with an offset)'),
  topLevelOnly: z.boolean().optional().describe('true: leave out children of sessions'),
  parentId: uuid('Only the children of this session').optional(),
  cursor: text({ max: 500 }).optional().describe('nextCursor of the previous page'),
  limit: z.number().int().min(1).max(200).optional().describe('Page size, 1–200, default 50'),
  includeTotals: z.boolean().optional().describe('true: add totals (count, distance, duration) of the whole filtered set; a duplicate group counts once'),
  includeDuplicates: z
    .boolean()
    .optional()
    .describe('true: every member of every duplicate group (each with duplicateOf); default: one item per group (its primary) plus activities in no group'),
});

export const ActivityListItemSchema = ActivitySummarySchema.extend({
  duplicateCount: z.number().int().describe('How many other activities are copies of this one (0 outside any group, and on non-primary members)'),
  fieldSources: z
    .record(z.string(), z.uuid())
    .describe(
      'In the default list (one item per group), the promoted fields a primary lacks (null) filled from another member of its group, by source priority: field name → that member’s id; as totals count them. Empty otherwise (includeDuplicates lists every member as stored)',
    ),
}).meta({ id: 'ActivityListItem' });

export const ActivityListSchema = listOf(ActivityListItemSchema)
  .extend({
  totals: z
    .object({
      count: z.number().int(),
      distanceM: z.number().describe('Sum of distanceM, metres'),
      durationS: z.number().describe('Sum of durationS, seconds (a duplicate group counts once, with its primary’s figures)'),
    })
    .optional()
    .describe('With includeTotals=true: totals of every activity matching the filters (not just this page)'),
  })
  .meta({ id: 'ActivityList' });

const route = { tags: ['Activities'] as string[] };
const IdInput = z.strictObject({ id: uuid('Activity id') });

export const activitiesContract = {
  list: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activities',
      operationId: 'listActivities',
      summary: 'List activities (the timeline), newest first',
    })
    .input(ActivityListQuerySchema)
    .output(ActivityListSchema),
  get: signedIn
    .route({ ...route, method: 'GET', path: '/v1/activities/{id}', operationId: 'getActivity', summary: 'Get one activity with its details' })
    .input(IdInput)
    .output(ActivityDetailSchema),
  create: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/activities',
      operationId: 'createActivity',
      summary: 'Create an activity, optionally with statistics, events and children, in one transaction',
      successStatus: 201,
    })
    .errors({
      CONFLICT: {
        status: 409,
        message: 'An activity with this source and externalId exists for the athlete (existingId names it)',
        data: ActivityExistsDataSchema,
      },
    })
    .input(ActivityCreateSchema)
    .output(ActivityDetailSchema),
  update: signedInWrite
    .route({
      ...route,
      method: 'PATCH',
      path: '/v1/activities/{id}',
      operationId: 'updateActivity',
      summary: 'Update an activity (sourceData never changes)',
    })
    .errors({ CONFLICT: { status: 409, message: 'A concurrent change to the same session conflicted; retry' } })
    .input(ActivityUpdateSchema)
    .output(ActivityDetailSchema),
  delete: signedInWrite
    .route({
      ...route,
      method: 'DELETE',
      path: '/v1/activities/{id}',
      operationId: 'deleteActivity',
      summary: 'Delete an activity with its children, statistics, events and streams',
      successStatus: 204,
    })
    .input(IdInput)
    .output(z.void()),
  joinDuplicateGroup: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/activities/{id}/duplicate-of',
      operationId: 'joinDuplicateGroup',
      summary: 'Mark an activity as a duplicate of another (joins its group; sticky across re-syncs and re-imports)',
    })
    .input(DuplicateOfInputSchema)
    .output(ActivityDetailSchema),
  leaveDuplicateGroup: signedInWrite
    .route({
      ...route,
      method: 'DELETE',
      path: '/v1/activities/{id}/duplicate-of',
      operationId: 'leaveDuplicateGroup',
      summary: 'Split an activity out of its duplicate group ("not a duplicate"; sticky: detection never regroups the pair)',
    })
    .input(IdInput)
    .output(ActivityDetailSchema),
  makePrimary: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/activities/{id}/primary',
      operationId: 'makeDuplicatePrimary',
      summary: 'Make an activity its duplicate group’s primary, whatever the source priority says (sticky)',
    })
    .input(IdInput)
    .output(ActivityDetailSchema),
};

export type ActivityCreate = z.output<typeof ActivityCreateSchema>;
export type ActivityChildCreate = z.output<typeof ActivityChildCreateSchema>;
export type ActivityUpdate = z.output<typeof ActivityUpdateSchema>;
export type ActivityListQuery = z.output<typeof ActivityListQuerySchema>;
export type ActivitySummary = z.output<typeof ActivitySummarySchema>;
export type ActivityDetail = z.output<typeof ActivityDetailSchema>;
export type ActivityList = z.output<typeof ActivityListSchema>;
export type ActivityListItem = z.output<typeof ActivityListItemSchema>;
