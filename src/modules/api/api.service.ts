import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { onError, type AnyProcedure } from '@orpc/server';
import { RPCHandler } from '@orpc/server/fastify';
import { fromNodeHeaders } from 'better-auth/node';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
import { ChangesRouter } from '../changes/changes.router.js';
import { ConnectionsRouter } from '../connections/connections.router.js';
import { ProviderWebhooksRouter } from '../connections/garmin/garmin-webhooks.router.js';
import { ImportsRouter } from '../imports/imports.router.js';
import { OriginalsRouter } from '../originals/originals.router.js';
import { ExportsRouter } from '../exports/exports.router.js';
import { ReprocessRouter } from '../reprocess/reprocess.router.js';
import { StreamsRouter } from '../streams/streams.router.js';
import { SyncRouter } from '../sync/sync.router.js';
import { WebhooksRouter } from '../webhooks/webhooks.router.js';
import { registerAuthRoute } from './auth-route.js';
import { registerDocsPages } from './docs-pages.js';
import { registerWebApp } from './web-app.js';
import { errorBody, procedureErrorHandling, replyWithError, UNAUTHORIZED_BODY } from './errors.js';
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
    private readonly connections: ConnectionsRouter,
    private readonly changes: ChangesRouter,
    private readonly webhooks: WebhooksRouter,
    private readonly providerWebhooks: ProviderWebhooksRouter,
    private readonly originals: OriginalsRouter,
    private readonly exports: ExportsRouter,
    private readonly reprocess: ReprocessRouter,
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
      connections: this.connections,
      changes: this.changes,
      webhooks: this.webhooks,
      providerWebhooks: this.providerWebhooks,
      originals: this.originals,
      exports: this.exports,
      reprocess: this.reprocess,
    };
  }

  router() {
    const { athletes, activityTypes, activities, streams, sync, imports, connections, changes, webhooks, providerWebhooks, originals, exports, reprocess } = this.modules();
    return os.router({
      athletes: athletes.procedures,
      activityTypes: activityTypes.procedures,
      activities: activities.procedures,
      streams: streams.procedures,
      sync: sync.procedures,
      imports: imports.procedures,
      connections: connections.procedures,
      changes: changes.procedures,
      webhooks: webhooks.procedures,
      providerWebhooks: providerWebhooks.procedures,
      originals: originals.procedures,
      exports: exports.procedures,
      reprocess: reprocess.procedures,
    });
  }

  openApiDocument() {
    return generateOpenApiDocument(this.auth);
  }

  async mount(fastify: FastifyInstance): Promise<void> {
    const router = this.router();
    const { logUnexpected, normaliseErrors } = procedureErrorHandling(this.logger);
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
      api.setErrorHandler(replyWithError(this.logger));
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
        return reply.status(401).send(UNAUTHORIZED_BODY);
      };

      // One route per procedure (REST and RPC), from what each module declares.
      await registerProcedureRoutes(api, { modules: this.modules(), rest, rpc, context, checkCredentials });
    });

    await registerDocsPages(fastify, document);
    await registerWebApp(fastify, { mapTileUrl: this.env.MAP_TILE_URL });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocations?.stop();
  }
}
