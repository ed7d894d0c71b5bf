import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/** A small SVG icon (a pulse line), served as /favicon.svg and /favicon.ico for both docs pages. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0f766e"/><path d="M4 17h6l3-8 5 15 3-7h7" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** Scalar's page settings (/docs). */
const SCALAR_OPTIONS = {
  routePrefix: '/docs',
  configuration: {
    title: 'Unified Activity API',
    pageTitle: 'Unified Activity API reference',
    url: '/api/openapi.json',
    favicon: '/favicon.svg',
    // The default fonts come from a CDN; the page must work offline.
    withDefaultFonts: false,
    authentication: { preferredSecurityScheme: 'bearerAuth' },
    // Everything below talks to scalar.com: Ask AI, Generate MCP, and the toolbar with Deploy and Share.
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: 'never',
    telemetry: false,
  },
} as const;

/** Scalar's routes under SCALAR_OPTIONS.routePrefix (its plugin's, with `url` set): the redirect to /docs/, the page, its script. */
const SCALAR_ROUTES = ['/docs', '/docs/', '/docs/js/scalar.js'];
/** Hop-by-hop and length headers the outer reply sets itself. */
const NOT_FORWARDED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/**
 * Scalar's page, loaded on its first request. `@scalar/fastify-api-reference` holds its whole browser
 * bundle as a string in its module (two copies of ~8 MiB of text once loaded: the module's source and
 * the string), which a server that nobody browses the docs of would carry for nothing (README,
 * "Footprint"). Fastify takes no routes once it listens, so the outer routes are declared here and,
 * on first use, answer through a private Fastify instance that has the plugin (`inject`, no socket);
 * the outer instance's hooks (security headers, CSP, logging) apply as to any route.
 */
function registerScalarOnFirstUse(fastify: FastifyInstance): void {
  let inner: Promise<FastifyInstance> | undefined;
  const load = async () => {
    const { default: scalar } = await import('@scalar/fastify-api-reference');
    const instance = Fastify({ logger: false });
    await instance.register(scalar, SCALAR_OPTIONS);
    await instance.ready();
    return instance;
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    inner ??= load().catch((error: unknown) => {
      inner = undefined;
      throw error;
    });
    const answer = await (await inner).inject({ method: 'GET', url: request.url, headers: { host: request.headers.host ?? 'localhost' } });
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !NOT_FORWARDED.has(name.toLowerCase())) reply.header(name, value);
    }
    return reply.status(answer.statusCode).send(answer.rawPayload);
  };
  for (const url of SCALAR_ROUTES) fastify.get(url, { schema: { hide: true } }, handler);
}

/**
 * The two API explorers on the one served document (/api/openapi.json): Scalar at /docs and Swagger
 * UI at /docs/swagger. Both are self-contained (their assets come from the npm packages, nothing from
 * a CDN), and Scalar's buttons that need the Internet (Ask AI, MCP, the developer toolbar with Deploy
 * and Share) are turned off: the server may run with no Internet access at all.
 */
export async function registerDocsPages(fastify: FastifyInstance, document: Record<string, unknown>): Promise<void> {
  const favicon = (_request: unknown, reply: { type: (t: string) => { send: (b: string) => unknown } }) =>
    reply.type('image/svg+xml').send(FAVICON_SVG);
  fastify.get('/favicon.svg', favicon);
  fastify.get('/favicon.ico', favicon);

  registerScalarOnFirstUse(fastify);

  // @fastify/swagger-ui serves what @fastify/swagger holds; in static mode that is this same document.
  const { default: swagger } = await import('@fastify/swagger');
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await fastify.register(swagger, { mode: 'static', specification: { document: document as never } });
  await fastify.register(swaggerUi, {
    routePrefix: '/docs/swagger',
    uiConfig: { persistAuthorization: true, displayOperationId: true, deepLinking: true },
    theme: { title: 'Unified Activity API — Swagger UI', favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: Buffer.from(FAVICON_SVG) }] },
  });
}
