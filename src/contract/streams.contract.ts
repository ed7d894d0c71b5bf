import * as z from 'zod';
import { STREAM_TYPES } from '../modules/streams/stream-types.js';

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
