import * as z from 'zod';
import { PARQUET_MEDIA_TYPE, STREAM_TYPES } from './catalog.js';
import { DATE_TIME_FORM, DateTimeInputSchema, INSTANT_RANGE_MESSAGE, MAX_INSTANT_MS, MIN_INSTANT_MS, text } from './common.js';
import { signedIn, signedInWrite } from './errors.js';
import { documentRequestAs } from './request-media-type.js';

export const StreamTypeSchema = z
  .enum(STREAM_TYPES)
  .describe(
    'heart_rate (bpm), position (latitude/longitude decimal degrees WGS84, altitudeM m, horizontalAccuracyM m), ' +
      'altitude (m), speed (m/s), power (W), cadence (rpm or steps/min), distance (m, cumulative), temperature (°C)',
  );

export const StreamMetadataSchema = z
  .object({
    streamType: StreamTypeSchema,
    sampleCount: z.number().int().describe('Number of samples'),
    startTime: z.date().describe('Timestamp of the first sample (UTC)'),
    endTime: z.date().describe('Timestamp of the last sample (UTC)'),
    minValue: z.number().nullable().describe('Smallest value, in the stream type’s unit (null for position)'),
    maxValue: z.number().nullable().describe('Largest value (null for position)'),
    avgValue: z.number().nullable().describe('Mean value (null for position)'),
    byteSize: z.number().int().describe('Size of the stored Parquet object, bytes'),
    checksumSha256: z.string().describe('SHA-256 of the stored Parquet object, hex'),
    format: z.literal('parquet').describe('Storage format of the samples'),
    schemaVersion: z.number().int().describe('Version of the Parquet layout (DATA-MODEL §10)'),
    updatedAt: z.date().describe('When the stream was last uploaded'),
  })
  .meta({ id: 'StreamMetadata' });

export type StreamMetadata = z.output<typeof StreamMetadataSchema>;

const route = { tags: ['Streams'] as string[] };
const ActivityId = z.uuid().describe('Activity id (UUID)');

const Numbers = (description: string) => z.array(z.number()).describe(description);
const NullableNumbers = (description: string) => z.array(z.number().nullable()).describe(description);

/** Samples as columns, for upload and download (API.md). Which value columns apply depends on the stream type. */
export const StreamColumnsSchema = z
  .strictObject({
    timestamps: z
      .array(z.union([z.number(), text({ max: 40 })]))
      .describe('Sample times: epoch milliseconds (UTC), or ISO 8601 strings on upload; non-decreasing'),
    values: Numbers('Scalar streams: one value per timestamp, in the stream type’s unit').optional(),
    latitude: Numbers('position: latitude, decimal degrees WGS84').optional(),
    longitude: Numbers('position: longitude, decimal degrees WGS84').optional(),
    altitudeM: NullableNumbers('position (optional): altitude, metres').optional(),
    horizontalAccuracyM: NullableNumbers('position (optional): horizontal accuracy, metres').optional(),
  })
  .meta({ id: 'StreamColumns' });

export const StreamSamplesSchema = z
  .object({
    streamType: StreamTypeSchema,
    sampleCount: z.number().int().describe('Samples stored'),
    returnedCount: z.number().int().describe('Samples in this response (≤ maxPoints when downsampled)'),
    downsampled: z.boolean(),
    timestamps: z.array(z.number()).describe('Epoch milliseconds (UTC)'),
    values: z.array(z.number()).optional(),
    latitude: z.array(z.number()).optional(),
    longitude: z.array(z.number()).optional(),
    altitudeM: z.array(z.number().nullable()).optional(),
    horizontalAccuracyM: z.array(z.number().nullable()).optional(),
  })
  .meta({ id: 'StreamSamples' });

/**
 * One end of a time range of a stream read: epoch milliseconds, or a date-time as every other
 * instant of the contract (DateTimeInputSchema: ISO 8601 with an offset; a Date over RPC), years
 * 1900–2200 either way; epoch milliseconds inside.
 */
const StreamInstantSchema = (description: string) =>
  z
    .union(
      [z.number().int().min(MIN_INSTANT_MS, { error: INSTANT_RANGE_MESSAGE }).max(MAX_INSTANT_MS, { error: INSTANT_RANGE_MESSAGE }), DateTimeInputSchema],
      { error: `must be epoch milliseconds (UTC) or ${DATE_TIME_FORM}` },
    )
    .transform((value) => (typeof value === 'number' ? value : value.getTime()))
    .describe(`${description}: epoch milliseconds (UTC) or an ISO 8601 date-time with an offset, years 1900–2200`);

export const StreamReadQuerySchema = z
  .strictObject({
    id: ActivityId,
    type: StreamTypeSchema,
    from: StreamInstantSchema('Only samples at or after this instant').optional(),
    to: StreamInstantSchema('Only samples before this instant (half-open: a sample at `to` is left out)').optional(),
    maxPoints: z
      .number()
      .int()
      .min(3)
      .max(2_000_000)
      .optional()
      .describe('Downsample to at most this many points, keeping the shape (LTTB; track simplification for position); with from/to, the samples of the range'),
  })
  .superRefine((input, ctx) => {
    // A cross-field rule: readable, but broken (422, as endTime before startTime).
    if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    }
  });

export const streamsContract = {
  list: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activities/{id}/streams',
      operationId: 'listStreams',
      summary: 'List the streams of an activity (metadata only)',
    })
    .input(z.strictObject({ id: ActivityId }))
    .output(z.object({ items: z.array(StreamMetadataSchema), nextCursor: z.null() }).meta({ id: 'StreamList' })),
  upload: signedInWrite
    .route({
      ...route,
      method: 'PUT',
      path: '/v1/activities/{id}/streams/{type}',
      operationId: 'uploadStream',
      summary: 'Upload (or replace) one stream as JSON columns',
      description:
        'Body: `{ timestamps, values }`, or for position `{ timestamps, latitude, longitude, altitudeM?, horizontalAccuracyM? }`. ' +
        'At most 2,000,000 samples (413 beyond); samples must lie within the activity’s time window (±60 s). ' +
        'A Parquet file goes to PUT /v1/activities/{id}/streams/{type}/file (this path still accepts one, ' +
        `Content-Type ${PARQUET_MEDIA_TYPE} or application/octet-stream, and the RPC procedure takes a File).`,
      inputStructure: 'detailed',
      // One documented body, so that generated clients send JSON here and a Blob to /file.
      spec: documentRequestAs('application/json'),
    })
    .input(
      z.object({
        params: z.strictObject({ id: ActivityId, type: StreamTypeSchema }),
        // No query parameters; strict, so a misspelt one answers 400 as on every other operation.
        query: z.strictObject({}).optional(),
        body: z.union([StreamColumnsSchema, z.file().mime(PARQUET_MEDIA_TYPE).describe('A Parquet file')]),
      }),
    )
    .output(StreamMetadataSchema),
  uploadFile: signedInWrite
    .route({
      ...route,
      method: 'PUT',
      path: '/v1/activities/{id}/streams/{type}/file',
      operationId: 'uploadStreamFile',
      summary: 'Upload (or replace) one stream as a Parquet file: the counterpart of the file download',
      description:
        `Body: a Parquet file (Content-Type ${PARQUET_MEDIA_TYPE}; application/octet-stream is accepted too) with a timestamp ` +
        'column (INT64 TIMESTAMP millis) and `value`, or `latitude`/`longitude` (+ `altitude_m`, `horizontal_accuracy_m`): ' +
        'the schema GET …/file answers. The same limits and time window as the JSON upload on PUT /v1/activities/{id}/streams/{type}.',
      inputStructure: 'detailed',
    })
    .input(
      z.object({
        params: z.strictObject({ id: ActivityId, type: StreamTypeSchema }),
        query: z.strictObject({}).optional(),
        body: z.file().mime(PARQUET_MEDIA_TYPE).describe('A Parquet file of the documented schema'),
      }),
    )
    .output(StreamMetadataSchema),
  get: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activities/{id}/streams/{type}',
      operationId: 'getStream',
      summary: 'Get the samples of one stream as JSON columns, optionally a time range of it, optionally downsampled',
      description:
        '`from` and `to` (epoch milliseconds or ISO 8601 date-times with an offset) select the samples in [from, to): ' +
        'a sample at `from` is included, one at `to` is not; either may be left out. A range with no samples ' +
        '(empty, or outside the stream) answers an empty stream; `from` after `to` is a 422. Only the parts of the ' +
        'stored object whose time statistics overlap the range are read. `maxPoints` downsamples the samples of ' +
        'the range. `sampleCount` is always the number of samples stored; `returnedCount` those in the answer.',
    })
    .input(StreamReadQuerySchema)
    .output(StreamSamplesSchema),
  download: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/activities/{id}/streams/{type}/file',
      operationId: 'downloadStream',
      summary: 'Download the stored Parquet file (on S3: a redirect to a short-lived presigned URL)',
      outputStructure: 'detailed',
    })
    .input(
      z.strictObject({
        id: ActivityId,
        type: StreamTypeSchema,
        redirect: z
          .boolean()
          .optional()
          .describe('false: stream the bytes through the API even when a presigned URL is available'),
      }),
    )
    .output(
      z.union([
        z.object({ status: z.literal(200), headers: z.object({ 'content-disposition': z.string() }), body: z.file().mime(PARQUET_MEDIA_TYPE) }),
        z.object({ status: z.literal(307), headers: z.object({ location: z.string() }) }),
      ]),
    ),
  delete: signedInWrite
    .route({
      ...route,
      method: 'DELETE',
      path: '/v1/activities/{id}/streams/{type}',
      operationId: 'deleteStream',
      summary: 'Delete one stream and its stored object',
      successStatus: 204,
    })
    .input(z.strictObject({ id: ActivityId, type: StreamTypeSchema }))
    .output(z.void()),
};

export type StreamColumns = z.output<typeof StreamColumnsSchema>;
export type StreamSamplesOutput = z.output<typeof StreamSamplesSchema>;
