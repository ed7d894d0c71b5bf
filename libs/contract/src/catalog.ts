/**
 * The closed vocabularies of the public API (DATA-MODEL §2, §3, §4, §7). Pure data, so the contract
 * package carries them to clients; the server's database schema and modules import them from here.
 */

/** Where an activity came from. Fixed in code (not a DB enum) so adding a source needs no migration. */
export const ACTIVITY_SOURCES = ['manual', 'healthkit', 'strava', 'garmin', 'health_connect', 'file'] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

export const EVENT_TYPES = ['pause', 'resume', 'lap', 'segment', 'marker', 'motion_paused', 'motion_resumed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const ATHLETE_SEXES = ['female', 'male', 'other'] as const;
export type AthleteSex = (typeof ATHLETE_SEXES)[number];

/** The fixed set of stream types an activity can carry (DATA-MODEL §7). */
export const STREAM_TYPES = ['heart_rate', 'position', 'altitude', 'speed', 'power', 'cadence', 'distance', 'temperature'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/** Media type of a stream's stored samples (upload and download). */
export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet';
