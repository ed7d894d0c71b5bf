/**
 * One Fastify route per procedure, from what its module declares (procedure-transport.ts): the REST
 * route (the contract's method and path under /api) and the RPC route (/api/rpc/<module>/<procedure>),
 * each with the procedure's body limit and, unless the procedure is public, the credential check as
 * its onRequest hook, so an anonymous upload is refused before a byte of its body is read. Both
 * routes still hand the request to oRPC's handlers (the same matching, validation and errors).
 * Anything else under /api/v1 and /api/rpc gets the check and then 404.
 */
import type { Readable } from 'node:stream';
import { isProcedure, type AnyProcedure } from '@orpc/server';
import type { FastifyHandler } from '@orpc/server/fastify';
import { PARQUET_MEDIA_TYPE } from '@unified-activity/contract';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { httpErrorBody } from '../errors.js';
import { requireUser, type ApiContext } from '../orpc.js';
import { DEFAULT_BODY_LIMIT, ReadBody, type ProcedureModule, type ProcedureTransport, type StreamedReply } from './procedure-transport.js';
import { captureRawBody } from './raw-body.js';

export interface ProcedureRoutesOptions {
  /** The router's modules by name (their procedures are at `<name>.<procedure>`). */
  modules: Readonly<Record<string, ProcedureModule>>;
  /** oRPC's handlers of the whole router: REST (OpenAPI) and RPC. */
  rest: FastifyHandler<ApiContext>;
  rpc: FastifyHandler<ApiContext>;
  /** The context every procedure gets (headers, the lazy session). */
  context: (request: FastifyRequest) => ApiContext;
  /** Answers 401 unless the request is signed in; run before the body is read. */
  checkCredentials: onRequestHookHandler;
}

interface ProcedureRoute {
  path: string[];
  procedure: AnyProcedure;
  transport: ProcedureTransport;
}

/** Every procedure of a router with its contract path. */
function procedures(router: object, path: string[]): Omit<ProcedureRoute, 'transport'>[] {
  if (isProcedure(router)) return [{ path, procedure: router }];
  return Object.entries(router).flatMap(([key, value]) => (value && typeof value === 'object' ? procedures(value as object, [...path, key]) : []));
}

/** `/v1/activities/{id}` → Fastify's `/api/v1/activities/:id`. */
const restUrl = (template: string) => `/api${template.replace(/\{([^}]+)\}/g, ':$1')}`;

const malformedMultipart = () => Object.assign(new Error('The body is not valid multipart/form-data'), { statusCode: 400 });

export async function registerProcedureRoutes(api: FastifyInstance, options: ProcedureRoutesOptions): Promise<void> {
  const { rest, rpc, context, checkCredentials } = options;
  const routes: ProcedureRoute[] = Object.entries(options.modules).flatMap(([name, module]) =>
    procedures(module.procedures, [name]).map((route) => ({ ...route, transport: module.transport?.[route.path[1]!] ?? {} })),
  );
  const guard = ({ procedure }: ProcedureRoute) =>
    procedure['~orpc'].middlewares.includes(requireUser) ? { onRequest: checkCredentials } : {};

  // `extra`: what the route adds to the context (context.rawBody, context.reply).
  const handleRest = async (request: FastifyRequest, reply: FastifyReply, extra?: Partial<ApiContext>) => {
    // Every procedure's input is an object. oRPC merges a route's path parameters with an object body
    // and drops any other (`[1]`, `"text"`, `null` to POST …/exports was a 202 with the body ignored):
    // a body that is there must be an object.
    const body = request.body;
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
      reply.status(400).send(httpErrorBody(400, 'The request body must be a JSON object'));
      return;
    }
    let base = context(request);
    if (request.body instanceof ReadBody) {
      // What the route's own reader read goes to the procedure; oRPC validates the stand-in.
      base = { ...base, upload: request.body.value };
      request.body = request.body.input;
    }
    const { matched } = await rest.handle(request, reply, { prefix: '/api', context: extra ? { ...base, ...extra } : base });
    if (!matched) reply.status(404).send(httpErrorBody(404, `No route for ${request.method} ${request.url.split('?')[0]}`));
  };
  const handleRpc = async (request: FastifyRequest, reply: FastifyReply) => {
    const { matched } = await rpc.handle(request, reply, { prefix: '/api/rpc', context: context(request) });
    if (!matched) reply.status(404).send(httpErrorBody(404, 'No such procedure'));
  };

  const restRoute = (route: ProcedureRoute): RouteOptions => {
    const { method = 'POST', path = '' } = route.procedure['~orpc'].route;
    const { bodyLimit = DEFAULT_BODY_LIMIT, rawBody, streamedRead } = route.transport;
    const options: RouteOptions = { method, url: restUrl(path), bodyLimit, ...guard(route), handler: handleRest };
    if (!rawBody && !streamedRead) return options;
    const rawBodies = new WeakMap<FastifyRequest, Uint8Array>();
    const streamed = new WeakMap<FastifyRequest, Readable | Buffer>();
    if (rawBody) options.preParsing = captureRawBody(bodyLimit, rawBody.tooLarge, (request, bytes) => rawBodies.set(request, bytes));
    if (streamedRead) {
      // The procedure hands its streamed body to context.reply; onSend writes it instead of the placeholder.
      options.onSend = async (request, reply, payload) => {
        const body = streamed.get(request);
        if (!body || reply.statusCode !== 200) return payload;
        if (Buffer.isBuffer(body)) reply.header('content-length', String(body.length));
        else reply.removeHeader('content-length');
        return body;
      };
    }
    options.handler = (request, reply) => {
      const extra: Partial<ApiContext> = {};
      if (rawBody) extra.rawBody = rawBodies.get(request);
      if (streamedRead) extra.reply = { send: (body) => void streamed.set(request, body) } satisfies StreamedReply;
      return handleRest(request, reply, extra);
    };
    return options;
  };

  // REST: a procedure that reads its own body gets a scope of its own for its parsers.
  await api.register(async (scope) => {
    // A binary body (a Parquet file) becomes a File, as oRPC would build one from a raw body.
    scope.addContentTypeParser([PARQUET_MEDIA_TYPE, 'application/octet-stream'], { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, new File([body as Buffer], 'upload.parquet', { type: PARQUET_MEDIA_TYPE })),
    );
    for (const route of routes) {
      const { restBody } = route.transport;
      if (!restBody) {
        scope.route(restRoute(route));
        continue;
      }
      await scope.register(async (own) => {
        await restBody(own);
        own.route(restRoute(route));
      });
    }
    scope.all('/api/v1/*', { bodyLimit: DEFAULT_BODY_LIMIT, onRequest: checkCredentials }, handleRest);
  });

  // RPC: oRPC's client sends an input that holds a File as multipart (its envelope and the files),
  // read here within the route's limit into the FormData oRPC decodes.
  await api.register(async (scope) => {
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) => {
      try {
        return await new Response(body, { headers: { 'content-type': request.headers['content-type'] ?? '' } }).formData();
      } catch {
        throw malformedMultipart();
      }
    });
    for (const route of routes) {
      scope.route({
        method: ['GET', 'POST'],
        url: `/api/rpc/${route.path.join('/')}`,
        bodyLimit: route.transport.bodyLimit ?? DEFAULT_BODY_LIMIT,
        ...guard(route),
        handler: handleRpc,
      });
    }
    scope.all('/api/rpc/*', { bodyLimit: DEFAULT_BODY_LIMIT, onRequest: checkCredentials }, handleRpc);
  });
}
