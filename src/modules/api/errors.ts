import { ORPCError } from '@orpc/server';

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
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

const pathOf = (issue: RawIssue): (string | number)[] =>
  (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    return typeof key === 'number' ? key : String(key);
  });

/** One issue per offending field; zod reports all unknown keys of an object in a single issue. */
export const toApiIssues = (issues: readonly RawIssue[]): ApiIssue[] =>
  issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' && issue.keys?.length
      ? issue.keys.map((key) => ({ path: [...pathOf(issue), key], message: 'Unknown field' }))
      : [{ path: pathOf(issue), message: issue.message ?? 'Invalid value' }],
  );

/**
 * 400 is for input a client could not have meant (wrong types, unknown fields, oversized strings or
 * arrays, malformed ids and dates); 422 for well-formed input that breaks a rule of the data model
 * (a number out of range, end before start, an unknown enum value, a refinement). A request with
 * any structural problem is a 400.
 */
function isRuleViolation(issue: RawIssue): boolean {
  switch (issue.code) {
    case 'custom':
    case 'invalid_value':
    case 'not_multiple_of':
      return true;
    case 'too_small':
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint' || issue.origin === 'date';
    default:
      return false;
  }
}

/** Rewrites oRPC's input-validation error into our 400/422 with field paths. */
export function classifyValidationError(error: ORPCError<string, unknown>): ORPCError<string, unknown> {
  const data = error.data as { issues?: readonly RawIssue[] } | undefined;
  if (error.code !== 'BAD_REQUEST' || !data?.issues) return error;
  const issues = toApiIssues(data.issues);
  const semantic = data.issues.length > 0 && data.issues.every(isRuleViolation);
  return semantic
    ? new ORPCError('UNPROCESSABLE_CONTENT', { message: 'The request breaks a rule of the data model', data: { issues } })
    : new ORPCError('BAD_REQUEST', { message: 'The request is malformed', data: { issues } });
}

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
    429: 'TOO_MANY_REQUESTS',
    503: 'SERVICE_UNAVAILABLE',
  };
  return codes[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
}
