import * as z from 'zod';
import { text, uuid } from './common.js';
import { publicProcedure, signedIn, signedInWrite } from './errors.js';

/** The providers an athlete's account can be connected to; a deployment offers those it has a client id for. */
export const CONNECTION_PROVIDERS = ['strava', 'garmin'] as const;
export const ConnectionProviderSchema = z.enum(CONNECTION_PROVIDERS).describe('The provider: strava or garmin');

export const ProviderInfoSchema = z
  .object({
    provider: ConnectionProviderSchema,
    scopes: z.array(z.string()).describe('The scopes a connection asks for'),
  })
  .meta({ id: 'Provider' });

export const ProviderListSchema = z.object({ items: z.array(ProviderInfoSchema) }).meta({ id: 'ProviderList' });

export const ConnectionSchema = z
  .object({
    provider: ConnectionProviderSchema,
    status: z
      .enum(['active', 'backfilling', 'rate_limited', 'revoked', 'error'])
      .describe('revoked: the provider refused the tokens (the user withdrew access); connect again'),
    providerAthleteId: z.string().describe("The account's id at the provider"),
    scopes: z.array(z.string()).describe('What the user granted (a scope unticked on the consent page is missing)'),
    connectedAt: z.date(),
    lastEventAt: z.date().nullable().describe('The last event received from the provider'),
    backfill: z.object({
      status: z.enum(['pending', 'running', 'done', 'rate_limited', 'error']),
      fetched: z.number().int().describe('Activities fetched so far'),
      pending: z.number().int().describe('Activities known and not yet fetched'),
      nextAttemptAt: z.date().nullable().describe('When a rate-limited backfill goes on'),
      lastError: z.string().nullable(),
    }),
  })
  .meta({ id: 'Connection' });

export const ConnectionListSchema = z.object({ items: z.array(ConnectionSchema) }).meta({ id: 'ConnectionList' });

/** Largest Strava webhook body accepted (an event is a few hundred bytes). */
export const MAX_WEBHOOK_BYTES = 16 * 1024;

/** A Strava push event (https://developers.strava.com/docs/webhooks/): loose, the body is archived as received. */
export const StravaWebhookEventSchema = z
  .looseObject({
    object_type: z.enum(['activity', 'athlete']),
    object_id: z.number().int(),
    aspect_type: z.enum(['create', 'update', 'delete']),
    owner_id: z.number().int().describe("The athlete's Strava id"),
    subscription_id: z.number().int(),
    event_time: z.number().int().describe('Epoch seconds'),
    updates: z.record(z.string(), z.unknown()).optional().describe('e.g. {"title": "…"} or, for a deauthorization, {"authorized": "false"}'),
  })
  .meta({ id: 'StravaWebhookEvent' });

const AthleteId = uuid('Athlete id');

/** The Garmin push types this server takes (register `${PUBLIC_URL}/api/v1/webhooks/garmin/<type>` for each in Garmin's endpoint configuration). */
export const GARMIN_PUSH_TYPES = ['activities', 'activityDetails', 'activityFiles', 'deregistrations', 'userPermissionsChange'] as const;
export const GarminPushTypeSchema = z.enum(GARMIN_PUSH_TYPES).describe('The summary type, as configured in Garmin\'s endpoint configuration');
export type GarminPushType = z.output<typeof GarminPushTypeSchema>;
/** Largest Garmin push body (activity details carry samples): as a sync batch. */
export const MAX_GARMIN_PUSH_BYTES = 32 * 1024 * 1024;
/** Most items in one Garmin push body. */
export const MAX_GARMIN_PUSH_ITEMS = 5000;

const GarminPushItems = (what: string) =>
  z
    .array(z.looseObject({ userId: text({ max: 200 }).describe('The Garmin user id: picks the connection') }))
    .max(MAX_GARMIN_PUSH_ITEMS)
    .optional()
    .describe(what);

export const GarminPushResultSchema = z
  .object({
    items: z.number().int().describe('Items in the body'),
    handled: z.number().int().describe('Items of connected Garmin users, handled'),
    dropped: z.number().int().describe('Items of Garmin users connected to no athlete here: acknowledged and dropped'),
    replayed: z.boolean().describe('true: this exact body was handled before; nothing was done again'),
  })
  .meta({ id: 'GarminPushResult' });
export type GarminPushResult = z.output<typeof GarminPushResultSchema>;
const route = { tags: ['Connections'] as string[] };
/** Listing the providers and the provider's redirect back take no credentials (the state says whose flow it is). */
const publicRoute = { ...route, spec: (op: object) => ({ ...op, security: [] }) };

export const connectionsContract = {
  providers: publicProcedure
    .route({ ...publicRoute, method: 'GET', path: '/v1/providers', operationId: 'listProviders', summary: 'The providers this deployment can connect to' })
    .output(ProviderListSchema),
  list: signedIn
    .route({ ...route, method: 'GET', path: '/v1/athletes/{id}/connections', operationId: 'listConnections', summary: "An athlete's provider connections" })
    .input(z.strictObject({ id: AthleteId }))
    .output(ConnectionListSchema),
  connect: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/athletes/{id}/connections/{provider}',
      operationId: 'connectProvider',
      summary: "Start connecting a provider account: open authorizeUrl in the user's browser",
    })
    .errors({ NOT_FOUND: { status: 404, message: 'Athlete not found, or the provider is not configured' } })
    .input(
      z.strictObject({
        id: AthleteId,
        provider: ConnectionProviderSchema,
        returnTo: text({ max: 2000 })
          .optional()
          .describe('Where the browser goes after the callback (an origin of PUBLIC_URL or AUTH_TRUSTED_ORIGINS); otherwise a "Connected" page'),
      }),
    )
    .output(
      z
        .object({ authorizeUrl: z.string().describe("The provider's consent page; its state is single-use and expires in 10 minutes") })
        .meta({ id: 'ConnectStart' }),
    ),
  callback: publicProcedure
    .route({
      ...publicRoute,
      method: 'GET',
      path: '/v1/connections/{provider}/callback',
      operationId: 'connectionCallback',
      summary: "The provider's redirect back after consent (browsers only)",
      outputStructure: 'detailed',
    })
    .errors({
      NOT_FOUND: { status: 404, message: 'The provider is not configured' },
      CONFLICT: { status: 409, message: 'This provider account is connected to another athlete' },
      BAD_GATEWAY: { status: 502, message: 'The provider did not accept the code' },
    })
    .input(
      z.strictObject({
        provider: ConnectionProviderSchema,
        state: text({ max: 200 }).optional().describe('The state of the authorize URL'),
        code: text({ max: 2000 }).optional().describe('The authorization code'),
        scope: text({ max: 2000 }).optional().describe('The scopes granted (Strava)'),
        error: text({ max: 200 }).optional().describe('Set by the provider when the user declined'),
      }),
    )
    .output(
      z.union([
        z.object({ status: z.literal(200), body: z.file().mime('text/html') }),
        z.object({ status: z.literal(302), headers: z.object({ location: z.string() }) }),
      ]),
    ),
  disconnect: signedInWrite
    .route({
      ...route,
      method: 'DELETE',
      path: '/v1/athletes/{id}/connections/{provider}',
      operationId: 'disconnectProvider',
      summary: 'Deauthorize at the provider and forget the tokens (the activities stay unless deleteData)',
      successStatus: 204,
    })
    .input(
      z.strictObject({
        id: AthleteId,
        provider: ConnectionProviderSchema,
        deleteData: z.boolean().optional().describe("true: also delete the athlete's activities from this provider"),
      }),
    )
    .output(z.void()),
  stravaWebhookCheck: publicProcedure
    .route({
      ...publicRoute,
      tags: ['Webhooks'],
      method: 'GET',
      path: '/v1/webhooks/strava',
      operationId: 'stravaWebhookCheck',
      summary: "Strava's push subscription check: echoes hub.challenge when hub.verify_token is STRAVA_WEBHOOK_VERIFY_TOKEN",
    })
    .errors({ FORBIDDEN: { status: 403, message: 'Wrong verify token' }, TOO_MANY_REQUESTS: { status: 429, message: 'Too many webhook requests' } })
    .input(
      z.strictObject({
        'hub.mode': text({ max: 100 }).optional(),
        'hub.challenge': text({ max: 500 }).optional(),
        'hub.verify_token': text({ max: 500 }).optional(),
      }),
    )
    .output(z.object({ 'hub.challenge': z.string() }).meta({ id: 'StravaWebhookChallenge' })),
  stravaWebhookEvent: publicProcedure
    .route({
      ...publicRoute,
      tags: ['Webhooks'],
      method: 'POST',
      path: '/v1/webhooks/strava',
      operationId: 'stravaWebhookEvent',
      summary: 'A Strava push event: acknowledged at once, its work queued ahead of any backfill (unknown owners are dropped)',
    })
    .errors({
      TOO_MANY_REQUESTS: { status: 429, message: 'Too many webhook requests' },
      PAYLOAD_TOO_LARGE: { status: 413, message: 'The body is larger than a Strava event' },
    })
    .input(StravaWebhookEventSchema)
    .output(z.object({ received: z.literal(true) }).meta({ id: 'WebhookReceived' })),
};

export const providerWebhooksContract = {
  garminPush: publicProcedure
    .route({
      tags: ['Provider webhooks'],
      spec: (op: object) => ({ ...op, security: [] }),
      method: 'POST',
      path: '/v1/webhooks/garmin/{summaryType}',
      operationId: 'garminPush',
      summary: "Garmin's push of one summary type (called by Garmin, with its garmin-client-id header)",
      description:
        'Garmin POSTs `{"<summaryType>": [items]}`; the `userId` of each item picks the connection, items of users connected to no athlete ' +
        'are acknowledged and dropped. `activities`/`activityDetails` go through the sync ingest path, `activityFiles` are downloaded ' +
        'and imported as uploaded files, `deregistrations` revoke the connection, `userPermissionsChange` updates its scopes. ' +
        'The exact body is archived; the same body again is answered `replayed` and changes nothing.',
    })
    .errors({
      UNAUTHORIZED: { status: 401, message: 'The garmin-client-id header is missing or is not this server\'s Garmin consumer key' },
      NOT_FOUND: { status: 404, message: 'Garmin is not configured on this server' },
      TOO_MANY_REQUESTS: { status: 429, message: 'Too many pushes from this address; Garmin retries later' },
      PAYLOAD_TOO_LARGE: { status: 413, message: `The body is larger than ${MAX_GARMIN_PUSH_BYTES / 1024 / 1024} MiB` },
      UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The body is not JSON' },
    })
    .input(
      z.strictObject({
        summaryType: GarminPushTypeSchema,
        activities: GarminPushItems('GarminActivity items (userId, summaryId, …)'),
        activityDetails: GarminPushItems('GarminActivityDetails items (userId, summaryId, activityId, summary, samples, laps)'),
        activityFiles: GarminPushItems('Activity files: userId, summaryId, fileType, callbackURL (downloaded with the connection\'s token and imported)'),
        deregistrations: GarminPushItems('Users who disconnected this app in Garmin Connect: {userId}'),
        userPermissionsChange: GarminPushItems('Users who changed what they share: {userId, permissions, changeTimeInSeconds}'),
      }),
    )
    .output(GarminPushResultSchema),
};

export type StravaWebhookEvent = z.output<typeof StravaWebhookEventSchema>;
export type ConnectionProvider = z.output<typeof ConnectionProviderSchema>;
export type ProviderList = z.output<typeof ProviderListSchema>;
export type Connection = z.output<typeof ConnectionSchema>;
export type ConnectionList = z.output<typeof ConnectionListSchema>;
