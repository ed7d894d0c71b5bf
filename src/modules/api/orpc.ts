import { implement, ORPCError } from '@orpc/server';
import { contract } from '@unified-activity/contract';
import type { AuthSession } from '../auth/auth.js';
import { SIGN_IN_FIRST } from './errors.js';

/** What every procedure receives: the request headers and a lazy, memoised session lookup. */
export interface ApiContext {
  headers: Headers;
  session: () => Promise<AuthSession | null>;
  /** The exact request body, for routes that archive it (sync batches); set by their Fastify route. */
  rawBody?: Uint8Array;
}

export const os = implement(contract).$context<ApiContext>();

/** Resolves the better-auth session (cookie or bearer); no session → 401 before any handler runs. */
export const requireUser = os.middleware(async ({ context, next }) => {
  const current = await context.session();
  if (!current) throw new ORPCError('UNAUTHORIZED', { message: SIGN_IN_FIRST });
  return next({ context: { user: current.user } });
});

/** Procedures of the signed-in user; `context.user.id` is the owner every query is scoped to. */
export const authed = os.use(requireUser);
