import * as z from 'zod';
import { uuid } from './common.js';
import { signedIn, signedInWrite } from './errors.js';
import { documentRequestAs } from './request-media-type.js';

/** Largest multipart upload accepted by POST /v1/athletes/{id}/imports; bigger collections go through the CLI. */
export const MAX_IMPORT_UPLOAD_BYTES = 128 * 1024 * 1024;
/** Uploads larger than this (in total) or with more files than IMPORT_ASYNC_FILES become a job. */
export const IMPORT_ASYNC_BYTES = 16 * 1024 * 1024;
export const IMPORT_ASYNC_FILES = 20;

export const ImportFileResultSchema = z
  .object({
    fileName: z.string().describe('The file as uploaded; entries of an archive as "archive.zip/entry.fit"'),
    status: z
      .enum(['created', 'skipped', 'rejected'])
      .describe('created: imported; skipped: this exact file (same SHA-256) was imported before; rejected: unreadable, see reason'),
    format: z.enum(['fit', 'gpx', 'tcx', 'apple_health']).nullable().describe('Detected format'),
    sha256: z.string().nullable().describe('SHA-256 of the file’s bytes (after gunzip/unzip): its external id under source "file"'),
    activityIds: z.array(z.uuid()).describe('Top-level activities created from the file (their children are in each activity’s detail)'),
    existingIds: z.array(z.uuid()).describe('For skipped files: the activities imported earlier'),
    reason: z.string().nullable().describe('Why the file was rejected'),
    warnings: z.array(z.string()).describe('What was skipped or repaired while reading the file'),
    sampleCount: z.number().int().describe('Stream samples stored'),
  })
  .meta({ id: 'ImportFileResult' });

export const ImportSummarySchema = z.object({
  created: z.number().int().describe('Files imported'),
  skipped: z.number().int().describe('Files already imported before'),
  rejected: z.number().int().describe('Files that could not be read'),
  activities: z.number().int().describe('Top-level activities created'),
  samples: z.number().int().describe('Stream samples stored'),
});

export const ImportResultSchema = z
  .object({
    status: z.literal('completed'),
    summary: ImportSummarySchema,
    files: z.array(ImportFileResultSchema),
  })
  .meta({ id: 'ImportResult' });

export const ImportJobSchema = z
  .object({
    id: uuid('Job id'),
    athleteId: uuid('Athlete the files are imported for'),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    filesTotal: z.number().int().describe('Uploaded files (an archive counts as one until it is opened)'),
    filesDone: z.number().int().describe('Uploaded files processed so far'),
    summary: ImportSummarySchema,
    files: z.array(ImportFileResultSchema).describe('Per-file results so far'),
    error: z.string().nullable().describe('Why the job stopped, if it failed'),
    createdAt: z.date(),
    startedAt: z.date().nullable(),
    finishedAt: z.date().nullable(),
  })
  .meta({ id: 'ImportJob' });

const route = { tags: ['Imports'] as string[] };

export const importsContract = {
  create: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/imports',
      operationId: 'importFiles',
      summary: 'Import FIT, GPX or TCX files (plain, gzipped or zipped) or an Apple Health export.zip',
      description:
        'multipart/form-data with one or many `files` fields, at most 128 MiB in total (413 beyond). Answers 200 with one ' +
        'result per file (an archive counts as its entries): created, skipped as a duplicate (same SHA-256, whatever the ' +
        'name) or rejected with the reason; a bad file fails alone. Uploads over 16 MiB or 20 files, or with `async=true`, ' +
        'become a job: 202 with its id, polled at GET /v1/imports/{jobId}.',
      inputStructure: 'detailed',
      outputStructure: 'detailed',
      // oRPC would document the files object as JSON too; the route reads multipart only.
      spec: documentRequestAs('multipart/form-data'),
    })
    .input(
      z.object({
        params: z.object({ id: uuid('Athlete id') }),
        query: z.object({
          async: z
            .enum(['true', 'false'])
            .transform((value) => value === 'true')
            .optional()
            .describe('true: always answer 202 with a job, however small the upload'),
        }),
        // Optional here so that ownership is checked first (404); no files at all is a 400 from the service.
        body: z.object({ files: z.array(z.file()).max(1000).optional().describe('The files (multipart field `files`, repeated; at least one)') }),
      }),
    )
    .output(
      z.union([
        z.object({ status: z.literal(200), body: ImportResultSchema }),
        z.object({ status: z.literal(202), body: ImportJobSchema }),
      ]),
    ),
  getJob: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/imports/{jobId}',
      operationId: 'getImportJob',
      summary: 'Progress and per-file results of an import job',
    })
    .input(z.object({ jobId: uuid('Job id') }))
    .output(ImportJobSchema),
  original: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activities/{id}/original',
      operationId: 'getActivityOriginal',
      summary: 'The exact bytes the activity came from: the imported file, or the provider item of a synced activity',
      description:
        'For a file import, the file as uploaded. For an activity synced from a provider, its item (JSON) exactly as it was in the archived batch body, ' +
        'cut out of those bytes, not re-serialised. `x-archive-key` names the archived object (the file, or the whole batch body). 404 for an activity entered by hand.',
      outputStructure: 'detailed',
    })
    .input(z.object({ id: uuid('Activity id') }))
    .output(
      z.object({
        headers: z.object({
          'content-disposition': z.string(),
          'x-archive-key': z.string().describe('Object-storage key of the archived original: the file, or the batch body the item came in (the batch answer’s archiveKey)'),
        }),
        body: z.file(),
      }),
    ),
};

export type ImportFileResult = z.output<typeof ImportFileResultSchema>;
export type ImportSummary = z.output<typeof ImportSummarySchema>;
export type ImportResult = z.output<typeof ImportResultSchema>;
export type ImportJob = z.output<typeof ImportJobSchema>;
