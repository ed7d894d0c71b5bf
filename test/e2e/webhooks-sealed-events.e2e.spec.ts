/**
 * Issue 27 follow-ups: webhook signing secrets sealed at rest (TokenCipher, key rotation, clear rows
 * from before sealing), and the sync.finished and import.finished events, against a local receiver
 * that verifies every signature with `standardwebhooks`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { eq, inArray } from 'drizzle-orm';
import request from 'supertest';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { createApp } from '../../src/app.js';
import type { DatabaseHandle } from '../../src/database/database.js';
import { webhookEndpoints } from '../../src/database/schema/index.js';
import { keyIdOf } from '../../src/modules/connections/token-cipher.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { upload } from '../factories/imports.js';
import { createTestApp, testEnv, type TestApp } from '../setup/app.js';
import { openIsolatedDatabase } from '../setup/database.js';
import { Receiver, until, verifyWebhook, type Received } from '../setup/webhook-receiver.js';

const FAST = { WEBHOOK_DISPATCH: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_MS: '30', WEBHOOK_RETRY_BASE_MS: '40', WEBHOOK_RETRY_MAX_MS: '150' };

/** The events of `messages`, each verified with `secret`. */
const typed = (messages: Received[], secret: string) => messages.map((message) => verifyWebhook(secret, message));

describe('sealed webhook secrets, sync.finished and import.finished', () => {
  let t: TestApp;
  let user: SignedUpUser;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    t = await createTestApp({ ...FAST, IMPORT_WORKERS: '1' });
    user = await signUp(t, 'Sealed');
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  const createEndpoint = (events: string[]) => t.http().post('/api/v1/webhook-endpoints').set(user.auth).send({ url: receiver.url, events }).expect(201);
  const row = async (id: string) => (await t.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0]!;

  it('stores the signing secrets sealed (no whsec_ text), and still signs with both after a rotation', async () => {
    const created = await createEndpoint(['activity.created']);
    const first = created.body.secret as string;
    const stored = await row(created.body.id);
    expect(JSON.stringify(stored)).not.toContain('whsec_');
    expect(stored.secretKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(stored.secret).not.toContain(first.slice(6));

    const rotated = await t.http().patch(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).send({ rotateSecret: true }).expect(200);
    const second = rotated.body.secret as string;
    const afterRotation = await row(created.body.id);
    expect(JSON.stringify(afterRotation)).not.toContain('whsec_');
    expect(afterRotation.previousSecretKeyId).toBe(stored.secretKeyId);
    expect(afterRotation.previousSecret).not.toBe(stored.secret);

    const before = receiver.received.length;
    await createActivity(t, user, { name: 'sealed' });
    const [message] = await until('a delivery', () => (receiver.received.length > before ? receiver.received.slice(before) : undefined));
    expect(verifyWebhook(second, message!).type).toBe('activity.created');
    expect(verifyWebhook(first, message!).type).toBe('activity.created');
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });

  it('sends sync.finished when a sync run finishes (idle or error), with the sync state', async () => {
    const created = await createEndpoint(['sync.finished']);
    const secret = created.body.secret as string;
    const before = receiver.received.length;
    const base = `/api/v1/athletes/${user.athleteId}/sync-states/strava`;
    await t.http().post(`${base}/start`).set(user.auth).send({}).expect(200);
    await t.http().post(`${base}/finish`).set(user.auth).send({ cursor: 'after-1' }).expect(200);
    await t.http().post(`${base}/start`).set(user.auth).send({}).expect(200);
    await t.http().post(`${base}/finish`).set(user.auth).send({ error: 'provider down' }).expect(200);
    // A cursor change outside a run is a sync.updated, not a finished run.
    await t.http().put(base).set(user.auth).send({ cursor: null }).expect(200);

    await until('two sync.finished deliveries', () => receiver.received.length - before >= 2 || undefined);
    // Nothing more comes (the cursor change is not subscribed to, the starts are no finished runs).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = typed(receiver.received.slice(before), secret);
    expect(events).toHaveLength(2);
    expect(events.map((event) => event.type)).toEqual(['sync.finished', 'sync.finished']);
    expect(events[0]!.data).toMatchObject({ entity: 'sync_run', op: 'upsert', athleteId: user.athleteId, activityId: null });
    expect(events[0]!.data.id).toBe(events[1]!.data.id);
    // The sync state as it is when the delivery is built (the second run's error, or later).
    expect(events[1]!.data.syncState).toMatchObject({ athleteId: user.athleteId, source: 'strava', status: 'error', lastError: 'provider down' });

    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  });

  it('lists finished sync runs in the change feed as entity sync_run', async () => {
    const start = await t.http().get(`/api/v1/changes?athleteId=${user.athleteId}`).set(user.auth).expect(200);
    const base = `/api/v1/athletes/${user.athleteId}/sync-states/garmin`;
    await t.http().post(`${base}/start`).set(user.auth).send({}).expect(200);
    await t.http().post(`${base}/finish`).set(user.auth).send({ cursor: 'c' }).expect(200);
    const page = await until('the feed to show the finished run', async () => {
      const response = await t.http().get(`/api/v1/changes?athleteId=${user.athleteId}&since=${encodeURIComponent(start.body.nextCursor)}`).set(user.auth).expect(200);
      return response.body.items.some((item: { entity: string }) => item.entity === 'sync_run') ? response.body : undefined;
    });
    const entities = page.items.map((item: { entity: string }) => item.entity);
    // start and finish write sync_state upserts; the finish then one sync_run, last, with the state's id.
    expect(entities.filter((entity: string) => entity === 'sync_run')).toHaveLength(1);
    expect(entities.at(-1)).toBe('sync_run');
    expect(entities.slice(0, -1).every((entity: string) => entity === 'sync_state')).toBe(true);
    expect(page.items.at(-1).id).toBe(page.items.at(-2).id);
  });

  it('sends import.finished when an import job completes, with the job', async () => {
    const created = await createEndpoint(['import.finished']);
    const secret = created.body.secret as string;
    const before = receiver.received.length;
    const files = [0, 1].map((n) => ({
      name: `hooked-${n}.fit`,
      bytes: fitActivityFixture({ sport: 'running', startTime: new Date(Date.UTC(2024, 4, 10 + n, 7)), seconds: 300, channels: { heartRate: true } }).bytes,
    }));
    const accepted = await upload(t, user, files, '?async=true');
    expect(accepted.status).toBe(202);
    const [message] = await until('an import.finished delivery', () => (receiver.received.length > before ? receiver.received.slice(before) : undefined), 60_000);
    const event = verifyWebhook(secret, message!);
    expect(event.type).toBe('import.finished');
    expect(event.data).toMatchObject({ entity: 'import', op: 'upsert', id: accepted.body.id, athleteId: user.athleteId });
    expect(event.data.importJob).toMatchObject({ id: accepted.body.id, status: 'completed', filesTotal: 2, filesDone: 2, summary: { created: 2 } });
    // One event per job: its progress writes are not events.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.length - before).toBe(1);
    await t.http().delete(`/api/v1/webhook-endpoints/${created.body.id}`).set(user.auth).expect(204);
  }, 90_000);
});

describe('secrets kept in clear before sealing, and a TOKEN_ENCRYPTION_KEY rotation', () => {
  const receiver = new Receiver();
  let database: DatabaseHandle;
  const dataDir = mkdtempSync(join(tmpdir(), 'webhooks-sealed-'));
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const boot = (overrides: Record<string, string>) =>
    createApp(testEnv(dataDir, overrides), { database });

  beforeAll(async () => {
    await receiver.start();
    // Its own database: any app booting beside it on the shared one seals a secret left in clear
    // under its own development key, which this test's app could then not open.
    database = await openIsolatedDatabase();
  });
  afterAll(async () => {
    await database?.close();
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('seals clear rows and re-seals rows of the previous key at boot; deliveries verify with the secrets shown at creation', async () => {
    let app: NestFastifyApplication = await boot({ WEBHOOK_DISPATCH: 'false', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', TOKEN_ENCRYPTION_KEY: oldKey.toString('base64') });
    const t = () => ({ http: () => request(app.getHttpServer()) }) as unknown as TestApp;
    const owner = await signUp(t(), 'Rotation');
    const create = async () => (await t().http().post('/api/v1/webhook-endpoints').set(owner.auth).send({ url: receiver.url, events: ['activity.created'] }).expect(201)).body;
    const underOldKey = await create();
    const legacy = await create();
    // As written before secrets were sealed: the secret in clear, no key id.
    await database.db.update(webhookEndpoints).set({ secret: legacy.secret, secretKeyId: null }).where(eq(webhookEndpoints.id, legacy.id));
    await app.close();

    app = await boot({ ...FAST, TOKEN_ENCRYPTION_KEY: newKey.toString('base64'), TOKEN_ENCRYPTION_KEY_PREVIOUS: oldKey.toString('base64') });
    try {
      // Sealing runs in the background after boot (it must not hold a boot whose database is down).
      const rows = await until('both secrets sealed under the new key', async () => {
        const found = await database.db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, [underOldKey.id, legacy.id]));
        return found.length === 2 && found.every((row) => row.secretKeyId === keyIdOf(newKey)) ? found : undefined;
      });
      expect(rows).toHaveLength(2);
      for (const stored of rows) {
        expect(stored.secretKeyId).toBe(keyIdOf(newKey));
        expect(JSON.stringify(stored)).not.toContain('whsec_');
      }
      const before = receiver.received.length;
      await createActivity(t(), owner, { name: 'after the key rotation' });
      const messages = await until('two deliveries', () => (receiver.received.length - before >= 2 ? receiver.received.slice(before) : undefined));
      const bySecret = (secret: string) => messages.filter((message) => {
        try {
          return verifyWebhook(secret, message).type === 'activity.created';
        } catch {
          return false;
        }
      });
      expect(bySecret(underOldKey.secret)).toHaveLength(1);
      expect(bySecret(legacy.secret)).toHaveLength(1);
      for (const endpoint of [underOldKey, legacy]) await t().http().delete(`/api/v1/webhook-endpoints/${endpoint.id}`).set(owner.auth).expect(204);
    } finally {
      await app.close();
    }
  }, 60_000);
});
