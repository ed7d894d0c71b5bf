import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';
import { startS3Server, type S3TestServer } from '../setup/s3-server.js';

describe('password policy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  const signUpWith = (password: string) =>
    t.http().post('/api/auth/sign-up/email').send({ name: 'Policy', email: `policy-${Math.random().toString(36).slice(2)}@example.com`, password });

  it.each([
    ['a common password', 'password'],
    ['digits from the top of the list', '12345678'],
    ['a common password in other case, with spaces around', '  PassWord1 '],
    ['eight spaces', '        '],
    ['one character repeated', 'zzzzzzzzzzzz'],
    ['too short', 'x7#kQ'],
    ['too long', 'k'.repeat(60) + 'Q'.repeat(69)],
  ])('refuses %s with 400 PASSWORD_TOO_WEAK and creates no user', async (_case, password) => {
    const response = await signUpWith(password);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: expect.stringMatching(/PASSWORD_TOO_(WEAK|SHORT|LONG)/), message: expect.any(String) });
  });

  it('accepts a long uncommon passphrase', async () => {
    expect((await signUpWith('tangerine-orbit-kestrel-41')).status).toBe(200);
  });

  it('applies to a password change too', async () => {
    const user = await signUp(t, 'Changer');
    const response = await t
      .http()
      .post('/api/auth/change-password')
      .set(user.auth)
      .send({ currentPassword: user.password, newPassword: 'qwertyuiop' });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('PASSWORD_TOO_WEAK');
    // The old password still works.
    await t.http().post('/api/auth/sign-in/email').send({ email: user.email, password: user.password }).expect(200);
  });
});

describe('security headers', () => {
  let t: TestApp;
  let user: SignedUpUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await signUp(t, 'Headers');
  });
  afterAll(() => t?.close());

  const expectBaseHeaders = (headers: Record<string, string>) => {
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  };

  it('the API answers carry the header set, a deny-all CSP, and no-store when authenticated', async () => {
    const response = await t.http().get('/api/v1/athletes').set(user.auth).expect(200);
    expectBaseHeaders(response.headers);
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('a sign-in answer (it hands out a token) is no-store', async () => {
    const response = await t.http().post('/api/auth/sign-in/email').send({ email: user.email, password: user.password }).expect(200);
    expect(response.headers['cache-control']).toMatch(/no-store/);
  });

  it('a 401 says WWW-Authenticate: Bearer, on REST and on auth routes', async () => {
    const rest = await t.http().get('/api/v1/athletes').expect(401);
    expect(rest.headers['www-authenticate']).toMatch(/^Bearer realm="activity-api"/);
    expectBaseHeaders(rest.headers);
    const auth = await t.http().post('/api/auth/sign-in/email').send({ email: user.email, password: 'not-the-password' }).expect(401);
    expect(auth.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('the docs page has a CSP that allows only this server, and cannot be framed', async () => {
    const response = await t.http().get('/docs/').expect(200);
    expectBaseHeaders(response.headers);
    const csp = response.headers['content-security-policy']!;
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self' 'unsafe-inline'/);
    expect(csp).not.toMatch(/https?:/);
  });
});

describe('/health with object storage', () => {
  let s3: S3TestServer;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3Server();
    t = await createTestApp({
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: `health-${Math.random().toString(36).slice(2, 10)}`,
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('reports database and storage up (200), storage down (503) during an outage, and up again after', async () => {
    const up = await t.http().get('/health').expect(200);
    expect(up.body).toMatchObject({ status: 'ok', database: { status: 'up' }, storage: { status: 'up', kind: 's3' } });
    await s3.stop();
    try {
      const down = await t.http().get('/health').expect(503);
      expect(down.body).toMatchObject({ status: 'degraded', database: { status: 'up' }, storage: { status: 'down', error: expect.any(String) } });
    } finally {
      await s3.restart();
    }
    await t.http().get('/health').expect(200);
  });
});
