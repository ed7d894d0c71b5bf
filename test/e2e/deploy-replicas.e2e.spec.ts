import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, startApiProcess, startForwardingProxy, type ApiProcess, type ForwardingProxy } from '../setup/api-process.js';
import { TEST_DATABASE_URL } from '../setup/database.js';

/**
 * Two API processes (the compiled server, as the image runs it) on one PostgreSQL database behind
 * a reverse proxy that sets X-Forwarded-For, as in a deployment with replicas. No shared
 * AUTH_SECRET is given: the development secret is generated once in the shared DATA_DIR.
 */
const describeWithPostgres = TEST_DATABASE_URL ? describe : describe.skip;
if (!TEST_DATABASE_URL) console.warn('deploy-replicas e2e skipped: it needs TEST_DATABASE_URL (two processes on one database)');

/** Long on purpose: eviction must come from the change notification, not from the cache expiring. */
const CACHE_SECONDS = 60;
/** The documented bound for a change on one replica to reach the others (README "Deployment"). */
const EVICTION_BOUND_MS = 2_000;

describeWithPostgres('two replicas behind a proxy', () => {
  let dataDir: string;
  const replicas: ApiProcess[] = [];
  let proxy: ForwardingProxy;

  const call = (path: string, init: { replica: number; client: string; method?: string; body?: unknown; token?: string }) =>
    fetch(`${proxy.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        'x-test-backend': String(init.replica),
        'x-test-client': init.client,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  async function signUp(replica: number, client: string) {
    const email = `replica-${Math.random().toString(36).slice(2)}@example.com`;
    const password = `replicas-${Math.random().toString(36).slice(2)}-pass`;
    const response = await call('/api/auth/sign-up/email', { replica, client, body: { name: 'Replica User', email, password } });
    expect(response.status).toBe(200);
    const token = response.headers.get('set-auth-token');
    expect(token).toMatch(/\./); // signed: "<token>.<signature>"
    return { email, password, token: token! };
  }

  async function signIn(replica: number, client: string, email: string, password: string) {
    const response = await call('/api/auth/sign-in/email', { replica, client, body: { email, password } });
    expect(response.status).toBe(200);
    return response.headers.get('set-auth-token')!;
  }

  /** Polls until the token is refused; returns how long that took. */
  async function refusedWithin(replica: number, token: string, limitMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const status = (await call('/api/v1/athletes', { replica, client: '10.9.0.1', token })).status;
      if (status === 401) return Date.now() - started;
      expect(status).toBe(200);
      if (Date.now() - started > limitMs) throw new Error(`still accepted after ${limitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'replicas-'));
    const env = {
      NODE_ENV: 'development',
      DATABASE_URL: TEST_DATABASE_URL!,
      DATA_DIR: dataDir,
      TRUST_PROXY: 'loopback',
      AUTH_RATE_LIMIT: 'true',
      AUTH_SESSION_CACHE_SECONDS: String(CACHE_SECONDS),
    };
    // One after the other: the first one migrates and writes the development secret.
    replicas.push(await startApiProcess(env));
    replicas.push(await startApiProcess(env));
    proxy = await startForwardingProxy(() => replicas.map((replica) => replica.url));
  }, 300_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(replicas.map((replica) => replica.stop()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates one development secret in DATA_DIR, readable by its owner only, that both replicas use', async () => {
    const file = join(dataDir, 'auth-secret');
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o077).toBe(0);
    // A signed token from replica 0 is accepted by replica 1.
    const { token } = await signUp(0, '10.1.0.1');
    expect((await call('/api/v1/athletes', { replica: 1, client: '10.1.0.1', token })).status).toBe(200);
  });

  it('limits sign-in attempts per client address across both replicas (10 a minute), not per replica or for everyone', async () => {
    const { email } = await signUp(0, '10.2.0.1');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      const response = await call('/api/auth/sign-in/email', {
        replica: attempt % 2,
        client: '10.2.0.99',
        body: { email, password: 'wrong-password-attempt' },
      });
      statuses.push(response.status);
    }
    // 10 answered (wrong password), then refused — although each replica saw only 6.
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Another client address behind the same proxy is not affected, on either replica.
    for (const replica of [0, 1]) {
      const other = await call('/api/auth/sign-in/email', { replica, client: '10.2.0.100', body: { email, password: 'wrong-password-attempt' } });
      expect(other.status).toBe(401);
    }
  });

  it('a session signed out on one replica is refused on the other within the bound, although the other had it cached', async () => {
    const { token } = await signUp(0, '10.3.0.1');
    expect((await call('/api/v1/athletes', { replica: 1, client: '10.3.0.1', token })).status).toBe(200); // cached on 1
    expect((await call('/api/auth/sign-out', { replica: 0, client: '10.3.0.1', token, body: {} })).status).toBe(200);
    const took = await refusedWithin(1, token, EVICTION_BOUND_MS);
    expect(took).toBeLessThan(EVICTION_BOUND_MS);
  });

  it('revoking all sessions (password change with revokeOtherSessions) on one replica ends the other sessions on the other', async () => {
    const { email, password, token } = await signUp(0, '10.4.0.1');
    const second = await signIn(1, '10.4.0.1', email, password);
    expect((await call('/api/v1/athletes', { replica: 1, client: '10.4.0.1', token: second })).status).toBe(200); // cached on 1
    const changed = await call('/api/auth/change-password', {
      replica: 0,
      client: '10.4.0.1',
      token,
      body: { currentPassword: password, newPassword: `${password}-changed`, revokeOtherSessions: true },
    });
    expect(changed.status).toBe(200);
    await refusedWithin(1, second, EVICTION_BOUND_MS);
  });

  it('refuses a common password on every replica', async () => {
    for (const replica of [0, 1]) {
      const response = await call('/api/auth/sign-up/email', {
        replica,
        client: '10.5.0.1',
        body: { name: 'Weak', email: `weak-${replica}-${Date.now()}@example.com`, password: 'password1' },
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ code: 'PASSWORD_TOO_WEAK', message: expect.stringMatching(/common/) });
    }
  });

  it('a restart keeps sessions: the signed token still works on the restarted replica', async () => {
    const { token } = await signUp(0, '10.6.0.1');
    await replicas[0]!.restart();
    expect((await call('/api/v1/athletes', { replica: 0, client: '10.6.0.1', token })).status).toBe(200);
  }, 120_000);
});
