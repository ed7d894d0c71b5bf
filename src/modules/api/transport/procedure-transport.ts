/**
 * What a procedure needs of its HTTP routes, declared by its feature module beside the procedure
 * (the `transport` of its *Router provider) and turned into routes by procedure-routes.ts. Whether a
 * route is public or signed-in is the procedure's own builder: `authed` (the `requireUser`
 * middleware) is checked before the body is read, `os` is public.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';

const MiB = 1024 * 1024;

/** Largest body of a procedure's routes (REST and RPC) unless it declares its own `bodyLimit`. */
export const DEFAULT_BODY_LIMIT = 1 * MiB;

export interface ProcedureTransport {
  /** Largest body of its REST and RPC routes, bytes (DEFAULT_BODY_LIMIT otherwise). */
  bodyLimit?: number;
  /**
   * Keep the exact REST body bytes as `context.rawBody` (the raw archive of sync batches, §6), and
   * answer a body over the limit with `tooLarge` (what the client should do instead). An RPC body
   * is oRPC's envelope, so only REST keeps them.
   */
  rawBody?: { tooLarge: string };
  /**
   * The REST route reads its body itself: registers its content-type parsers or hooks on `scope`,
   * the route's own Fastify scope (no other route sees them). A parser may answer a `ReadBody`:
   * its `value` reaches the procedure as `context.upload`, its `input` is what oRPC validates
   * against the contract in its place. The RPC route keeps oRPC's own body.
   */
  restBody?: (scope: FastifyInstance) => Promise<void> | void;
  /** The REST route may write the answer as a stream: the procedure gets `context.reply`. */
  streamedRead?: boolean;
}

/** A module's transport needs, by procedure name; a procedure not named gets the defaults. */
export type TransportNeeds<TProcedures> = { readonly [K in keyof TProcedures]?: ProcedureTransport };

/** A feature module's part of the router: its procedures and what they need of their routes. */
export interface ProcedureModule {
  readonly procedures: object;
  readonly transport?: { readonly [procedure: string]: ProcedureTransport | undefined };
}

/** What a `restBody` parser read: `value` for the procedure, `input` (shaped as the contract says) for oRPC. */
export class ReadBody {
  constructor(
    readonly value: unknown,
    readonly input: unknown,
  ) {}
}

/** Given to a procedure that declares `streamedRead`, on its REST route. */
export interface StreamedReply {
  /**
   * Writes `body` as the successful answer in place of the procedure's output (which the
   * procedure then returns as a valid placeholder; its headers, e.g. content-type, stay): a
   * stream (written chunked) or the whole body in one buffer.
   */
  send(body: Readable | Buffer): void;
}
