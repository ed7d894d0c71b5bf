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
