import { randomBytes } from 'node:crypto';
import type { StreamType } from '../stream-types.js';

/**
 * A new, time-ordered version per upload: `v=<epoch ms, 13 digits>-<8 random hex>`. Never reused,
 * so no upload can overwrite (or the drain delete) an object that a row points at.
 */
export const newStreamVersion = (now = Date.now()) => `${String(now).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;

/**
 * DATA-MODEL §10: Hive-style, so DuckDB, Spark or Trino read the lake without the API, and globbable
 * per type: `streams/*\/*\/stream_type=heart_rate/*.parquet` is every heart-rate object.
 */
export const streamObjectKey = (athleteId: string, activityId: string, type: StreamType, version: string) =>
  `streams/athlete_id=${athleteId}/activity_id=${activityId}/stream_type=${type}/v=${version}.parquet`;

/** The prefix under which every version of one stream lives. */
export const streamObjectPrefix = (athleteId: string, activityId: string, type: StreamType) =>
  `streams/athlete_id=${athleteId}/activity_id=${activityId}/stream_type=${type}/`;
