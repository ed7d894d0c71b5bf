/**
 * Outbound webhooks against a real local receiver: Standard Webhooks signatures verified with the
 * `standardwebhooks` package, in-order delivery per activity, retries with (shortened) backoff,
 * delivery after a restart, giving up after the retry window, secret rotation, and the SSRF guard.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import type { DatabaseHandle } from '../../src/database/database.js';
import { WebhooksService } from '../../src/modules/webhooks/webhooks.service.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, testEnv, type TestApp } from '../setup/app.js';
import { openTestDatabase } from '../setup/database.js';
import { Receiver, until, verifyWebhook as verify } from '../setup/webhook-receiver.js';

const FAST = { WEBHOOK_DISPATCH: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '30', WEBHOOK_RETRY_BASE_MS: '40', WEBHOOK_RETRY_MAX_MS: '150' };

describe('outbound webhooks', () => {
  let t: TestApp;
  let user: SignedUpUser;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    t = await createTestApp(FAST);
    user = await signUp(t, 'Hooks');
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });
  afterEach(() => {
    receiver.answer = () => 200;
  });

  const createEndpoint = (body: Record<string, unknown>) => t.http().post('/api/v1/webhook-endpoints').set(user.auth).send({ url: receiver.url, ...body });

  it('signs every delivery (verified with standardwebhooks) and sends an activity’s events in order', async () => {
    const created = await createEndpoint({ events: ['activity.created', 'activity.updated', 'activity.deleted'] }).expect(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    const secret = created.body.secret as string;
    const got = await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(200);
    expect(got.body.secret).toBeUndefined();

    const before = receiver.received.length;
    const activity = await createActivity(t, user, { name: 'hooked' });
    await t.http().patch(`/api/v1/activities/${activity.id}`).set(user.auth).send({ name: 'renamed' }).expect(200);
    await t.http().delete(`/api/v1/activities/${activity.id}`).set(user.auth).expect(204);

    const messages = await until('three deliveries', () => (receiver.received.length - before >= 3 ? receiver.received.slice(before) : undefined));
    const events = messages.map((message) => verify(secret, message));
    expect(events.map((event) => event.type)).toEqual(['activity.created', 'activity.updated', 'activity.deleted']);
    expect(events[0]!.data).toMatchObject({ id: activity.id, athleteId: user.athleteId, op: 'upsert' });
    // A delete carries ids only.
    expect(events[2]!.data).toEqual(expect.objectContaining({ id: activity.id, op: 'delete' }));
    expect(events[2]!.data.activity).toBeUndefined();
    // A tampered body does not verify.
    expect(() => verify(secret, { ...messages[0]!, body: messages[0]!.body.replace('activity', 'Activity') })).toThrow();
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });

  it('retries a receiver that answers 500 five times, and delivers once it recovers', async () => {
    const created = await createEndpoint({ events: ['activity.created'] }).expect(201);
    const before = receiver.received.length;
    receiver.answer = (n) => (n - before <= 5 ? 500 : 200);
    await createActivity(t, user, { name: 'retried' });
    const delivery = await until('the delivery to succeed', async () => {
      const response = await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}/deliveries`).set(user.auth).expect(200);
      return response.body.items.find((item: { status: string }) => item.status === 'succeeded');
    });
    expect(delivery).toMatchObject({ eventType: 'activity.created', attempts: 6, lastStatusCode: 200 });
    expect(delivery.attemptLog.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([500, 500, 500, 500, 500, 200]);
    const sent = receiver.received.slice(before);
    // The same message each time (one webhook-id): the receiver can deduplicate.
    expect(new Set(sent.map((message) => message.headers['webhook-id'])).size).toBe(1);
    const again = await t.http().post(`/api/v1/webhook-endpoints/${created.body.id}/deliveries/${delivery.id}/retry`).set(user.auth).expect(200);
    expect(again.body).toMatchObject({ status: 'succeeded', attempts: 7 });
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });

  it('signs with the new and the previous secret for a day after a rotation', async () => {
    const created = await createEndpoint({ events: ['activity.created'] }).expect(201);
    const rotated = await t.http().patch(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).send({ rotateSecret: true }).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const before = receiver.received.length;
    await createActivity(t, user, { name: 'rotated' });
    const [message] = await until('a delivery', () => (receiver.received.length > before ? receiver.received.slice(before) : undefined));
    expect(verify(rotated.body.secret, message!).type).toBe('activity.created');
    expect(verify(created.body.secret, message!).type).toBe('activity.created');
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });

  it('answers 404 for another user’s endpoint and 422 for an unknown event', async () => {
    const created = await createEndpoint({ events: ['activity.created'] }).expect(201);
    const stranger = await signUp(t, 'Stranger');
    await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}`).set(stranger.auth).expect(404);
    await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}/deliveries`).set(stranger.auth).expect(404);
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(stranger.auth).expect(404);
    await t.http().post('/api/v1/webhook-endpoints').set(stranger.auth).send({ url: receiver.url, events: ['activity.created'], athleteIds: [user.athleteId] }).expect(404);
    const bad = await createEndpoint({ events: ['activity.exploded'] });
    expect(bad.status).toBe(422);
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });
});

describe('webhook retries across a restart, and giving up', () => {
  const receiver = new Receiver();
  let database: DatabaseHandle;
  const dataDir = mkdtempSync(join(tmpdir(), 'webhooks-restart-'));
  const boot = (overrides: Record<string, string> = {}) =>
    createApp(testEnv(dataDir, { ...FAST, ...overrides }), { database });

  beforeAll(async () => {
    await receiver.start();
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('still delivers after the app restarts mid-retry', async () => {
    let app: NestFastifyApplication = await boot();
    const t = { http: () => request(app.getHttpServer()) } as unknown as TestApp;
    const owner = await signUp(t, 'Restart');
    receiver.answer = () => 503;
    const created = await t.http().post('/api/v1/webhook-endpoints').set(owner.auth).send({ url: receiver.url, events: ['activity.created'] }).expect(201);
    await createActivity(t, owner, { name: 'across a restart' });
    await until('two failed attempts', () => receiver.received.length >= 2 || undefined);
    await app.close();

    const before = receiver.received.length;
    receiver.answer = () => 200;
    app = await boot();
    try {
      const delivered = await until('the delivery after the restart', async () => {
        const response = await request(app.getHttpServer()).get(`/api/v1/webhook-endpoints/${created.body.id}/deliveries`).set(owner.auth).expect(200);
        return response.body.items.find((item: { status: string }) => item.status === 'succeeded');
      });
      expect(delivered.attempts).toBeGreaterThanOrEqual(3);
      expect(receiver.received.length).toBeGreaterThan(before);
      expect(verify(created.body.secret, receiver.received.at(-1)!).type).toBe('activity.created');
      await request(app.getHttpServer()).delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(owner.auth).expect(204);
    } finally {
      await app.close();
    }
  });

  it('gives a delivery up after the retry window and disables the endpoint, saying why', async () => {
    const app = await boot({ WEBHOOK_RETRY_WINDOW_MS: '300' });
    try {
      const t = { http: () => request(app.getHttpServer()) } as unknown as TestApp;
      const owner = await signUp(t, 'Give up');
      receiver.answer = () => 500;
      const created = await t.http().post('/api/v1/webhook-endpoints').set(owner.auth).send({ url: receiver.url, events: ['activity.created'] }).expect(201);
      await createActivity(t, owner, { name: 'never delivered' });
      const endpoint = await until('the endpoint to be disabled', async () => {
        const response = await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}`).set(owner.auth).expect(200);
        return response.body.status === 'disabled' ? response.body : undefined;
      });
      expect(endpoint.disabledReason).toMatch(/failed for .* h, \d+ attempts; last error: HTTP 500/);
      const deliveries = await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}/deliveries`).set(owner.auth).expect(200);
      expect(deliveries.body.items[0]).toMatchObject({ status: 'failed', lastStatusCode: 500, nextAttemptAt: null });
      await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(owner.auth).expect(204);
    } finally {
      await app.close();
    }
  });
});

describe('SSRF guard (WEBHOOK_ALLOW_PRIVATE_TARGETS off)', () => {
  let t: TestApp;
  let user: SignedUpUser;
  beforeAll(async () => {
    t = await createTestApp({ WEBHOOK_DISPATCH: 'true', WEBHOOK_POLL_MS: '30' });
    user = await signUp(t, 'Guarded');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses loopback, link-local and a host name that resolves to a private address', async () => {
    const service = t.app.get(WebhooksService);
    service.resolver = async (hostname) => (hostname === 'internal.example' ? [{ address: '10.0.0.1', family: 4 }] : []);
    for (const url of ['http://127.0.0.1:8080/hook', 'http://169.254.169.254/latest/meta-data', 'http://internal.example/hook', 'http://[::1]/hook', 'http://unresolvable.example/hook']) {
      const response = await t.http().post('/api/v1/webhook-endpoints').set(user.auth).send({ url, events: ['activity.created'] });
      expect({ url, status: response.status, code: response.body.code, path: response.body.issues?.[0]?.path }).toEqual({ url, status: 422, code: 'UNPROCESSABLE_CONTENT', path: ['url'] });
    }
    const list = await t.http().get('/api/v1/webhook-endpoints').set(user.auth).expect(200);
    expect(list.body.items).toEqual([]);
  });

  it('checks again at delivery: a name that now resolves to loopback is not connected to', async () => {
    const service = t.app.get(WebhooksService);
    service.resolver = async () => [{ address: '93.184.215.14', family: 4 }];
    const created = await t.http().post('/api/v1/webhook-endpoints').set(user.auth).send({ url: 'http://rebinding.example/hook', events: ['activity.created'] }).expect(201);
    service.resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    await createActivity(t, user, { name: 'rebinding' });
    const delivery = await until('a refused attempt', async () => {
      const response = await t.http().get(`/api/v1/webhook-endpoints/${created.body.id}/deliveries`).set(user.auth).expect(200);
      return response.body.items.find((item: { attempts: number }) => item.attempts > 0);
    });
    expect(delivery).toMatchObject({ status: 'pending', lastStatusCode: null });
    expect(delivery.lastError).toMatch(/target refused: .*127\.0\.0\.1/);
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });
});

describe('an idle dispatcher (no active endpoint)', () => {
  const receiver = new Receiver();
  let t: TestApp;

  beforeAll(async () => {
    await receiver.start();
    // Idle rounds every 60 × 2 s (the embedded database: its own, so no other file's dispatcher
    // claims its deliveries); an active endpoint's every 2 s.
    t = await createTestApp({ ...FAST, WEBHOOK_POLL_MS: '2000' }, { isolatedDatabase: true });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('leaves its idle wait when an endpoint is created: the first delivery comes within a poll, not an idle period', async () => {
    const user = await signUp(t);
    // The boot's round found no endpoint: the dispatcher waits idle now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const created = await t.http().post('/api/v1/webhook-endpoints').set(user.auth).send({ url: receiver.url, events: ['activity.created'] }).expect(201);
    const activity = await createActivity(t, user, { name: 'after an idle wait' });
    const [message] = await until('a delivery', () => (receiver.received.length > 0 ? receiver.received : undefined), 7_000);
    expect(verify(created.body.secret as string, message!).data).toMatchObject({ id: activity.id });
    // Two polls at most, long before the idle wait (120 s) would have ended.
    expect(Date.now() - started).toBeLessThan(7_000);
  });
});
