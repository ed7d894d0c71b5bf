import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OpenAPIHandler } from '@orpc/openapi/fastify';
import { onError, ORPCError } from '@orpc/server';
import { RPCHandler } from '@orpc/server/fastify';
import { fromNodeHeaders } from 'better-auth/node';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENV } from '../../config/config.module.js';
import { PARQUET_MEDIA_TYPE } from '../../contract/streams.contract.js';
import type { Env } from '../../config/env.js';
import { ActivitiesRouter } from '../activities/activities.router.js';
import { AthletesRouter } from '../athletes/athletes.router.js';
import type { Auth, AuthSession } from '../auth/auth.js';
import { InjectAuth } from '../auth/auth.module.js';
import { SessionCache } from '../auth/session-cache.js';
import { SessionRevocations } from '../auth/session-revocations.js';
import { describeError } from '../../common/logger.js';
import { isDatabaseUnavailable } from '../../database/errors.js';
import { pingDatabase, type Database } from '../../database/database.js';
import { InjectDb } from '../../database/database.module.js';
import { ActivityTypesRouter } from '../catalog/activity-types.router.js';
import { StreamsRouter } from '../streams/streams.router.js';
import { registerAuthRoute } from './auth-route.js';
import { classifyValidationError, codeForStatus, errorBody } from './errors.js';
import { generateOpenApiDocument } from './openapi.js';
import { os, type ApiContext } from './orpc.js';

/** Largest JSON body accepted by the API (a 2,000,000-sample stream upload fits). */
export const MAX_BODY_BYTES = 128 * 1024 * 1024;

/**
 * Serves the one oRPC router three ways — REST under /api/v1 (OpenAPI handler), RPC under /api/rpc,
 * and the generated OpenAPI document with its docs page — next to better-auth under /api/auth.
 * Feature modules contribute their procedures through their *Router providers.
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
  ) {}

  router() {
    return os.router({
      athletes: this.athletes.procedures,
      activityTypes: this.activityTypes.procedures,
      activities: this.activities.procedures,
      streams: this.streams.procedures,
    });
  }

  openApiDocument() {
    return generateOpenApiDocument(this.auth);
  }

  async mount(fastify: FastifyInstance): Promise<void> {
    const router = this.router();
    // Procedure errors are logged once, in normaliseErrors; this catches what fails around them.
    const logUnexpected = (error: unknown) => {
      if (!(error instanceof ORPCError)) this.logger.error(describe(error));
    };
    const normaliseErrors = async <T>({ next }: { next: () => Promise<T> }): Promise<T> => {
      try {
        return await next();
      } catch (error) {
        if (error instanceof ORPCError) {
          // A 5xx ORPCError here is a bug such as a failed output validation: keep its cause in the log.
          if (error.status >= 500) this.logger.error(describe(error.cause ?? error));
          throw classifyValidationError(error);
        }
        if (isDatabaseUnavailable(error)) {
          this.logger.warn(`Database unavailable: ${describeError(error).split('\n')[0]}`);
          throw new ORPCError('SERVICE_UNAVAILABLE', { message: DATABASE_UNAVAILABLE.message });
        }
        this.logger.error(describe(error));
        throw new ORPCError('INTERNAL_SERVER_ERROR', { message: 'Unexpected server error' });
      }
    };
    const rest = new OpenAPIHandler<ApiContext>(router, {
      interceptors: [onError(logUnexpected)],
      clientInterceptors: [normaliseErrors],
      customErrorResponseBodyEncoder: errorBody,
    });
    const rpc = new RPCHandler<ApiContext>(router, { interceptors: [onError(logUnexpected)], clientInterceptors: [normaliseErrors] });
    const document = await this.openApiDocument();

    await fastify.register(async (api) => {
      api.setErrorHandler((error: FastifyError, _request, reply) => this.replyWithError(error, reply));
      // Stream uploads may be a Parquet file: hand oRPC a File, as it would build one from a raw body.
      api.addContentTypeParser(
        [PARQUET_MEDIA_TYPE, 'application/octet-stream'],
        { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
        (request, body, done) => done(null, new File([body as Buffer], 'upload.parquet', { type: request.headers['content-type'] })),
      );

      const sessions = new SessionCache(this.auth, this.env.AUTH_SESSION_CACHE_SECONDS * 1000);
      if (this.env.DATABASE_URL && this.env.AUTH_SESSION_CACHE_SECONDS > 0) {
        // Other replicas' sign-outs, revocations and password changes evict here too.
        this.revocations = new SessionRevocations(this.env.DATABASE_URL);
        await this.revocations.start(sessions, (message) => this.logger.warn(message));
      }
      registerAuthRoute(api, this.auth, (headers) => sessions.evict(headers), () => pingDatabase(this.db));
      api.get('/api/openapi.json', async () => document);

      const context = (request: FastifyRequest): ApiContext => {
        const headers = fromNodeHeaders(request.headers);
        let session: Promise<AuthSession | null> | undefined;
        return { headers, session: () => (session ??= sessions.get(headers)) };
      };
      api.all('/api/v1/*', { bodyLimit: MAX_BODY_BYTES }, async (request, reply) => {
        const { matched } = await rest.handle(request, reply, { prefix: '/api', context: context(request) });
        if (!matched) reply.status(404).send({ code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0]}` });
      });
      api.all('/api/rpc/*', { bodyLimit: MAX_BODY_BYTES }, async (request, reply) => {
        const { matched } = await rpc.handle(request, reply, { prefix: '/api/rpc', context: context(request) });
        if (!matched) reply.status(404).send({ code: 'NOT_FOUND', message: 'No such procedure' });
      });
    });

    const { default: scalar } = await import('@scalar/fastify-api-reference');
    await fastify.register(scalar, {
      routePrefix: '/docs',
      configuration: {
        title: 'Unified Activity API',
        pageTitle: 'Unified Activity API reference',
        url: '/api/openapi.json',
        // The default fonts come from a CDN; the page must work offline.
        withDefaultFonts: false,
        authentication: { preferredSecurityScheme: 'bearerAuth' },
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocations?.stop();
  }

  private replyWithError(error: FastifyError, reply: FastifyReply) {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500 && isDatabaseUnavailable(error)) return reply.status(503).send(DATABASE_UNAVAILABLE);
    if (status >= 500) {
      this.logger.error(describe(error));
      return reply.status(500).send({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' });
    }
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.name === 'SyntaxError' ? 'The body is not valid JSON' : error.message;
    return reply.status(status).send({ code: codeForStatus(status), message });
  }
}

/** Failed queries carry their parameters (tokens, user data) in the message: log them redacted. */
function describe(error: unknown): string {
  return describeError(error);
}
