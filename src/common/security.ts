import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The docs page (Scalar) needs its inline configuration script and inline styles; everything it
 * loads comes from this server (it must work offline), so nothing else is allowed.
 */
const DOCS_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'unsafe-inline'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The web app (/app): its scripts and styles come from this server only (styles set from script, as
 * uPlot's, are not inline sources); route maps may show tiles from MAP_TILE_URL's origin when it is set.
 */
export function appCsp(mapTileUrl?: string): Record<string, string[]> {
  const tiles = mapTileUrl ? [new URL(mapTileUrl.replace(/\{[a-z]\}/g, '0')).origin] : [];
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:', 'blob:', ...tiles],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
}

/** JSON answers are never rendered: allow nothing at all. */
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] };

/** Said on every 401 (RFC 9110 §11.6.1): the API takes bearer tokens (or the session cookie). */
export const WWW_AUTHENTICATE = 'Bearer realm="activity-api"';

/**
 * Security headers for every answer (@fastify/helmet: X-Content-Type-Options: nosniff,
 * X-Frame-Options: DENY plus `frame-ancestors 'none'`, Referrer-Policy: no-referrer, a CSP that is
 * strict for the API and lets the docs page run), `Cache-Control: no-store` on answers to
 * authenticated requests or that hand out credentials, and `WWW-Authenticate` on 401.
 */
export async function registerSecurityHeaders(fastify: FastifyInstance, options: { mapTileUrl?: string } = {}): Promise<void> {
  const app = cspValue(appCsp(options.mapTileUrl));
  await fastify.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // The API is called cross-origin by design (CORS is better-auth's trustedOrigins' business).
    crossOriginResourcePolicy: false,
    crossOriginEmbedderPolicy: false,
    // Set by the TLS-terminating proxy, which knows whether HTTPS is in use.
    hsts: false,
  });
  fastify.addHook('onSend', async (request, reply, payload) => {
    const url = request.url;
    if (url === '/docs' || url.startsWith('/docs/') || url.startsWith('/docs?')) {
      reply.header('content-security-policy', cspValue(DOCS_CSP));
    }
    if (url === '/app' || url.startsWith('/app/') || url.startsWith('/app?')) reply.header('content-security-policy', app);
    const credentials = request.headers.authorization !== undefined || request.headers.cookie !== undefined;
    const issues = reply.hasHeader('set-cookie') || reply.hasHeader('set-auth-token');
    if ((credentials || issues) && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', WWW_AUTHENTICATE);
    return payload;
  });
}

function cspValue(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => `${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} ${values.join(' ')}`)
    .join('; ');
}
