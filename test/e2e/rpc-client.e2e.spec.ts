import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createORPCClient, isDefinedError, ORPCError, safe } from '@orpc/client';
import { RPCLink } from '@orpc/client/fetch';
import type { ContractRouterClient } from '@orpc/contract';
import type { contract } from '@unified-activity/contract';
import { signUp } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

type ApiClient = ContractRouterClient<typeof contract>;

/** Awaits a call that must fail and returns its ORPCError (fails the test on success or on another error type). */
async function rejection(call: Promise<unknown>): Promise<ORPCError<string, unknown>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ORPCError) return error;
    throw new Error(`expected an ORPCError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('@orpc/client over /api/rpc', () => {
  let t: TestApp;
  let rpcUrl: string;

  /** A typed client exactly as an external TypeScript consumer would build it. */
  const clientFor = (token?: string): ApiClient =>
    createORPCClient<ApiClient>(
      new RPCLink({ url: rpcUrl, headers: token ? { Authorization: `Bearer ${token}` } : {} }),
    );

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    rpcUrl = `http://127.0.0.1:${port}/api/rpc`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the default athlete of a new user', async () => {
    const user = await signUp(t, 'Rpc Lister');
    const page = await clientFor(user.token).athletes.list();
    expect(page.nextCursor).toBeNull();
    expect(page.items).toHaveLength(1);
    const [athlete] = page.items;
    expect(athlete).toMatchObject({ id: user.athleteId, timeZone: expect.any(String) });
    // The RPC protocol keeps rich types: dates arrive as Date objects, not strings.
    expect(athlete!.createdAt).toBeInstanceOf(Date);
    expect(athlete!.updatedAt).toBeInstanceOf(Date);
  });

  it('creates an athlete and reads it back', async () => {
    const user = await signUp(t, 'Rpc Creator');
    const client = clientFor(user.token);
    const created = await client.athletes.create({ displayName: 'Ada Lovelace', timeZone: 'Europe/London', sex: 'female' });
    expect(created).toMatchObject({ displayName: 'Ada Lovelace', timeZone: 'Europe/London', sex: 'female', dateOfBirth: null });
    expect(created.id).not.toBe(user.athleteId);

    const fetched = await client.athletes.get({ id: created.id });
    expect(fetched).toEqual(created);

    const page = await client.athletes.list();
    expect(page.items.map((athlete) => athlete.id).sort()).toEqual([user.athleteId, created.id].sort());

    // The same athlete through REST: one router, two protocols.
    const rest = await t.http().get(`/api/v1/athletes/${created.id}`).set(user.auth).expect(200);
    expect(rest.body).toMatchObject({ id: created.id, displayName: 'Ada Lovelace', createdAt: created.createdAt.toISOString() });
  });

  it('rejects a call without a token with UNAUTHORIZED (401)', async () => {
    const error = await rejection(clientFor().athletes.list());
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.status).toBe(401);
    expect(error.message).toEqual(expect.any(String));

    const badToken = await rejection(clientFor('not-a-real-session-token').athletes.list());
    expect(badToken.code).toBe('UNAUTHORIZED');
    expect(badToken.status).toBe(401);
  });

  it("answers NOT_FOUND (404) for another user's athlete, and leaves it untouched", async () => {
    const owner = await signUp(t, 'Rpc Owner');
    const intruder = await signUp(t, 'Rpc Intruder');
    const client = clientFor(intruder.token);

    const read = await rejection(client.athletes.get({ id: owner.athleteId }));
    expect(read.code).toBe('NOT_FOUND');
    expect(read.status).toBe(404);

    const update = await rejection(client.athletes.update({ id: owner.athleteId, displayName: 'Hijacked' }));
    expect(update.code).toBe('NOT_FOUND');
    const removal = await rejection(client.athletes.delete({ id: owner.athleteId }));
    expect(removal.code).toBe('NOT_FOUND');

    const stillThere = await clientFor(owner.token).athletes.get({ id: owner.athleteId });
    expect(stillThere.id).toBe(owner.athleteId);
    expect(stillThere.displayName).not.toBe('Hijacked');
  });

  it('reports invalid input as BAD_REQUEST (400) with field issues', async () => {
    const user = await signUp(t, 'Rpc Validator');
    const error = await rejection(clientFor(user.token).athletes.get({ id: 'not-a-uuid' }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.status).toBe(400);
    expect(error.data).toMatchObject({ issues: [expect.objectContaining({ path: ['id'], message: expect.any(String) })] });
  });

  it('narrows a declared CONFLICT with isDefinedError and reads existingId typed, with no cast', async () => {
    const user = await signUp(t, 'Rpc Conflict');
    const client = clientFor(user.token);
    const input = {
      athleteId: user.athleteId,
      activityType: 'running',
      source: 'strava' as const,
      externalId: `rpc-conflict-${Math.random().toString(36).slice(2)}`,
      startTime: new Date('2026-05-01T06:00:00Z'),
      endTime: new Date('2026-05-01T07:00:00Z'),
    };
    const created = await client.activities.create(input);

    const [error, data] = await safe(client.activities.create(input));
    expect(data).toBeUndefined();
    if (isDefinedError(error)) {
      // @ts-expect-error -- compile-time: existingId is CONFLICT's data, not that of every error createActivity declares
      expect(typeof error.data.existingId).toBe('string');
    }
    if (!isDefinedError(error) || error.code !== 'CONFLICT') throw new Error(`expected the declared CONFLICT, got ${String(error)}`);
    // Compile-time: the contract's declaration types the data (a string, not unknown); this file is type-checked (npm run typecheck).
    const existingId: string = error.data.existingId;
    expect(existingId).toBe(created.id);
    expect(error.status).toBe(409);
    expect(error.defined).toBe(true);
  });

  it('narrows the catalog\'s declared NOT_FOUND and reads its suggestions typed; a NOT_FOUND declared without data is defined too', async () => {
    const client = clientFor();
    const [error] = await safe(client.activityTypes.get({ slug: 'runing' }));
    if (!isDefinedError(error) || error.code !== 'NOT_FOUND') throw new Error(`expected the declared NOT_FOUND, got ${String(error)}`);
    const suggestions: string[] = error.data.suggestions;
    expect(suggestions).toContain('running');

    // A NOT_FOUND without the declared data (someone else's athlete) is still defined: athletes.get declares NOT_FOUND without data.
    const user = await signUp(t, 'Rpc Defined');
    const [missing] = await safe(clientFor(user.token).athletes.get({ id: '00000000-0000-4000-8000-000000000000' }));
    expect(isDefinedError(missing) && missing.code === 'NOT_FOUND').toBe(true);
  });
});
