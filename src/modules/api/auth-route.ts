import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLIENT_IP_HEADER, type Auth } from '../auth/auth.js';
import { isDatabaseUnavailable } from '../../database/errors.js';
import { codeForStatus } from './errors.js';

/** The answer when better-auth failed because the database did not answer (see api.service.ts). */
const DATABASE_UNAVAILABLE = { code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable; try again shortly' };

function toFetchHeaders(request: FastifyRequest): Headers {
  const headers = new Headers();
  // Node's fetch sends `sec-fetch-mode: cors` without an Origin, which better-auth's CSRF check then
  // refuses. A request with neither Origin nor Cookie carries no ambient credentials to forge, so its
  // sec-fetch headers are dropped; browsers always send Origin on such POSTs and stay checked.
  const ambient = request.headers.origin !== undefined || request.headers.cookie !== undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === CLIENT_IP_HEADER) continue;
    if (!ambient && name.startsWith('sec-fetch-')) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
  }
  headers.set(CLIENT_IP_HEADER, request.ip);
  return headers;
}

/**
 * better-auth answers errors as `{ code?, message }` or, for rate limiting, plain text; rewrite them
 * into the API's one error shape so clients parse a single format.
 */
async function normaliseError(response: Response): Promise<{ code: string; message: string }> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      code: typeof parsed.code === 'string' ? parsed.code : codeForStatus(response.status),
      message: typeof parsed.message === 'string' ? parsed.message : response.statusText,
    };
  } catch {
    return { code: codeForStatus(response.status), message: text || response.statusText };
  }
}

/** Mounts better-auth at /api/auth/* as a plain Fastify route (it speaks fetch Request/Response). */
export function registerAuthRoute(
  fastify: FastifyInstance,
  auth: Auth,
  onSignOut: (headers: Headers) => void,
  /** Resolves when the database answers; better-auth turns every failure into a bare 500, so a 5xx is checked against it. */
  pingDatabase: () => Promise<unknown> = async () => undefined,
): void {
  fastify.route({
    method: ['GET', 'POST'],
    url: '/api/auth/*',
    async handler(request: FastifyRequest, reply: FastifyReply) {
      const url = new URL(request.url, `${request.protocol}://${request.host}`);
      const hasBody = request.method !== 'GET' && request.body !== undefined;
      const headers = toFetchHeaders(request);
      const signingOut = url.pathname.endsWith('/sign-out');
      if (signingOut) onSignOut(headers);
      let response: Response;
      try {
        response = await auth.handler(
          new Request(url, {
            method: request.method,
            headers,
            body: hasBody ? JSON.stringify(request.body) : undefined,
          }),
        );
      } catch (error) {
        if (isDatabaseUnavailable(error)) return reply.status(503).send(DATABASE_UNAVAILABLE);
        throw error;
      }
      if (response.status >= 500 && (await pingDatabase().then(() => false, (error: unknown) => isDatabaseUnavailable(error)))) {
        return reply.status(503).send(DATABASE_UNAVAILABLE);
      }
      // Again once the session is gone: a request running meanwhile may have cached it anew.
      if (signingOut) onSignOut(headers);
      reply.status(response.status);
      response.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'set-cookie') reply.header(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) reply.header('set-cookie', cookies);
      if (response.status >= 400) {
        reply.header('content-type', 'application/json; charset=utf-8');
        return reply.send(await normaliseError(response));
      }
      return reply.send(response.body ? await response.text() : null);
    },
  });
}
