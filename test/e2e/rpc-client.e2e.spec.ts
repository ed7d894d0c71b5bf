import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { createORPCClient, ORPCError } from '@orpc/client';
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
});
