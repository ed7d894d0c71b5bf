import * as z from 'zod';
import { uuid } from './common.js';
import { signedIn, signedInWrite } from './errors.js';

/** How long a finished export stays downloadable. */
export const EXPORT_RETENTION_DAYS = 7;
/** The version of the export zip's layout, in its manifest.json (`formatVersion`). */
export const EXPORT_FORMAT_VERSION = 1;

export const ExportJobSchema = z
  .object({
    id: uuid('Export job id'),
    athleteId: uuid('Athlete exported'),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    byteSize: z.number().int().nullable().describe('Size of the zip once written'),
    sha256: z.string().nullable().describe('SHA-256 (hex) of the zip once written'),
    counts: z
      .object({
        activities: z.number().int().describe('Lines of activities.ndjson (children included)'),
        streams: z.number().int().describe('Parquet objects under streams/'),
        originals: z.number().int().describe('Files and sync bodies under originals/'),
        gpx: z.number().int().describe('GPX tracks under gpx/'),
      })
      .nullable()
      .describe('What the zip holds, once written'),
    error: z.string().nullable().describe('Why the export failed'),
    createdAt: z.date(),
    startedAt: z.date().nullable(),
    finishedAt: z.date().nullable(),
    expiresAt: z.date().nullable().describe(`When the zip is removed (${EXPORT_RETENTION_DAYS} days after it was written)`),
  })
  .meta({ id: 'ExportJob' });

const route = { tags: ['Exports'] as string[] };
const JobId = z.strictObject({ jobId: uuid('Export job id') });

export const exportsContract = {
  create: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/exports',
      operationId: 'createExport',
      summary: 'Export everything of an athlete as one zip (a job)',
      description:
        'Answers 202 with a job, polled at GET /v1/exports/{jobId}. The zip holds manifest.json (format version, athlete, counts, the SHA-256 of every entry), ' +
        'activities.ndjson (each activity in the API’s detail shape), streams/ (the current Parquet objects in the lake layout), originals/ (every archived file ' +
        `and sync body by SHA-256) and gpx/<activityId>.gpx (GPX 1.1 with heart rate and cadence). Kept ${EXPORT_RETENTION_DAYS} days.`,
      successStatus: 202,
    })
    .input(z.strictObject({ id: uuid('Athlete id') }))
    .output(ExportJobSchema),
  getJob: signedIn
    .route({ ...route, method: 'GET', path: '/v1/exports/{jobId}', operationId: 'getExportJob', summary: 'Status and size of an export' })
    .input(JobId)
    .output(ExportJobSchema),
  download: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/exports/{jobId}/download',
      operationId: 'downloadExport',
      summary: 'The export zip (on S3: a redirect to a short-lived presigned URL)',
      description: '409 while the export is not written yet or failed; 404 once it expired.',
      outputStructure: 'detailed',
    })
    .errors({ CONFLICT: { status: 409, message: 'The export is not ready' } })
    .input(JobId)
    .output(
      z.union([
        z.object({ status: z.literal(200), headers: z.object({ 'content-disposition': z.string() }), body: z.file().mime('application/zip') }),
        z.object({ status: z.literal(307), headers: z.object({ location: z.string() }) }),
      ]),
    ),
  activityGpx: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activities/{id}/gpx',
      operationId: 'getActivityGpx',
      summary: 'The activity’s track as GPX 1.1 (the export’s gpx/ entry for it)',
      description:
        'Written from the current position stream, with Garmin’s TrackPointExtension v1 heart rate and cadence where a sample falls at the same instant ' +
        '(values the schema refuses are left out, never clamped). 404 when the activity has no position stream. The exact samples are the Parquet streams ' +
        '(GET /v1/activities/{id}/streams/{type}/file).',
      outputStructure: 'detailed',
    })
    .input(z.object({ id: uuid('Activity id') }))
    .output(z.object({ headers: z.object({ 'content-disposition': z.string() }), body: z.file().mime('application/gpx+xml') })),
};

export type ExportJob = z.output<typeof ExportJobSchema>;
