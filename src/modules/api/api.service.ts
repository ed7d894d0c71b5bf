import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { onError, ORPCError, type AnyProcedure } from '@orpc/server';
import { RPCHandler } from '@orpc/server/fastify';
import { fromNodeHeaders } from 'better-auth/node';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENV } from '../../config/config.module.js';
import type { Env } from '../../config/env.js';
import { ActivitiesRouter } from '../activities/activities.router.js';
import { AthletesRouter } from '../athletes/athletes.router.js';
import type { Auth, AuthSession } from '../auth/auth.js';
import { InjectAuth } from '../auth/auth.module.js';
import { SessionCache } from '../auth/session-cache.js';
import { SessionRevocations } from '../auth/session-revocations.js';
import { pingDatabase, type Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { ActivityTypesRouter } from '../catalog/activity-types.router.js';
import { ImportsRouter } from '../imports/imports.router.js';
import { StreamsRouter } from '../streams/streams.router.js';
import { SyncRouter } from '../sync/sync.router.js';
import { registerAuthRoute } from './auth-route.js';
import { classifyDatabaseError, describeDatabaseError } from '../../database/errors.js';
import { registerDocsPages } from './docs-pages.js';
import {
  classifyValidationError,
  codeForStatus,
  databaseErrorToOrpc,
  databaseUnavailableLogLine,
  describeError,
  errorBody,
  objectStoreErrorToOrpc,
} from './errors.js';
import { generateOpenApiDocument } from './openapi.js';
import { os, type ApiContext } from './orpc.js';
import { coerceQuery } from './query-coercion.js';
import { createRestHandler } from './trusted-output.js';
import { registerProcedureRoutes } from './transport/procedure-routes.js';

/**
 * Serves the one oRPC router three ways — REST under /api/v1 (OpenAPI handler), RPC under /api/rpc,
 * and the generated OpenAPI document with its docs page — next to better-auth under /api/auth.
 * Feature modules contribute their procedures, and what those need of their routes (body limits,
 * raw bodies, bodies read by the module, streamed reads), through their *Router providers; the
 * transport (./transport) turns them into one route per procedure.
 */
/** The answer to any request that failed because the database did not answer. */
export const DATABASE_UNAVAILABLE = { code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable; try again shortly' };

@Injectable()
export class ApiService implements OnApplicationShutdown {
  private readonly logger = new Logger('Api');
  private revocations: SessionRevocations | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectAuth() private readonly auth: Auth,
    @InjectDb() private readonly db: Database,
    private readonly athletes: AthletesRouter,
    private readonly activityTypes: ActivityTypesRouter,
    private readonly activities: ActivitiesRouter,
    private readonly streams: StreamsRouter,
    private readonly sync: SyncRouter,
    private readonly imports: ImportsRouter,
  ) {}

  /** The modules mounted, by their name in the contract. */
  private modules() {
    return {
      athletes: this.athletes,
      activityTypes: this.activityTypes,
      activities: this.activities,
      streams: this.streams,
      sync: this.sync,
      imports: this.imports,
    };
  }

  router() {
    const { athletes, activityTypes, activities, streams, sync, imports } = this.modules();
    return os.router({
      athletes: athletes.procedures,
      activityTypes: activityTypes.procedures,
      activities: activities.procedures,
      streams: streams.procedures,
      sync: sync.procedures,
      imports: imports.procedures,
    });
  }

  openApiDocument() {
    return generateOpenApiDocument(this.auth);
  }

  async mount(fastify: FastifyInstance): Promise<void> {
    const router = this.router();
    // Procedure errors are logged once, in normaliseErrors; this catches what fails around them.
    const logUnexpected = (error: unknown) => {
      if (!(error instanceof ORPCError)) this.logger.error(describeError(error));
    };
    const normaliseErrors = async <T>({ next }: { next: () => Promise<T> }): Promise<T> => {
      try {
        return await next();
      } catch (error) {
        if (error instanceof ORPCError) {
          // A 5xx ORPCError here is a bug such as a failed output validation: keep its cause in the log.
          if (error.status >= 500) this.logger.error(describeError(error.cause ?? error));
          throw classifyValidationError(error);
        }
        // An unreachable object store → 503 naming it (before the database mapper: see objectStoreErrorToOrpc).
        const storage = objectStoreErrorToOrpc(error);
        if (storage) {
          this.logger.warn(`Object storage unavailable: ${error instanceof Error ? error.message : String(error)}`);
          throw storage;
        }
        // The one database error mapper: the request's data (SQLSTATE 22, 23) → 4xx, unreachable → 503.
        const database = databaseErrorToOrpc(error);
        if (database) {
          if (database.status >= 500) this.logger.warn(databaseUnavailableLogLine(error));
          else this.logger.debug(`Database refused the request's data: ${describeDatabaseError(error)}`);
          throw database;
        }
        this.logger.error(describeError(error));
        throw new ORPCError('INTERNAL_SERVER_ERROR', { message: 'Unexpected server error' });
      }
    };
    // REST query strings carry only strings; numbers and booleans of GET inputs are read from them.
    const readQuery = <T>(options: { procedure: AnyProcedure; input: unknown; next: (options?: never) => Promise<T> }): Promise<T> =>
      options.procedure['~orpc'].route.method === 'GET'
        ? options.next({ ...options, input: coerceQuery(options.procedure['~orpc'].inputSchema as never, options.input) } as never)
        : options.next();
    // oRPC's OpenAPIHandler, with trusted outputs written without a second walk (trusted-output.ts).
    const rest = createRestHandler<ApiContext>(router, {
      interceptors: [onError(logUnexpected)],
      clientInterceptors: [normaliseErrors, readQuery],
      customErrorResponseBodyEncoder: errorBody,
    });
    const rpc = new RPCHandler<ApiContext>(router, { interceptors: [onError(logUnexpected)], clientInterceptors: [normaliseErrors] });
    const document = await this.openApiDocument();

    await fastify.register(async (api) => {
      api.setErrorHandler((error: FastifyError, _request, reply) => this.replyWithError(error, reply));
      const sessions = new SessionCache(this.auth, this.env.AUTH_SESSION_CACHE_SECONDS * 1000, this.db);
      if (this.env.DATABASE_URL && this.env.AUTH_SESSION_CACHE_SECONDS > 0) {
        // Other replicas' sign-outs, revocations and password changes evict here too.
        this.revocations = new SessionRevocations(this.env.DATABASE_URL);
        await this.revocations.start(sessions, (message) => this.logger.warn(message));
      }
      registerAuthRoute(api, this.auth, (headers) => sessions.evict(headers), () => pingDatabase(this.db));
      api.get('/api/openapi.json', async () => document);

      // The session is looked up once per request: in the onRequest check below, or lazily by the procedure.
      const requestSessions = new WeakMap<FastifyRequest, { headers: Headers; session?: Promise<AuthSession | null> }>();
      const sessionOf = (request: FastifyRequest) => {
        let entry = requestSessions.get(request);
        if (!entry) requestSessions.set(request, (entry = { headers: fromNodeHeaders(request.headers) }));
        const found = entry;
        return { headers: found.headers, session: () => (found.session ??= sessions.get(found.headers)) };
      };
      const context = (request: FastifyRequest): ApiContext => sessionOf(request);

      // Credentials are checked before the body is read (the onRequest hook of every signed-in
      // procedure's routes): an anonymous 100 MiB upload is refused at once instead of being
      // buffered and parsed first.
      const checkCredentials = async (request: FastifyRequest, reply: FastifyReply) => {
        if (await sessionOf(request).session()) return;
        // The body is never read: close the connection rather than drain what the client still sends.
        const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
        if (hasBody) reply.header('connection', 'close');
        return reply.status(401).send({ code: 'UNAUTHORIZED', message: 'Sign in first: send a bearer token or the session cookie' });
      };

      // One route per procedure (REST and RPC), from what each module declares.
      await registerProcedureRoutes(api, { modules: this.modules(), rest, rpc, context, checkCredentials });
    });

    await registerDocsPages(fastify, document);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocations?.stop();
  }

  private replyWithError(error: FastifyError, reply: FastifyReply) {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      const database = classifyDatabaseError(error);
      if (database) {
        // Failed outside a procedure (the credential check, better-auth): logged as normaliseErrors does.
        if (database.status >= 500) this.logger.warn(databaseUnavailableLogLine(error));
        return reply.status(database.status).send({ code: codeForStatus(database.status), message: database.message });
      }
      this.logger.error(describeError(error));
      return reply.status(500).send({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' });
    }
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.name === 'SyntaxError' ? 'The body is not valid JSON' : error.message;
    return reply.status(status).send({ code: codeForStatus(status), message });
  }
}
