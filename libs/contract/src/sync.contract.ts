import * as z from 'zod';
import { NotAWorkoutDataSchema, signedIn, signedInWrite, SyncRunningDataSchema } from './errors.js';
import { GARMIN_WELLNESS_KEYS, GARMIN_WORKOUT_KEYS, SYNC_SOURCES } from './provider-payloads.js';

const route = { tags: ['Sync'] as string[] };
const AthleteId = z.uuid().describe('Athlete id (UUID)');

export const SyncSourceSchema = z.enum(SYNC_SOURCES as ['healthkit', 'strava', 'garmin', 'health_connect']).describe('Where the data comes from');

/** At most this many activities per batch (413 beyond). */
export const MAX_BATCH_ACTIVITIES = 500;
/** Largest batch body in bytes (413 beyond): 500 activities with inline streams of a few hours each. */
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;
/** A `running` sync with no batch and no start for this long can be taken over by another start. */
export const STALE_RUN_SECONDS = 15 * 60;

export const SyncStateSchema = z
  .object({
    athleteId: z.uuid(),
    source: SyncSourceSchema,
    cursor: z.string().nullable().describe('Opaque to the server: a HealthKit anchor, a Health Connect changes token, a Strava epoch, a Garmin upload window'),
    status: z.enum(['idle', 'running', 'error']),
    lastSyncedAt: z.date().nullable().describe('When a sync last finished successfully'),
    lastAttemptAt: z.date().nullable().describe('When a sync was last started or a batch last arrived'),
    lastError: z.string().nullable().describe('The message of the last failed sync; cleared by the next start'),
    runStartedAt: z.date().nullable().describe('When the current (or last) run started'),
    lastBatchAt: z.date().nullable().describe('When the last batch was accepted'),
    counters: z
      .object({
        created: z.number().int(),
        updated: z.number().int(),
        unchanged: z.number().int(),
        deleted: z.number().int(),
        batches: z.number().int(),
      })
      .describe('Over the life of this state'),
    updatedAt: z.date().nullable().describe('null until the first start, update or batch'),
  })
  .meta({ id: 'SyncState' });

const Params = z.object({ id: AthleteId, source: SyncSourceSchema });

const OUTCOMES = ['created', 'updated', 'unchanged', 'superseded'] as const;

const GarminPushItems = (key: string, what: string) =>
  z
    .array(z.looseObject({}))
    .max(MAX_BATCH_ACTIVITIES * 100)
    .optional()
    .describe(`garmin only: a Garmin push body's \`${key}\` (${what})`);

/** A Garmin push body may be sent as it arrives: its top-level key names the summary type. */
const garminPushFields = {
  ...Object.fromEntries(
    GARMIN_WORKOUT_KEYS.map((key) => [key, GarminPushItems(key, key === 'activityDetails' ? 'GarminActivityDetails items: summary, samples → streams, laps → lap events' : 'GarminActivity items')]),
  ),
  ...Object.fromEntries(GARMIN_WELLNESS_KEYS.map((key) => [key, GarminPushItems(key, 'wellness summaries, never activities: each item is answered `ignored`')])),
} as Record<(typeof GARMIN_WORKOUT_KEYS)[number] | (typeof GARMIN_WELLNESS_KEYS)[number], ReturnType<typeof GarminPushItems>>;

/** The body fields that hold items, in the order their items are counted for `sourceArchiveIndex`. */
export const SYNC_ITEM_FIELDS = ['activities', ...GARMIN_WORKOUT_KEYS, ...GARMIN_WELLNESS_KEYS] as const;
export type SyncItemField = (typeof SYNC_ITEM_FIELDS)[number];

export const SyncBatchSchema = z
  .object({
    activities: z
      .array(z.looseObject({}))
      .max(MAX_BATCH_ACTIVITIES * 100)
      .optional()
      .describe(
        `Up to ${MAX_BATCH_ACTIVITIES} items in the provider's own shape, by source: healthkit → HealthKitWorkout, strava → StravaActivity, ` +
          'garmin → GarminActivity or GarminActivityDetails, health_connect → HealthConnectExerciseSession (see the schemas). Unknown fields are kept. ' +
          'Required unless a Garmin push key carries the items. Items that are not workouts (a Garmin daily, a Health Connect DistanceRecord) are answered `ignored`.',
      ),
    ...garminPushFields,
    deletedExternalIds: z.array(z.string().min(1).max(200)).max(10_000).optional().describe('Provider ids deleted at the source (HealthKit deleted objects, Health Connect deletion changes)'),
    cursor: z.string().max(10_000).nullable().optional().describe('The cursor to store once this batch is in; omitted leaves it unchanged'),
  })
  .meta({ id: 'SyncBatch' });

const ItemPlace = {
  index: z.number().int().describe('Position in its body field (`field`)'),
  field: z.enum(SYNC_ITEM_FIELDS).describe('The body field the item came in: `activities`, or the Garmin push key'),
};

const StoredItemResult = z.object({
  ...ItemPlace,
  externalId: z.string(),
  id: z.uuid().describe('The activity'),
  outcome: z.enum(OUTCOMES).describe('superseded: the same externalId appears later in the batch, and that later item was stored'),
  revision: z.number().int().describe('The activity’s revision after this batch'),
  supersededBy: z.number().int().optional().describe('For superseded items: the index of the item that won'),
  supersedes: z.array(z.number().int()).optional().describe('Earlier indexes with the same externalId that this item replaced'),
  warnings: z
    .array(z.string())
    .optional()
    .describe('What the server left out or changed of the mapped values, in words (e.g. a moving time longer than the elapsed time is left out)'),
});

const IgnoredItemResult = z.object({
  ...ItemPlace,
  externalId: z.string().nullable().describe('The provider’s id of the item when it has one (Garmin summaryId, Health Connect metadata.id)'),
  outcome: z.literal('ignored').describe('Not a workout: nothing was stored for it (the body is archived whole)'),
  itemType: z.string().describe('What the item is: the Garmin summary type (dailies, epochs, moveIQActivities…) or the Health Connect record type (Distance, Steps…)'),
  reason: z.string().describe('Why it is not a workout, in words'),
});

export const SyncBatchResultSchema = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    deleted: z.number().int(),
    ignored: z.number().int().describe('Items that are not workouts (see results)'),
    results: z
      .array(z.discriminatedUnion('outcome', [StoredItemResult, IgnoredItemResult]))
      .describe('One entry per input item, in input order (`activities` first, then the Garmin push keys in the order of SyncBatch)'),
    deletions: z.array(z.object({ externalId: z.string(), id: z.uuid().nullable(), outcome: z.enum(['deleted', 'not_found']) })),
    archiveKey: z.string().describe('Object-storage key of the archived request body (its exact bytes, brotli-compressed: raw/athlete_id=…/source=…/<sha256>.json.br)'),
    syncState: SyncStateSchema,
  })
  .meta({ id: 'SyncBatchResult' });

export const syncContract = {
  listStates: signedIn
    .route({ ...route, method: 'GET', path: '/v1/athletes/{id}/sync-states', operationId: 'listSyncStates', summary: 'List the athlete’s sync states, one per source' })
    .input(z.object({ id: AthleteId }))
    .output(z.object({ items: z.array(SyncStateSchema), nextCursor: z.null() })),
  getState: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/athletes/{id}/sync-states/{source}',
      operationId: 'getSyncState',
      summary: 'Get one sync state (an idle state with no cursor for a source never synced)',
    })
    .input(Params)
    .output(SyncStateSchema),
  updateState: signedInWrite
    .route({ ...route, method: 'PUT', path: '/v1/athletes/{id}/sync-states/{source}', operationId: 'updateSyncState', summary: 'Set the cursor (e.g. reset it to resync everything)' })
    .input(Params.extend({ cursor: z.string().max(10_000).nullable().describe('The new cursor; null starts over') }))
    .output(SyncStateSchema),
  start: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/sync-states/{source}/start',
      operationId: 'startSync',
      summary: `Begin a sync (→ running). 409 while another run is live; a run with no activity for ${STALE_RUN_SECONDS / 60} minutes is taken over`,
    })
    .errors({ CONFLICT: { status: 409, message: 'Another run of this sync is live (retryAfter says from when it may be taken over)', data: SyncRunningDataSchema } })
    .input(Params)
    .output(SyncStateSchema),
  finish: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/sync-states/{source}/finish',
      operationId: 'finishSync',
      summary: 'End a sync: with `cursor` (→ idle, lastSyncedAt now) or with `error` (→ error; the cursor stays)',
    })
    .input(
      Params.extend({
        cursor: z.string().max(10_000).nullable().optional().describe('The cursor to resume from next time'),
        error: z.string().min(1).max(2000).optional().describe('Why the sync failed'),
      }),
    )
    .output(SyncStateSchema),
  ingestBatch: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/sync/{source}/batches',
      operationId: 'ingestSyncBatch',
      summary: 'Ingest a batch of provider-shaped activities, deletions and the new cursor, all or nothing',
      description:
        `At most ${MAX_BATCH_ACTIVITIES} activities and ${MAX_BATCH_BYTES / 1024 / 1024} MiB (413 beyond). Upserts by (athlete, source, external id); ` +
        'a replay answers "unchanged" and writes nothing; a changed payload bumps `revision`. 422 names the item index and field; nothing is written then. ' +
        'Items that are not workouts (Garmin dailies, epochs, moveIQActivities, sleeps…; Health Connect records other than ExerciseSession) are answered `ignored` with the reason; ' +
        'a batch with nothing else (no workout, no deletion, no cursor) is a 422 with code NOT_A_WORKOUT and writes nothing. ' +
        'A Garmin push body is accepted as it arrives (`{"activityDetails": […]}`, `{"dailies": […]}`…). ' +
        'The exact body is archived in object storage (archiveKey); GET /v1/activities/{id}/original answers an activity’s item from it.',
    })
    .errors({
      CONFLICT: { status: 409, message: 'Another request wrote the same activities at the same time; send the batch again' },
      NOT_A_WORKOUT: { status: 422, message: 'None of the items is a workout and the batch carries nothing else; nothing was written', data: NotAWorkoutDataSchema },
    })
    .input(Params.extend(SyncBatchSchema.shape))
    .output(SyncBatchResultSchema),
};

export type SyncState = z.output<typeof SyncStateSchema>;
export type SyncBatch = z.output<typeof SyncBatchSchema>;
export type SyncBatchResult = z.output<typeof SyncBatchResultSchema>;
