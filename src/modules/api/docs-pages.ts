import type { FastifyInstance } from 'fastify';

/** A small SVG icon (a pulse line), served as /favicon.svg and /favicon.ico for both docs pages. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0f766e"/><path d="M4 17h6l3-8 5 15 3-7h7" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

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

  const { default: scalar } = await import('@scalar/fastify-api-reference');
  await fastify.register(scalar, {
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
  });

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
