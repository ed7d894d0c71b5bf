import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLIENT_IP_HEADER, type Auth } from '../auth/auth.js';
import { checkJson, DISPLAY_NAME_MAX_LENGTH, isCleanText } from '@unified-activity/contract';
import { isDatabaseUnavailable } from '../../database/errors.js';
import {
  codeForStatus,
  DATABASE_UNAVAILABLE,
  databaseUnavailableLogLine,
  httpErrorBody,
  malformedBody,
  ruleViolationBody,
  type ApiErrorBody,
  type ApiIssue,
} from './errors.js';

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

interface AuthErrorAnswer {
  status: number;
  body: ApiErrorBody;
}

/** better-auth's validation message: `[body.email] Invalid email address; [body.password] ...`. */
const FIELD_MESSAGE = /\[body\.([\w.]+)\]\s*([^;[]*)/g;

/** better-auth's codes that name a problem with one field, and how the API answers them. */
const FIELD_ERRORS: Record<string, { status: number; field: string }> = {
  USER_ALREADY_EXISTS: { status: 409, field: 'email' },
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: { status: 409, field: 'email' },
  INVALID_EMAIL: { status: 400, field: 'email' },
  PASSWORD_TOO_SHORT: { status: 422, field: 'password' },
  PASSWORD_TOO_LONG: { status: 422, field: 'password' },
};

/**
 * better-auth answers errors as `{ code?, message }` or, for rate limiting, plain text; rewrite them
 * into the API's one error shape so clients parse a single format: its validation errors become
 * 400 with `issues`, an email already registered 409 CONFLICT (sign-up tells whether an address
 * exists, as better-auth does by default; README "Errors" says why that is accepted).
 */
async function normaliseError(response: Response): Promise<AuthErrorAnswer> {
  const text = await response.text();
  let parsed: { code?: unknown; message?: unknown } | undefined;
  try {
    parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
  } catch {
    return { status: response.status, body: httpErrorBody(response.status, text || response.statusText) };
  }
  const code = typeof parsed?.code === 'string' ? parsed.code : undefined;
  const message = typeof parsed?.message === 'string' ? parsed.message : response.statusText;
  const fields = [...message.matchAll(FIELD_MESSAGE)].map((match) => ({ path: match[1]!.split('.'), message: match[2]!.trim() || 'Invalid value' }));
  if (code === 'VALIDATION_ERROR' || fields.length > 0) {
    return { status: 400, body: malformedBody(fields.length > 0 ? fields : [{ path: [], message }]) };
  }
  const field = code ? FIELD_ERRORS[code] : undefined;
  if (field) {
    return { status: field.status, body: { code: codeForStatus(field.status), message, issues: [{ path: [field.field], message }] } };
  }
  if (code === 'INVALID_ORIGIN' || code === 'MISSING_OR_NULL_ORIGIN') {
    const hint = "the page's origin is not trusted; set PUBLIC_URL to the address clients use, or list it in AUTH_TRUSTED_ORIGINS (comma-separated)";
    return { status: response.status, body: { code, message: `${message}: ${hint}` } };
  }
  return { status: response.status, body: { code: code ?? codeForStatus(response.status), message } };
}

/**
 * Two sign-ups with one email at the same moment: both find no user, the second insert breaks the
 * unique email, and better-auth answers it 422 FAILED_TO_CREATE_USER. If the email is registered
 * now, the answer is the one a later duplicate gets: 409 CONFLICT on `email`.
 */
async function signUpRace(auth: Auth, path: string, body: unknown, answer: AuthErrorAnswer): Promise<AuthErrorAnswer> {
  const email = (body as { email?: unknown } | undefined)?.email;
  if (!path.endsWith('/sign-up/email') || answer.body.code !== 'FAILED_TO_CREATE_USER' || typeof email !== 'string') return answer;
  const registered = await (await auth.$context).internalAdapter.findUserByEmail(email.toLowerCase()).catch(() => null);
  if (!registered) return answer;
  const message = 'User already exists. Use another email.';
  return { status: 409, body: { code: 'CONFLICT', message, issues: [{ path: ['email'], message }] } };
}

/** Longest text field of an auth request; the user's name has the athlete display name's limit (it becomes it). */
const MAX_AUTH_TEXT = 2000;
const MAX_LENGTH: Record<string, number> = { name: DISPLAY_NAME_MAX_LENGTH };
const AUTH_NESTED_BOUNDS = { maxDepth: 4, maxNodes: 100, maxStringLength: MAX_AUTH_TEXT };

/**
 * The contract's text rule for auth bodies, before better-auth sees them: no NUL or control
 * characters in any string field, bounded lengths (the name at most 200, as the default athlete's
 * displayName that sign-up fills from it).
 */
export function checkAuthBody(body: unknown): AuthErrorAnswer | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { status: 400, body: malformedBody([{ path: [], message: 'must be a JSON object' }]) };
  }
  const malformed: ApiIssue[] = [];
  const outOfBounds: ApiIssue[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'object' && value !== null) {
      // Auth bodies are flat; a nested value is bounded before better-auth (and JSON.stringify) recurse into it.
      const problem = checkJson(value, AUTH_NESTED_BOUNDS);
      if (problem) (problem.malformed ? malformed : outOfBounds).push({ path: [key, ...problem.path], message: problem.message });
      continue;
    }
    if (typeof value !== 'string') continue;
    const max = MAX_LENGTH[key] ?? MAX_AUTH_TEXT;
    if (!isCleanText(value, false)) malformed.push({ path: [key], message: 'must not contain control characters (NUL, tab, line breaks, ...)' });
    else if (value.length > max) outOfBounds.push({ path: [key], message: `must be at most ${max} characters` });
    else if (key === 'name' && value.trim().length === 0) outOfBounds.push({ path: [key], message: 'must not be empty' });
  }
  if (malformed.length > 0) return { status: 400, body: malformedBody(malformed) };
  if (outOfBounds.length > 0) {
    return { status: 422, body: ruleViolationBody(outOfBounds) };
  }
  return undefined;
}

/** 503, logged as the API logs an unreachable database (the answer itself names no cause). */
function databaseUnavailable(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  request.log.warn(databaseUnavailableLogLine(error));
  return reply.status(503).send(DATABASE_UNAVAILABLE);
}

/**
 * How long an auth request may go without an answer before the database is checked: a query to a
 * database that stopped answering waits for the driver's connect timeout (30 s; sign-in used to take
 * 15–20 s to fail). A normal sign-in (one password hash) is well within it.
 */
export const AUTH_STALL_MS = 500;
/**
 * How long that check waits for the database's answer before calling it unavailable. At 300 ms a
 * server's first sign-up after boot, on a loaded 2-CPU machine, was once answered 503 with the
 * database up (CI, deploy-faults): a new pool connection, a collection or a busy CPU can hold a
 * healthy ping that long. An outage still answers within 1.5 s.
 */
export const DATABASE_PING_TIMEOUT_MS = 1000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The database's failure if it does not answer within DATABASE_PING_TIMEOUT_MS, else undefined. */
async function databaseDown(pingDatabase: () => Promise<unknown>): Promise<unknown> {
  const timeout = Object.assign(new Error(`The database did not answer within ${DATABASE_PING_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' });
  return Promise.race([pingDatabase(), delay(DATABASE_PING_TIMEOUT_MS).then(() => Promise.reject(timeout))]).then(
    () => undefined,
    (error: unknown) => (isDatabaseUnavailable(error) ? error : undefined),
  );
}

/**
 * better-auth's answer, or — when it has none after AUTH_STALL_MS and the database does not answer a
 * ping either — `{ down }` with the database's failure, so that the route answers 503 within a second
 * instead of waiting out the driver's timeouts.
 */
async function answerOrOutage(answer: Promise<Response>, pingDatabase: () => Promise<unknown>): Promise<Response | { down: unknown }> {
  const stalled = Symbol('stalled');
  const first = await Promise.race([answer, delay(AUTH_STALL_MS).then(() => stalled)]);
  if (first !== stalled) return first as Response;
  const down = await Promise.race([answer.then(() => undefined), databaseDown(pingDatabase)]);
  if (down === undefined) return answer;
  // better-auth's request runs on until the driver gives up; its failure is already answered.
  answer.catch(() => undefined);
  return { down };
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
      const refused = hasBody ? checkAuthBody(request.body) : undefined;
      if (refused) return reply.status(refused.status).send(refused.body);
      const headers = toFetchHeaders(request);
      const signingOut = url.pathname.endsWith('/sign-out');
      if (signingOut) onSignOut(headers);
      let response: Response;
      try {
        const answer = auth.handler(
          new Request(url, {
            method: request.method,
            headers,
            body: hasBody ? JSON.stringify(request.body) : undefined,
          }),
        );
        const outcome = await answerOrOutage(answer, pingDatabase);
        if (!(outcome instanceof Response)) return databaseUnavailable(request, reply, outcome.down);
        response = outcome;
      } catch (error) {
        if (isDatabaseUnavailable(error)) return databaseUnavailable(request, reply, error);
        throw error;
      }
      if (response.status >= 500) {
        const down = await databaseDown(pingDatabase);
        if (down !== undefined) return databaseUnavailable(request, reply, down);
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
        const { status, body } = await signUpRace(auth, url.pathname, request.body, await normaliseError(response));
        // A client's mistake (a wrong password, an existing email): its status and code, never its input.
        if (status < 500) request.log.debug(`Auth request refused: ${status} ${body.code}`);
        reply.status(status).header('content-type', 'application/json; charset=utf-8');
        return reply.send(body);
      }
      return reply.send(response.body ? await response.text() : null);
    },
  });
}
