import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { webhookDeliveries } from '../../src/database/schema/index.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

/**
 * Walks every operation of the generated OpenAPI document, so an operation added later is covered
 * without touching this file: without credentials every protected operation answers 401, and with
 * another user's credentials every operation aimed at my resources answers 404 and changes nothing.
 */
interface Operation {
  method: string;
  path: string;
  operationId: string;
  isPublic: boolean;
  hasBody: boolean;
}

let t: TestApp;
let operations: Operation[];
let owner: SignedUpUser;
let stranger: SignedUpUser;
let ownerActivityId: string;
let ownerEndpointId: string;
let ownerDeliveryId: string;

/** Values for path parameters, pointing at the owner's resources. */
function concretePath(path: string): string {
  return path
    .replace(/^\/v1\/athletes\/\{id\}/, `/v1/athletes/${owner.athleteId}`)
    .replace(/^\/v1\/activities\/\{id\}/, `/v1/activities/${ownerActivityId}`)
    .replace(/^\/v1\/webhook-endpoints\/\{id\}/, `/v1/webhook-endpoints/${ownerEndpointId}`)
    .replace('{deliveryId}', ownerDeliveryId)
    .replace('{jobId}', '00000000-0000-4000-8000-000000000000')
    .replace('{type}', 'heart_rate')
    .replace('{source}', 'strava')
    .replace('{provider}', 'strava')
    .replace('{sha256}', 'a'.repeat(64))
    .replace('{slug}', 'running');
}

/** A well-formed body aimed at the owner's data, so a 404 can only come from ownership. */
function bodyFor(operation: Operation): object | undefined {
  if (!operation.hasBody) return undefined;
  const bodies: Record<string, object> = {
    createActivity: { athleteId: owner.athleteId, activityType: 'running', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-01T01:00:00Z' },
    updateActivity: { name: 'hijacked' },
    updateAthlete: { displayName: 'hijacked' },
    uploadStream: { timestamps: [Date.parse('2026-05-01T06:30:00Z')], values: [1] },
    updateSyncState: { cursor: 'hijacked' },
    finishSync: { cursor: 'hijacked' },
    putSourcePriorities: { default: ['strava'] },
    updateWebhookEndpoint: { description: 'hijacked' },
    joinDuplicateGroup: { activityId: ownerActivityId },
    ingestSyncBatch: { activities: [{ id: 1, sport_type: 'Run', start_date: '2026-05-01T06:00:00Z', elapsed_time: 60 }], cursor: 'hijacked' },
    stravaWebhookEvent: { object_type: 'activity', object_id: 1, aspect_type: 'create', owner_id: 1, subscription_id: 1, event_time: 1_780_000_000 },
  };
  return bodies[operation.operationId] ?? {};
}

/** Operations that act on the caller's own collection: with a stranger's credentials they succeed on the stranger's data. */
const OWN_COLLECTION = new Set(['listAthletes', 'createAthlete', 'listActivities', 'listChanges', 'listWebhookEndpoints', 'createWebhookEndpoint']);

async function snapshot(user: SignedUpUser) {
  const [athletes, activities, detail, samples, syncStates] = await Promise.all([
    t.http().get('/api/v1/athletes').set(user.auth),
    t.http().get('/api/v1/activities').set(user.auth),
    t.http().get(`/api/v1/activities/${ownerActivityId}`).set(user.auth),
    t.http().get(`/api/v1/activities/${ownerActivityId}/streams/heart_rate`).set(user.auth),
    t.http().get(`/api/v1/athletes/${owner.athleteId}/sync-states`).set(user.auth),
  ]);
  expect(detail.body.streams).toHaveLength(1);
  return { athletes: athletes.body, activities: activities.body, detail: detail.body, samples: samples.body, syncStates: syncStates.body };
}

beforeAll(async () => {
  // Webhook deliveries are not sent here (the owner's endpoint is a target that only has to exist).
  t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_DISPATCH: 'false' });
  owner = await signUp(t);
  stranger = await signUp(t);
  ownerActivityId = (await createActivity(t, owner, { name: 'mine', statistics: [{ key: 'avg_power_w', value: 200, unit: 'W' }] })).id;
  await t
    .http()
    .put(`/api/v1/activities/${ownerActivityId}/streams/heart_rate`)
    .set(owner.auth)
    .send({ timestamps: [Date.parse('2026-05-01T06:10:00Z'), Date.parse('2026-05-01T06:10:01Z')], values: [120, 121] })
    .expect(200);
  await t.http().post(`/api/v1/athletes/${owner.athleteId}/sync-states/strava/start`).set(owner.auth).send({}).expect(200);
  ownerEndpointId = (await t.http().post('/api/v1/webhook-endpoints').set(owner.auth).send({ url: 'http://127.0.0.1:9/hook', events: ['activity.created'] }).expect(201)).body.id;
  const [delivery] = await t.database.db
    .insert(webhookDeliveries)
    .values({ endpointId: ownerEndpointId, eventType: 'activity.created', orderKey: ownerActivityId, payload: { type: 'activity.created' } })
    .returning({ id: webhookDeliveries.id });
  ownerDeliveryId = delivery!.id;
  const document = (await t.http().get('/api/openapi.json').expect(200)).body as {
    paths: Record<string, Record<string, { operationId: string; security?: unknown[]; requestBody?: unknown }>>;
  };
  operations = Object.entries(document.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method,
        path,
        operationId: operation.operationId,
        isPublic: Array.isArray(operation.security) && operation.security.length === 0,
        hasBody: operation.requestBody !== undefined,
      })),
    );
});
afterAll(() => t.close());

const send = (operation: Operation, auth?: { Authorization: string }) => {
  const request = t.http()[operation.method as 'get'](`/api${concretePath(operation.path)}`);
  if (auth) request.set(auth);
  // The Parquet upload takes a file, not JSON (ownership is checked before the bytes are read).
  if (operation.operationId === 'uploadStreamFile') return request.set('Content-Type', 'application/vnd.apache.parquet').send(Buffer.from('PAR1'));
  const body = bodyFor(operation);
  return body ? request.send(body) : request;
};

describe('authorization matrix over the OpenAPI document', () => {
  it('covers every documented operation', () => {
    const ids = operations.map((operation) => operation.operationId);
    expect(ids).toEqual(expect.arrayContaining(['listAthletes', 'getAthlete', 'createAthlete', 'updateAthlete', 'deleteAthlete']));
    expect(ids).toEqual(expect.arrayContaining(['listActivities', 'getActivity', 'createActivity', 'updateActivity', 'deleteActivity']));
    expect(ids).toEqual(expect.arrayContaining(['listStreams', 'uploadStream', 'getStream', 'downloadStream', 'deleteStream']));
    expect(ids).toEqual(expect.arrayContaining(['listSyncStates', 'getSyncState', 'updateSyncState', 'startSync', 'finishSync', 'ingestSyncBatch']));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers 401 in the one error shape for every protected operation without credentials', async () => {
    const protectedOperations = operations.filter((operation) => !operation.isPublic);
    expect(protectedOperations.length).toBeGreaterThan(8);
    for (const operation of protectedOperations) {
      const response = await send(operation);
      expect({ operation: operation.operationId, status: response.status, body: response.body }).toEqual({
        operation: operation.operationId,
        status: 401,
        body: { code: 'UNAUTHORIZED', message: expect.any(String) },
      });
    }
  });

  it('answers 404 for every operation on another user’s resources, and changes nothing', async () => {
    const before = await snapshot(owner);
    const targeted = operations.filter((operation) => !operation.isPublic && !OWN_COLLECTION.has(operation.operationId));
    for (const operation of targeted) {
      const response = await send(operation, stranger.auth);
      expect({ operation: operation.operationId, status: response.status, code: response.body?.code }).toEqual({
        operation: operation.operationId,
        status: 404,
        code: 'NOT_FOUND',
      });
    }
    expect(await snapshot(owner)).toEqual(before);
  });

  it('collection operations only ever show the caller’s own data', async () => {
    const athletes = await t.http().get('/api/v1/athletes').set(stranger.auth).expect(200);
    expect(athletes.body.items.map((a: { id: string }) => a.id)).toEqual([stranger.athleteId]);
    const activities = await t.http().get('/api/v1/activities').set(stranger.auth).expect(200);
    expect(activities.body.items).toEqual([]);
  });

  it('public operations answer without credentials', async () => {
    // The provider's redirect back answers by its state and the provider's configuration (none here:
    // 404), never 401; test/e2e/connections.e2e.spec.ts covers its answers. Garmin's push endpoint checks
    // its input first (the placeholder is no summary type: 422), then Garmin's consumer key, never a
    // session; test/e2e/connections-garmin-pushes.e2e.spec.ts covers its answers. The Strava subscription
    // check refuses a request without the verify token (403); an event nobody subscribed to is
    // acknowledged and dropped (test/e2e/connections-strava-sync.e2e.spec.ts).
    const expected: Record<string, number> = { connectionCallback: 404, garminPush: 422, stravaWebhookCheck: 403 };
    for (const operation of operations.filter((candidate) => candidate.isPublic)) {
      const response = await send(operation);
      expect({ operation: operation.operationId, status: response.status }).toEqual({
        operation: operation.operationId,
        status: expected[operation.operationId] ?? 200,
      });
    }
  });
});
