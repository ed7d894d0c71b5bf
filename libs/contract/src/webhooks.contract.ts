/**
 * Outbound webhooks (README "Following changes"): endpoints that receive the change feed as signed
 * POSTs (Standard Webhooks), their deliveries and retries.
 */
import * as z from 'zod';
import { signedIn, signedInWrite } from './errors.js';

const route = { tags: ['Webhooks'] as string[] };

export const WEBHOOK_EVENT_TYPES = [
  'activity.created',
  'activity.updated',
  'activity.deleted',
  'stream.updated',
  'stream.deleted',
  'athlete.created',
  'athlete.updated',
  'athlete.deleted',
  'sync.updated',
  'sync.finished',
  'import.finished',
  'connection.updated',
  'connection.deleted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Most endpoints one user may have. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

const EndpointId = z.uuid().describe('Webhook endpoint id (UUID)');
const Url = z.url({ protocol: /^https?$/ }).max(2000).describe('Where deliveries are POSTed: https (http only outside production); private, loopback and link-local targets are refused');
const Events = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).describe('The event types to send');
const AthleteIds = z.array(z.uuid()).max(100).nullable().describe('Only these athletes’ changes; null or omitted: all of your athletes');

export const WebhookEndpointSchema = z
  .object({
    id: EndpointId,
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    athleteIds: z.array(z.uuid()).nullable(),
    status: z.enum(['active', 'disabled']).describe('disabled: deliveries failed for WEBHOOK_RETRY_WINDOW (24 h by default), or set by you; see disabledReason'),
    disabledReason: z.string().nullable().describe('Why the endpoint was disabled'),
    disabledAt: z.date().nullable(),
    previousSecretExpiresAt: z.date().nullable().describe('After a rotation: until when deliveries are also signed with the previous secret'),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().describe('The signing secret (`whsec_…`): shown only now; verify deliveries with it (README "Following changes")'),
}).meta({ id: 'WebhookEndpointWithSecret' });

export const WebhookDeliverySchema = z
  .object({
    id: z.uuid(),
    eventType: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']).describe('failed: given up after the retry window (the endpoint is then disabled); retry re-sends it'),
    attempts: z.number().int(),
    nextAttemptAt: z.date().nullable().describe('When it is sent next (pending only)'),
    lastStatusCode: z.number().int().nullable().describe('The receiver’s HTTP status of the last attempt; null when none came (refused target, timeout, connection error)'),
    lastDurationMs: z.number().int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: z.date().nullable(),
    createdAt: z.date(),
    attemptLog: z
      .array(z.object({ attemptedAt: z.date(), statusCode: z.number().int().nullable(), durationMs: z.number().int(), error: z.string().nullable() }))
      .describe('Every attempt, oldest first (the last 50)'),
  })
  .meta({ id: 'WebhookDelivery' });

export const webhooksContract = {
  create: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/webhook-endpoints',
      successStatus: 201,
      operationId: 'createWebhookEndpoint',
      summary: 'Register a webhook endpoint; the answer holds its signing secret, shown only this once',
      description:
        'The URL is resolved now and at every delivery: a target on a loopback, private, link-local, CGNAT, multicast or IPv6 unique-local address is refused (422) unless the server runs with WEBHOOK_ALLOW_PRIVATE_TARGETS=true. ' +
        'The endpoint receives the changes committed from now on.',
    })
    .input(
      z.strictObject({
        url: Url,
        events: Events,
        athleteIds: AthleteIds.optional(),
        description: z.string().max(500).optional(),
      }),
    )
    .output(WebhookEndpointWithSecretSchema),
  list: signedIn
    .route({ ...route, method: 'GET', path: '/v1/webhook-endpoints', operationId: 'listWebhookEndpoints', summary: 'List my webhook endpoints' })
    .input(z.object({}))
    .output(z.object({ items: z.array(WebhookEndpointSchema) })),
  get: signedIn
    .route({ ...route, method: 'GET', path: '/v1/webhook-endpoints/{id}', operationId: 'getWebhookEndpoint', summary: 'Get one webhook endpoint' })
    .input(z.object({ id: EndpointId }))
    .output(WebhookEndpointSchema),
  update: signedInWrite
    .route({
      ...route,
      method: 'PATCH',
      path: '/v1/webhook-endpoints/{id}',
      operationId: 'updateWebhookEndpoint',
      summary: 'Change an endpoint, enable or disable it, or rotate its secret (the old one keeps signing for 24 h)',
    })
    .input(
      z.strictObject({
        id: EndpointId,
        url: Url.optional(),
        events: Events.optional(),
        athleteIds: AthleteIds.optional(),
        description: z.string().max(500).nullable().optional(),
        enabled: z.boolean().optional().describe('false disables the endpoint; true enables it again (pending deliveries are sent)'),
        rotateSecret: z.boolean().optional().describe('true: a new secret, answered once in `secret`'),
      }),
    )
    .output(WebhookEndpointSchema.extend({ secret: z.string().optional().describe('The new secret, after rotateSecret only') })),
  delete: signedInWrite
    .route({ ...route, method: 'DELETE', path: '/v1/webhook-endpoints/{id}', operationId: 'deleteWebhookEndpoint', summary: 'Delete an endpoint and its deliveries', successStatus: 204 })
    .input(z.object({ id: EndpointId }))
    .output(z.void()),
  deliveries: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/webhook-endpoints/{id}/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: 'The endpoint’s deliveries, newest first, with their attempts',
    })
    .input(z.object({ id: EndpointId, limit: z.number().int().min(1).max(200).optional().describe('Page size, 1–200, default 50') }))
    .output(z.object({ items: z.array(WebhookDeliverySchema) })),
  retry: signedInWrite
    .route({
      ...route,
      method: 'POST',
      path: '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry',
      operationId: 'retryWebhookDelivery',
      summary: 'Send a delivery again now (also one that succeeded or was given up)',
    })
    .input(z.object({ id: EndpointId, deliveryId: z.uuid().describe('Delivery id (UUID)') }))
    .output(WebhookDeliverySchema),
};

export type WebhookEndpoint = z.output<typeof WebhookEndpointSchema>;
export type WebhookDelivery = z.output<typeof WebhookDeliverySchema>;
