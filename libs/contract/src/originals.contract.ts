import * as z from 'zod';
import { listOf, text, uuid } from './common.js';
import { signedIn } from './errors.js';

export const ORIGINAL_STATUSES = ['imported', 'rejected'] as const;

export const OriginalSchema = z
  .object({
    sha256: z.string().describe('SHA-256 (hex) of the bytes as received: the original’s name, the same bytes are one original'),
    source: z.string().describe('`file` for an imported file, else the sync source whose batch body this is (healthkit, strava, garmin, health_connect)'),
    fileName: z.string().nullable().describe('The file as uploaded ("rides.zip/broken.fit"); null for a sync body and for originals archived before they were listed'),
    format: z.string().nullable().describe('fit, gpx, tcx, apple_health (one workout of an export, as JSON) or json (a sync body); null when the importer could not tell'),
    byteSize: z.number().int().nullable().describe('Bytes as received; null for originals archived before they were listed'),
    storedByteSize: z.number().int().nullable().describe('Bytes held in object storage (brotli-compressed); what the original counts in the athlete’s storage'),
    receivedAt: z.date().describe('When the bytes were first received'),
    status: z.enum(ORIGINAL_STATUSES).describe('imported: activities were made from it (or it is a sync body); rejected: the importer could not read it, see reason'),
    reason: z.string().nullable().describe('Why the file was rejected'),
    activityIds: z.array(z.uuid()).describe('Top-level activities whose newest payload came from this original'),
  })
  .meta({ id: 'Original' });

export const OriginalListSchema = listOf(OriginalSchema)
  .extend({
    totals: z
      .object({
        count: z.number().int().describe('Originals of the athlete matching the filter'),
        byteSize: z.number().int().describe('Their bytes as received (those measured)'),
        storedByteSize: z.number().int().describe('Their bytes in object storage (those measured)'),
      })
      .describe('Over every page'),
  })
  .meta({ id: 'OriginalList' });

const route = { tags: ['Originals'] as string[] };

export const originalsContract = {
  list: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/athletes/{id}/originals',
      operationId: 'listOriginals',
      summary: 'Every archived original of the athlete: imported files (rejected ones too) and sync batch bodies, newest first',
    })
    .input(
      z.strictObject({
        id: uuid('Athlete id'),
        status: z.enum(ORIGINAL_STATUSES).optional().describe('Only imported or only rejected originals'),
        cursor: text({ max: 500 }).optional().describe('nextCursor of the previous page'),
        limit: z.number().int().min(1).max(200).optional().describe('Page size, 1–200, default 50'),
      }),
    )
    .output(OriginalListSchema),
  get: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/athletes/{id}/originals/{sha256}',
      operationId: 'getOriginal',
      summary: 'The exact bytes of one archived original',
      description: 'The file or sync body exactly as received (decompressed from storage). `x-original-sha256` repeats its name.',
      outputStructure: 'detailed',
    })
    .input(
      z.strictObject({
        id: uuid('Athlete id'),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256').describe('The original’s SHA-256 (hex)'),
      }),
    )
    .output(
      z.object({
        headers: z.object({ 'content-disposition': z.string(), 'x-original-sha256': z.string() }),
        body: z.file(),
      }),
    ),
};

export type Original = z.output<typeof OriginalSchema>;
export type OriginalList = z.output<typeof OriginalListSchema>;
