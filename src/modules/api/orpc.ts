import { implement, ORPCError } from '@orpc/server';
import { contract } from '@unified-activity/contract';
import type { AuthSession } from '../auth/auth.js';
import { SIGN_IN_FIRST } from './errors.js';
import type { StreamedReply } from './transport/procedure-transport.js';

/** What every procedure receives: the request headers and a lazy, memoised session lookup. */
export interface ApiContext {
  headers: Headers;
  session: () => Promise<AuthSession | null>;
  /** The exact request body, for procedures that declare `rawBody` (sync batches); REST only. */
  rawBody?: Uint8Array;
  /**
   * What the REST route's own body reader read, for procedures that declare `restBody` (a large
   * stream upload already in typed arrays): the reader's own class, narrowed with instanceof.
   */
  upload?: unknown;
  /** For procedures that declare `streamedRead`, on the REST route: writes the answer as a stream. */
  reply?: StreamedReply;
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
