import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { isProcedure, onError, type AnyProcedure } from '@orpc/server';
import { RPCHandler } from '@orpc/server/fastify';
import { fromNodeHeaders } from 'better-auth/node';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENV } from '../../config/config.module.js';
import { MAX_IMPORT_UPLOAD_BYTES, PARQUET_MEDIA_TYPE } from '@unified-activity/contract';
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
import { registerMultipartUploads } from '../imports/multipart-upload.js';
import { registerStreamRoutes } from '../streams/http/stream-routes.js';
import { StreamsRouter } from '../streams/streams.router.js';
import { SyncRouter } from '../sync/sync.router.js';
import { captureRawBody } from '../sync/raw-body.js';
import { MAX_BATCH_BYTES } from '@unified-activity/contract';
import { registerAuthRoute } from './auth-route.js';
import { registerDocsPages } from './docs-pages.js';
import { errorBody, httpErrorBody, procedureErrorHandling, replyWithError, UNAUTHORIZED_BODY } from './errors.js';
import { generateOpenApiDocument } from './openapi.js';
import { os, requireUser, type ApiContext } from './orpc.js';
import { coerceQuery } from './query-coercion.js';
import { createRestHandler } from './trusted-output.js';

const MiB = 1024 * 1024;

/** Largest body of an /api/v1 or /api/rpc request unless its procedure is listed in BODY_LIMITS. */
export const DEFAULT_BODY_LIMIT = 1 * MiB;

/** Largest stream upload (JSON or Parquet): a 2,000,000-sample position stream fits. */
export const MAX_BODY_BYTES = 128 * MiB;

/**
 * Procedures (by contract path, `module.procedure`) whose bodies may exceed DEFAULT_BODY_LIMIT.
 * Each gets its own Fastify route for REST and RPC with this limit; everything else shares the
 * 1 MiB catch-all. A module whose procedure takes large bodies adds one line here (see
 * docs/development.md, "Body limits"), e.g. `'sync.ingestBatch': 32 * MiB`, `'imports.upload': 64 * MiB`.
 */
export const BODY_LIMITS: Readonly<Record<string, number>> = {
  'streams.upload': MAX_BODY_BYTES,
  'streams.uploadFile': MAX_BODY_BYTES,
  'imports.create': MAX_IMPORT_UPLOAD_BYTES,
  'sync.ingestBatch': MAX_BATCH_BYTES,
};

/** Procedures whose exact body bytes are kept on the request (the raw archive of sync batches, §6). */
const RAW_BODY_PROCEDURES: ReadonlySet<string> = new Set(['sync.ingestBatch']);

interface ProcedureRoute {
  path: string[];
  procedure: AnyProcedure;
}

/** Every procedure of a router with its contract path. */
function procedures(router: object, path: string[] = []): ProcedureRoute[] {
  if (isProcedure(router)) return [{ path, procedure: router }];
  return Object.entries(router).flatMap(([key, value]) => (value && typeof value === 'object' ? procedures(value as object, [...path, key]) : []));
}

/** `/v1/activities/{id}` → a matcher of the request path under /api. */
const templateMatcher = (template: string) =>
  new RegExp(`^/api${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`);

/**
 * Serves the one oRPC router three ways — REST under /api/v1 (OpenAPI handler), RPC under /api/rpc,
 * and the generated OpenAPI document with its docs page — next to better-auth under /api/auth.
 * Feature modules contribute their procedures through their *Router providers.
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
  ) {}

  router() {
    return os.router({
      athletes: this.athletes.procedures,
      activityTypes: this.activityTypes.procedures,
      activities: this.activities.procedures,
      streams: this.streams.procedures,
      sync: this.sync.procedures,
      imports: this.imports.procedures,
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
      // Stream uploads may be a Parquet file: hand oRPC a File, as it would build one from a raw body.
      api.addContentTypeParser(
        [PARQUET_MEDIA_TYPE, 'application/octet-stream'],
        { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
        (_request, body, done) => done(null, new File([body as Buffer], 'upload.parquet', { type: PARQUET_MEDIA_TYPE })),
      );

      // File imports: multipart is read file by file to disk, within the route's body limit, into { files: File[] } for oRPC.
      await registerMultipartUploads(api);

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
        const rawBody = (request as FastifyRequest & { rawBody?: Uint8Array }).rawBody;
        return { headers: found.headers, session: () => (found.session ??= sessions.get(found.headers)), ...(rawBody ? { rawBody } : {}) };
      };
      const context = (request: FastifyRequest): ApiContext => sessionOf(request);

      // Credentials are checked before the body is read: an anonymous 100 MiB upload is refused at
      // once instead of being buffered and parsed first. Public procedures (the catalog) are let through.
      const all = procedures(router);
      const publicRest = all
        .filter(({ procedure }) => !procedure['~orpc'].middlewares.includes(requireUser))
        .map(({ procedure }) => ({ method: procedure['~orpc'].route.method ?? 'POST', matches: templateMatcher(procedure['~orpc'].route.path ?? '') }));
      const publicRpc = new Set(
        all.filter(({ procedure }) => !procedure['~orpc'].middlewares.includes(requireUser)).map(({ path }) => `/api/rpc/${path.join('/')}`),
      );
      const isPublic = (method: string, path: string) =>
        path.startsWith('/api/rpc/') ? publicRpc.has(path) : publicRest.some((route) => route.method === method && route.matches.test(path));
      const checkCredentials = async (request: FastifyRequest, reply: FastifyReply) => {
        const path = request.url.split('?')[0]!;
        if (isPublic(request.method, path)) return;
        if (await sessionOf(request).session()) return;
        // The body is never read: close the connection rather than drain what the client still sends.
        const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
        if (hasBody) reply.header('connection', 'close');
        return reply.status(401).send(UNAUTHORIZED_BODY);
      };

      const handleRest = async (request: FastifyRequest, reply: FastifyReply) => {
        const { matched } = await rest.handle(request, reply, { prefix: '/api', context: context(request) });
        if (!matched) reply.status(404).send(httpErrorBody(404, `No route for ${request.method} ${request.url.split('?')[0]}`));
      };
      const handleRpc = async (request: FastifyRequest, reply: FastifyReply) => {
        const { matched } = await rpc.handle(request, reply, { prefix: '/api/rpc', context: context(request) });
        if (!matched) reply.status(404).send(httpErrorBody(404, 'No such procedure'));
      };
      const options = (bodyLimit: number) => ({ bodyLimit, onRequest: checkCredentials });
      api.all('/api/v1/*', options(DEFAULT_BODY_LIMIT), handleRest);
      api.all('/api/rpc/*', options(DEFAULT_BODY_LIMIT), handleRpc);
      // Procedures that take large bodies get their own routes, with their own limit (BODY_LIMITS).
      for (const { path, procedure } of all) {
        const bodyLimit = BODY_LIMITS[path.join('.')];
        if (bodyLimit === undefined) continue;
        const { method = 'POST', path: template = '' } = procedure['~orpc'].route;
        // REST bodies are the provider's bytes; an RPC body is oRPC's envelope, so only REST keeps them.
        const raw = RAW_BODY_PROCEDURES.has(path.join('.')) ? { preParsing: captureRawBody(bodyLimit) } : {};
        // streams.upload's REST route is the streams module's (below).
        if (path.join('.') !== 'streams.upload') {
          api.route({ method, url: `/api${template.replace(/\{([^}]+)\}/g, ':$1')}`, ...options(bodyLimit), ...raw, handler: handleRest });
        }
        api.route({ method: 'POST', url: `/api/rpc/${path.join('/')}`, ...options(bodyLimit), handler: handleRpc });
      }
      // 2,000,000-sample JSON uploads read chunk by chunk, and large reads written as a stream (still oRPC-handled).
      await registerStreamRoutes(api, {
        onRequest: checkCredentials,
        handler: handleRest,
        uploadBodyLimit: MAX_BODY_BYTES,
        readBodyLimit: DEFAULT_BODY_LIMIT,
        scanBody: this.streams.scanJsonBody,
      });
    });

    await registerDocsPages(fastify, document);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocations?.stop();
  }
}
