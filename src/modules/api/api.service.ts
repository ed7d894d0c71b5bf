import { Inject, Injectable, Logger } from '@nestjs/common';
import { OpenAPIHandler } from '@orpc/openapi/fastify';
import { onError, ORPCError } from '@orpc/server';
import { RPCHandler } from '@orpc/server/fastify';
import { fromNodeHeaders } from 'better-auth/node';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENV } from '../../config/config.module.js';
import { MAX_IMPORT_UPLOAD_BYTES } from '../../contract/imports.contract.js';
import { PARQUET_MEDIA_TYPE } from '../../contract/streams.contract.js';
import type { Env } from '../../config/env.js';
import { ActivitiesRouter } from '../activities/activities.router.js';
import { AthletesRouter } from '../athletes/athletes.router.js';
import type { Auth, AuthSession } from '../auth/auth.js';
import { InjectAuth } from '../auth/auth.module.js';
import { SessionCache } from '../auth/session-cache.js';
import { ActivityTypesRouter } from '../catalog/activity-types.router.js';
import { ImportsRouter } from '../imports/imports.router.js';
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
@Injectable()
export class ApiService {
  private readonly logger = new Logger('Api');

  constructor(
    @Inject(ENV) private readonly env: Env,
    @InjectAuth() private readonly auth: Auth,
    private readonly athletes: AthletesRouter,
    private readonly activityTypes: ActivityTypesRouter,
    private readonly activities: ActivitiesRouter,
    private readonly streams: StreamsRouter,
    private readonly imports: ImportsRouter,
  ) {}

  router() {
    return os.router({
      athletes: this.athletes.procedures,
      activityTypes: this.activityTypes.procedures,
      activities: this.activities.procedures,
      streams: this.streams.procedures,
      imports: this.imports.procedures,
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

      // File imports: multipart is parsed here, within its own size limit, into { files: File[] } for oRPC.
      api.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MAX_IMPORT_UPLOAD_BYTES }, (request, body, done) => {
        new Response(body as Buffer<ArrayBuffer>, { headers: { 'content-type': request.headers['content-type']! } })
          .formData()
          .then((form) => done(null, { files: form.getAll('files').filter((value) => typeof value !== 'string') }))
          .catch(() => done(Object.assign(new Error('The body is not valid multipart/form-data'), { statusCode: 400 }), undefined));
      });

      const sessions = new SessionCache(this.auth, this.env.AUTH_SESSION_CACHE_SECONDS * 1000);
      registerAuthRoute(api, this.auth, (headers) => sessions.evict(headers));
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

  private replyWithError(error: FastifyError, reply: FastifyReply) {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      this.logger.error(describe(error));
      return reply.status(500).send({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' });
    }
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.name === 'SyntaxError' ? 'The body is not valid JSON' : error.message;
    return reply.status(status).send({ code: codeForStatus(status), message });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}
