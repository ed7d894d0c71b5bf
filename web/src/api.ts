import { createORPCClient } from '@orpc/client';
import { RPCLink } from '@orpc/client/fetch';
import type { ContractRouterClient } from '@orpc/contract';
import type { contract } from '@unified-activity/contract';

export type Api = ContractRouterClient<typeof contract>;

/** The contract's typed client over /api/rpc, same origin: the session cookie authenticates every call. */
export const api: Api = createORPCClient(new RPCLink({ url: new URL('/api/rpc', location.origin).href }));

export interface SessionUser {
  id: string;
  name: string;
  email: string;
}

/**
 * better-auth's own endpoints (/api/auth/*): they are not procedures of the contract, so they are
 * called with fetch. Errors carry better-auth's message.
 */
async function auth<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/auth/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown> | null) : null;
  if (!response.ok) throw new Error(typeof json?.message === 'string' ? json.message : `${response.status} ${response.statusText}`);
  return json as T;
}

export const session = () => auth<{ user: SessionUser } | null>('get-session').then((answer) => answer?.user ?? null);
export const signIn = (email: string, password: string) => auth<{ user: SessionUser }>('sign-in/email', { email, password });
export const signUp = (name: string, email: string, password: string) => auth<{ user: SessionUser }>('sign-up/email', { name, email, password });
export const signOut = () => auth<unknown>('sign-out', {});

/** A readable message from a client error (oRPC's ORPCError carries the API's message). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
