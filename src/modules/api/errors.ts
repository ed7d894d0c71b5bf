/**
 * The one module that writes error bodies, whichever layer a failure comes from: a procedure
 * (oRPC: normaliseErrors + errorBody), Fastify (replyWithError), the credential check
 * (UNAUTHORIZED_BODY), Nest (HttpExceptionFilter), the socket (answerMalformedHttp) and better-auth
 * (auth-route.ts). Every body is `{ code, message, issues? }` plus the error's data fields at the top
 * level (README "Errors"); which errors a procedure answers is declared in the contract (`.errors()`).
 */
import type { Socket } from 'node:net';
import { ORPCError } from '@orpc/server';
import type { FastifyError, FastifyReply } from 'fastify';
import { classifyDatabaseError, DATABASE_UNAVAILABLE_MESSAGE, describeDatabaseError, RULE_VIOLATION_MESSAGE } from '../../database/errors.js';
import { ObjectStoreUnavailableError } from '../streams/storage/object-store.js';

/** The part of Nest's Logger the error handlers write to. */
export interface ErrorLogger {
  error(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface ApiIssue {
  path: (string | number)[];
  message: string;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  issues?: ApiIssue[];
  [extra: string]: unknown;
}

interface RawIssue {
  code?: string;
  origin?: string;
  message?: string;
  keys?: readonly string[];
  /** Custom issues: `malformed: true` marks input that is not merely out of bounds (NUL in JSON). */
  params?: { malformed?: boolean };
  /** invalid_union: the issues of each alternative. */
  errors?: readonly (readonly RawIssue[])[];
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

/** Procedures with a detailed input structure validate `{ params, query, body }`; clients know only the fields. */
const ENVELOPE = new Set(['params', 'query', 'body', 'headers']);

const pathOf = (issue: RawIssue): (string | number)[] => {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    return typeof key === 'number' ? key : String(key);
  });
  return path.length > 0 && ENVELOPE.has(String(path[0])) ? path.slice(1) : path;
};

/** One issue per offending field; zod reports all unknown keys of an object in a single issue. */
export const toApiIssues = (issues: readonly RawIssue[]): ApiIssue[] =>
  issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
      return issue.keys.map((key) => ({ path: [...pathOf(issue), key], message: 'Unknown field' }));
    }
    const branch = closestUnionBranch(issue);
    if (branch) {
      const prefix = pathOf(issue);
      return toApiIssues(branch).map((inner) => ({ ...inner, path: [...prefix, ...inner.path] }));
    }
    return [{ path: pathOf(issue), message: issue.message ?? 'Invalid value' }];
  });

/**
 * For a value that matches no alternative of a union, the alternative the client most likely meant
 * is the one whose problems lie deepest (it got furthest); its issues say what to fix.
 */
function closestUnionBranch(issue: RawIssue): readonly RawIssue[] | undefined {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return undefined;
  const depth = (branch: readonly RawIssue[]) => Math.max(...branch.map((inner) => inner.path?.length ?? 0));
  const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0];
  return best && best.length > 0 && depth(best) > 0 ? best : undefined;
}

/**
 * The one rule (README, "Errors"): 400 when the request cannot be read as meant — a wrong type, an
 * unknown or missing field, a malformed format (date-time, UUID, control characters, NUL); 422
 * when it reads fine but a value breaks a documented bound or rule — out of range (numbers, dates,
 * string lengths, item counts, nesting), not one of the allowed values, a cross-field rule.
 * `limit=500` and a 501-character name are therefore both 422. A request with any 400 problem is a 400.
 */
function isRuleViolation(issue: RawIssue): boolean {
  switch (issue.code) {
    case 'custom':
      return issue.params?.malformed !== true;
    case 'invalid_value':
    case 'not_multiple_of':
    case 'too_small':
    case 'too_big':
      return true;
    default:
      return false;
  }
}

const MALFORMED_MESSAGE = 'The request is malformed';

/** 400 BAD_REQUEST: the request cannot be read as meant (the rule of isRuleViolation); issues say where. */
export const malformedRequest = (issues: ApiIssue[]) => new ORPCError('BAD_REQUEST', { message: MALFORMED_MESSAGE, data: { issues } });

/** 422 UNPROCESSABLE_CONTENT: readable, but a value breaks a documented bound or rule. */
export const ruleViolation = (issues?: ApiIssue[], message = RULE_VIOLATION_MESSAGE) =>
  new ORPCError('UNPROCESSABLE_CONTENT', { message, ...(issues ? { data: { issues } } : {}) });

/** Rewrites oRPC's input-validation error into our 400/422 with field paths. */
export function classifyValidationError(error: ORPCError<string, unknown>): ORPCError<string, unknown> {
  const data = error.data as { issues?: readonly RawIssue[] } | undefined;
  if (error.code !== 'BAD_REQUEST' || !data?.issues) return error;
  const issues = toApiIssues(data.issues);
  const semantic = data.issues.length > 0 && data.issues.every(isRuleViolation);
  return semantic ? ruleViolation(issues) : malformedRequest(issues);
}

/** The bodies of malformedRequest and ruleViolation, for a layer without oRPC (the auth route). */
export const malformedBody = (issues: ApiIssue[]): ApiErrorBody => errorBody(malformedRequest(issues));
export const ruleViolationBody = (issues: ApiIssue[]): ApiErrorBody => errorBody(ruleViolation(issues));

/** The body of an error the server writes itself (no ORPCError at hand): the code of its status and a message. */
export const httpErrorBody = (status: number, message: string): ApiErrorBody => ({ code: codeForStatus(status), message });

/** The answer to a request without valid credentials (the credential check and requireUser). */
export const SIGN_IN_FIRST = 'Sign in first: send a bearer token or the session cookie';
export const UNAUTHORIZED_BODY: ApiErrorBody = { code: 'UNAUTHORIZED', message: SIGN_IN_FIRST };

/** The answer to any request that failed because the database did not answer. */
export const DATABASE_UNAVAILABLE: ApiErrorBody = { code: 'SERVICE_UNAVAILABLE', message: DATABASE_UNAVAILABLE_MESSAGE };

/** The answer to a bug: never the error itself (it is logged). */
export const INTERNAL_ERROR_BODY: ApiErrorBody = { code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected server error' };

/** Our error body from an ORPCError: `{ code, message, issues? }` plus any extra data fields. */
export function errorBody(error: ORPCError<string, unknown>): ApiErrorBody {
  const data = error.data;
  const extra = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  return { ...extra, code: error.code, message: error.message };
}

/** Maps an HTTP status (from Fastify or a dependency) to the code names oRPC uses. */
export function codeForStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_SUPPORTED',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    422: 'UNPROCESSABLE_CONTENT',
    414: 'URI_TOO_LONG',
    429: 'TOO_MANY_REQUESTS',
    431: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
    503: 'SERVICE_UNAVAILABLE',
  };
  return codes[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
}

/**
 * The one answer to an unreachable object store: 503 naming it, with what the request left behind
 * (streams: nothing was changed; an import: which files were stored before the outage).
 */
export function objectStorageUnavailable(outcome = 'nothing was changed'): ORPCError<string, unknown> {
  return new ORPCError('SERVICE_UNAVAILABLE', { message: `${OBJECT_STORAGE_UNAVAILABLE}; ${outcome}. Try again later.` });
}
const OBJECT_STORAGE_UNAVAILABLE = 'Object storage is unavailable';

/** The store's own error, or the answer objectStorageUnavailable made of it further down (the streams service's). */
export function isObjectStorageUnavailable(error: unknown): boolean {
  if (error instanceof ObjectStoreUnavailableError) return true;
  return error instanceof ORPCError && error.status === 503 && error.message.startsWith(`${OBJECT_STORAGE_UNAVAILABLE};`);
}

/**
 * An object store failure as the API's answer, or undefined. Checked before the database mapping:
 * an object store error carries the socket error (ECONNREFUSED…) as its cause, which the database
 * classification would otherwise read as the database being down.
 */
export function objectStoreErrorToOrpc(error: unknown): ORPCError<string, unknown> | undefined {
  return error instanceof ObjectStoreUnavailableError ? objectStorageUnavailable() : undefined;
}

/** A database failure as the API's answer (4xx for the request's data, 503 when unreachable), or undefined for a bug. */
export function databaseErrorToOrpc(error: unknown): ORPCError<string, unknown> | undefined {
  const classified = classifyDatabaseError(error);
  return classified && new ORPCError(codeForStatus(classified.status), { status: classified.status, message: classified.message });
}

/**
 * One log line for an unexpected error: for a failed query the database's cause and the statement
 * once (not Drizzle's message, which repeats the query and lists the parameter values), then the
 * stack frames.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error) && (typeof error !== 'object' || error === null)) return String(error);
  const { name = 'Error', message = '', stack = '' } = error as { name?: string; message?: string; stack?: string };
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
  const database = describeDatabaseError(error);
  return `${database ? `Database error: ${database}` : `${name}: ${message}`}${frames ? `\n${frames}` : ''}`;
}

/** The one log line of an unreachable database, wherever a request met it (procedure, credential check, better-auth). */
export function databaseUnavailableLogLine(error: unknown): string {
  return `Database unavailable: ${describeDatabaseError(error) ?? String(error)}`;
}

/**
 * The procedures' error handling, for both oRPC handlers: `normaliseErrors` (a client interceptor)
 * turns whatever a procedure threw into the declared ORPCError — validation problems into 400/422
 * with field paths, an unreachable object store or database into 503, the request's data refused by
 * the database into 4xx, anything else into a logged 500 — and oRPC then marks it defined when it
 * matches the procedure's `.errors()`. `logUnexpected` (a handler interceptor's onError) catches what
 * fails around a procedure.
 */
export function procedureErrorHandling(logger: ErrorLogger) {
  // Procedure errors are logged once, in normaliseErrors; this catches what fails around them.
  const logUnexpected = (error: unknown) => {
    if (!(error instanceof ORPCError)) logger.error(describeError(error));
  };
  const normaliseErrors = async <T>({ next }: { next: () => Promise<T> }): Promise<T> => {
    try {
      return await next();
    } catch (error) {
      if (error instanceof ORPCError) {
        // A 5xx ORPCError here is a bug such as a failed output validation: keep its cause in the log.
        if (error.status >= 500) logger.error(describeError(error.cause ?? error));
        throw classifyValidationError(error);
      }
      // An unreachable object store → 503 naming it (before the database mapper: see objectStoreErrorToOrpc).
      const storage = objectStoreErrorToOrpc(error);
      if (storage) {
        logger.warn(`Object storage unavailable: ${error instanceof Error ? error.message : String(error)}`);
        throw storage;
      }
      // The one database error mapper: the request's data (SQLSTATE 22, 23) → 4xx, unreachable → 503.
      const database = databaseErrorToOrpc(error);
      if (database) {
        if (database.status >= 500) logger.warn(databaseUnavailableLogLine(error));
        else logger.debug(`Database refused the request's data: ${describeDatabaseError(error)}`);
        throw database;
      }
      logger.error(describeError(error));
      throw new ORPCError('INTERNAL_SERVER_ERROR', { message: INTERNAL_ERROR_BODY.message });
    }
  };
  return { logUnexpected, normaliseErrors };
}

/** Fastify's error handler for /api: body limits, content types, unreadable JSON, and what failed outside a procedure. */
export function replyWithError(logger: ErrorLogger) {
  return (error: FastifyError, _request: unknown, reply: FastifyReply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      const database = classifyDatabaseError(error);
      if (database) {
        // Failed outside a procedure (the credential check, better-auth): logged as normaliseErrors does.
        if (database.status >= 500) logger.warn(databaseUnavailableLogLine(error));
        return reply.status(database.status).send(httpErrorBody(database.status, database.message));
      }
      logger.error(describeError(error));
      return reply.status(500).send(INTERNAL_ERROR_BODY);
    }
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.name === 'SyntaxError' ? 'The body is not valid JSON' : error.message;
    return reply.status(status).send(httpErrorBody(status, message));
  };
}

/**
 * Fastify's router refuses some requests before any route, hook or error handler runs — a malformed
 * percent-encoding in the path (400 FST_ERR_BAD_URL), an over-long path parameter (414) — and wrote
 * its own `{ statusCode, error, code: 'FST_…' }` body; the adapter's `frameworkErrors` answers them here.
 */
export function answerFrameworkError(error: FastifyError, _request: unknown, reply: FastifyReply) {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  return reply.code(status).send(httpErrorBody(status, error.message));
}

/**
 * Requests Node's HTTP parser rejects (bad header characters, oversized headers) never reach a
 * route; answer them in the API's error shape too instead of Fastify's default body.
 */
export function answerMalformedHttp(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(tooLarge ? httpErrorBody(431, 'The request headers are too large') : httpErrorBody(400, 'The request is not valid HTTP'));
  socket.end(
    `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
