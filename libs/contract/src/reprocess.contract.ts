import * as z from 'zod';
import { ACTIVITY_SOURCES } from './catalog.js';
import { DateTimeInputSchema, uuid } from './common.js';
import { signedIn, signedInWrite } from './errors.js';

/** At most this many entries in a reprocess job's `changes` and `failures` (the counts are always complete). */
export const REPROCESS_LIST_CAP = 1000;

const ReprocessChangeSchema = z.object({
  activityId: uuid('The activity changed or created; null for one a dry run would create').nullable(),
  sha256: z.string().describe('The original it was derived from'),
  outcome: z.enum(['updated', 'created']),
  fields: z.array(z.string()).describe('Fields whose re-derived value differs (statistics, events and sourceData as one each; children as `children[i].<field>`)'),
  streams: z.array(z.string()).describe('Stream types whose samples differ'),
});

const ReprocessFailureSchema = z.object({
  activityId: uuid('The activity left as it was; null for an original with no activity').nullable(),
  sha256: z.string().describe('Its original'),
  reason: z.string().describe('Why the original cannot be derived again'),
});

export const ReprocessResultSchema = z
  .object({
    unchanged: z.number().int().describe('Activities whose re-derived values equal the stored ones'),
    updated: z.number().int().describe('Activities rewritten (revision + 1); in a dry run, those that would be'),
    created: z.number().int().describe('Activities made from originals that were rejected before and parse now'),
    failed: z.number().int().describe('Activities whose original no longer derives (left as they are, reason in failures)'),
    stillRejected: z.number().int().describe('Rejected originals that still cannot be read'),
    skipped: z.number().int().describe('Activities that cannot be derived again (Apple Health workouts are archived as parsed JSON, not as the export)'),
    changes: z.array(ReprocessChangeSchema).describe(`What changed, at most ${REPROCESS_LIST_CAP} entries`),
    failures: z.array(ReprocessFailureSchema).describe(`Why activities failed, at most ${REPROCESS_LIST_CAP} entries`),
    truncated: z.boolean().describe('True when changes or failures were cut at the cap'),
  })
  .meta({ id: 'ReprocessResult' });

export const ReprocessJobSchema = z
  .object({
    id: uuid('Reprocess job id'),
    athleteId: uuid('Athlete reprocessed'),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    dryRun: z.boolean().describe('True: nothing is written, the result says what would change'),
    sources: z.array(z.enum(ACTIVITY_SOURCES)).nullable().describe('Only originals of these sources; null for all'),
    since: z.date().nullable().describe('Only originals received at or after this instant'),
    progress: z.object({ done: z.number().int(), total: z.number().int().nullable().describe('Originals to look at, once counted') }),
    result: ReprocessResultSchema.nullable().describe('So far while running; complete once completed'),
    error: z.string().nullable().describe('Why the job failed'),
    createdAt: z.date(),
    startedAt: z.date().nullable(),
    finishedAt: z.date().nullable(),
  })
  .meta({ id: 'ReprocessJob' });

const route = { tags: ['Reprocess'] as string[] };

export const reprocessContract = {
  create: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/reprocess',
      operationId: 'createReprocess',
      summary: 'Derive every activity again from its archived original with today’s parsers and mappers (a job)',
      description:
        'Answers 202 with a job, polled at GET /v1/reprocess/{jobId}. Each activity keeps its id and external id; one whose re-derived values differ ' +
        'gets revision + 1, and only streams whose samples differ are rewritten. Fields the user edited (PATCH) since the activity was ingested are kept. ' +
        'Rejected files that parse now become activities; an activity whose original no longer parses stays as it is and is reported in failures. ' +
        '`dryRun` writes nothing.',
      successStatus: 202,
    })
    .input(
      z.strictObject({
        id: uuid('Athlete id'),
        sources: z.array(z.enum(ACTIVITY_SOURCES)).min(1).max(ACTIVITY_SOURCES.length).optional().describe('Only originals of these sources (file, healthkit, strava, garmin, health_connect)'),
        since: DateTimeInputSchema.optional().describe('Only originals received at or after this instant (ISO 8601 with an offset)'),
        dryRun: z.boolean().optional().describe('Report what would change, write nothing'),
      }),
    )
    .output(ReprocessJobSchema),
  getJob: signedIn
    .route({ ...route, method: 'GET', path: '/v1/reprocess/{jobId}', operationId: 'getReprocessJob', summary: 'Progress and result of a reprocess' })
    .input(z.strictObject({ jobId: uuid('Reprocess job id') }))
    .output(ReprocessJobSchema),
};

export type ReprocessJob = z.output<typeof ReprocessJobSchema>;
export type ReprocessResult = z.output<typeof ReprocessResultSchema>;
