/** One entry per sync source: its payload schema, its mapper, and the way back to its type value. */
import type * as z from 'zod';
import { PROVIDER_PAYLOAD_SCHEMAS, type SyncSource } from '@unified-activity/contract';
import { garminNotAWorkout, garminProviderType, mapGarminPayload } from './garmin.js';
import { healthConnectNotASession, healthConnectProviderType, mapHealthConnectSession } from './health-connect.js';
import { healthKitProviderType, mapHealthKitWorkout } from './healthkit.js';
import type { IgnoredItem, NormalizedActivity } from './normalized.js';
import { mapStravaActivity, stravaProviderType } from './strava.js';

export interface ProviderMapper {
  schema: z.ZodType;
  map(item: never): NormalizedActivity;
  providerType(activityType: string, sourceActivityType: string | null): unknown;
  /** Recognises an item that is not a workout (answered `ignored`, never stored), before the schema sees it; `field` is the body field it came in. */
  notAWorkout?(item: Record<string, unknown>, field: string): IgnoredItem | undefined;
}

/**
 * Bumped when a mapper's output for the same payload changes, so that a replay after such a change
 * re-normalises the stored activities instead of answering "unchanged".
 */
export const MAPPER_VERSION = 3;

export const MAPPERS: Record<SyncSource, ProviderMapper> = {
  healthkit: { schema: PROVIDER_PAYLOAD_SCHEMAS.healthkit, map: mapHealthKitWorkout, providerType: healthKitProviderType },
  strava: { schema: PROVIDER_PAYLOAD_SCHEMAS.strava, map: mapStravaActivity, providerType: stravaProviderType },
  garmin: { schema: PROVIDER_PAYLOAD_SCHEMAS.garmin, map: mapGarminPayload, providerType: garminProviderType, notAWorkout: garminNotAWorkout },
  health_connect: {
    schema: PROVIDER_PAYLOAD_SCHEMAS.health_connect,
    map: mapHealthConnectSession,
    providerType: healthConnectProviderType,
    notAWorkout: healthConnectNotASession,
  },
};
