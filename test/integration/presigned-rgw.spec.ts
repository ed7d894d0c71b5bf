import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { MinioObjectStore } from '../../src/modules/streams/storage/minio-object-store.js';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';

/**
 * Against a real, signature-checking S3 (Ceph RGW, started by .ci/run; TEST_S3_ENDPOINT). s3rver
 * accepts any secret and any signature, so none of this could fail there.
 */
const describeWithRgw = process.env.TEST_S3_ENDPOINT ? describe : describe.skip;
if (!process.env.TEST_S3_ENDPOINT) console.warn('presigned-rgw skipped: TEST_S3_ENDPOINT is not set (scripts/rgw/start-rgw.sh)');

const START = Date.UTC(2026, 0, 5, 7, 0, 0);
const heartRate = (count: number) => ({
  timestamps: Array.from({ length: count }, (_, i) => START + i * 1000),
  values: Array.from({ length: count }, (_, i) => 100 + (i % 60)),
});

describeWithRgw('streams on Ceph RGW', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server();
    expect(s3.kind).toBe('rgw');
  });
  afterAll(() => s3?.close());

  describe('with the right credentials', () => {
    let t: TestApp;
    let user: SignedUpUser;
    beforeAll(async () => {
      t = await createTestApp({
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY: s3.accessKey,
        S3_SECRET_KEY: s3.secretKey,
        S3_BUCKET: `presigned-${randomUUID().slice(0, 8)}`,
      });
      user = await signUp(t);
    });
    afterAll(() => t?.close());

    it('/health reports storage up', async () => {
      const health = await t.http().get('/health').expect(200);
      expect(health.body).toMatchObject({ status: 'ok', storage: { status: 'up', kind: 's3' }, database: { status: 'up' } });
    });

    it('a presigned download URL fetched by plain fetch returns the bytes; a tampered one is refused', async () => {
      const activityId = (await createActivity(t, user, { startTime: new Date(START).toISOString(), endTime: new Date(START + 3_600_000).toISOString() })).id;
      const uploaded = await t.http().put(`/api/v1/activities/${activityId}/streams/heart_rate`).set(user.auth).send(heartRate(600)).expect(200);
      const redirect = await t.http().get(`/api/v1/activities/${activityId}/streams/heart_rate/file`).set(user.auth).redirects(0);
      expect(redirect.status).toBe(307);
      const location = new URL(redirect.headers.location!);
      expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

      const good = await fetch(location);
      expect(good.status).toBe(200);
      const bytes = Buffer.from(await good.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(uploaded.body.checksumSha256);

      const tamperedSignature = new URL(location);
      const signature = tamperedSignature.searchParams.get('X-Amz-Signature')!;
      tamperedSignature.searchParams.set('X-Amz-Signature', `${signature[0] === '0' ? '1' : '0'}${signature.slice(1)}`);
      const longer = new URL(location);
      longer.searchParams.set('X-Amz-Expires', '604800');
      const otherKey = new URL(location);
      otherKey.pathname = otherKey.pathname.replace('heart_rate', 'speed');
      for (const tampered of [tamperedSignature, longer, otherKey]) {
        const refused = await fetch(tampered);
        expect({ url: tampered.search.slice(0, 40), status: refused.status }).toEqual({ url: tampered.search.slice(0, 40), status: 403 });
        expect(await refused.text()).toMatch(/SignatureDoesNotMatch|AccessDenied/);
      }
    });
  });

  it('S3_PUBLIC_ENDPOINT: presigned URLs are signed for the public host, and only work there', async () => {
    const port = new URL(s3.endpoint).port;
    // `localhost` stands in for the public name of the same service (compose: minio:9000 vs localhost:9000).
    const store = new MinioObjectStore({
      endpoint: s3.endpoint,
      publicEndpoint: `http://localhost:${port}`,
      bucket: `public-${randomUUID().slice(0, 8)}`,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: 'us-east-1',
      pathStyle: true,
    });
    try {
      await store.ensureReady();
      await store.put('streams/public.parquet', new Uint8Array([1, 2, 3, 4]), { contentType: 'application/octet-stream' });
      const url = new URL((await store.presignedGetUrl('streams/public.parquet', 60))!);
      expect(url.host).toBe(`localhost:${port}`);
      const fetched = await fetch(url);
      expect(fetched.status).toBe(200);
      expect([...new Uint8Array(await fetched.arrayBuffer())]).toEqual([1, 2, 3, 4]);
      // The same URL sent to the internal host name does not match the signature.
      const internal = new URL(url);
      internal.hostname = '127.0.0.1';
      expect((await fetch(internal)).status).toBe(403);
    } finally {
      await store.close();
    }
  });

  describe('with a wrong S3_SECRET_KEY', () => {
    let t: TestApp;
    let user: SignedUpUser;
    beforeAll(async () => {
      t = await createTestApp({
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY: s3.accessKey,
        S3_SECRET_KEY: 'not-the-secret-key-of-this-service-000000',
        S3_BUCKET: `wrong-secret-${randomUUID().slice(0, 8)}`,
      });
      user = await signUp(t);
    });
    afterAll(() => t?.close());

    it('still boots, and /health answers 503 naming the credentials', async () => {
      const health = await t.http().get('/health').expect(503);
      expect(health.body).toMatchObject({ status: 'degraded', database: { status: 'up' }, storage: { status: 'down', kind: 's3' } });
      expect(health.body.storage.error).toMatch(/S3_ACCESS_KEY and S3_SECRET_KEY/);
    });

    it('answers a stream upload with 503, and keeps no row', async () => {
      const activityId = (await createActivity(t, user, { startTime: new Date(START).toISOString(), endTime: new Date(START + 3_600_000).toISOString() })).id;
      const response = await t.http().put(`/api/v1/activities/${activityId}/streams/heart_rate`).set(user.auth).send(heartRate(60));
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/storage/i) });
      const listed = await t.http().get(`/api/v1/activities/${activityId}/streams`).set(user.auth).expect(200);
      expect(listed.body.items).toEqual([]);
    });
  });
});
