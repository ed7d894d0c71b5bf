/** The client-facing messages of the mapping below, also used by the API's error module (modules/api/errors.ts). */
export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unavailable; try again shortly';
export const RULE_VIOLATION_MESSAGE = 'The request breaks a rule of the data model';

/** PostgreSQL SQLSTATE codes the application reacts to by name. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
export const PG_CHECK_VIOLATION = '23514';
export const PG_DEADLOCK = '40P01';

export interface PgErrorInfo {
  code: string;
  constraint?: string;
}

/**
 * Finds the database error behind whatever a driver threw: Drizzle wraps driver errors
 * (DrizzleQueryError.cause), postgres.js names the constraint `constraint_name`, PGlite `constraint`.
 */
export function pgError(error: unknown): PgErrorInfo | undefined {
  const found = pgErrorWithMessage(error);
  return found && { code: found.code, constraint: found.constraint };
}

/** pgError plus the database's own message, e.g. `invalid byte sequence for encoding "UTF8": 0x00`. */
function pgErrorWithMessage(error: unknown): (PgErrorInfo & { message?: string }) | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return undefined;
    const candidate = current as { code?: unknown; constraint_name?: unknown; constraint?: unknown; cause?: unknown; message?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      const constraint = candidate.constraint_name ?? candidate.constraint;
      return {
        code: candidate.code,
        constraint: typeof constraint === 'string' ? constraint : undefined,
        message: typeof candidate.message === 'string' ? candidate.message : undefined,
      };
    }
    current = candidate.cause;
  }
  return undefined;
}

export const isUniqueViolation = (error: unknown, constraint?: string) => {
  const info = pgError(error);
  return info?.code === PG_UNIQUE_VIOLATION && (!constraint || info.constraint === constraint);
};

/** Socket-level failures (Node) and postgres.js's own connection errors: the database is unreachable. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

function connectionErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return code;
    // Node's AggregateError for a host with several addresses (IPv4 and IPv6) carries the codes inside.
    if (Array.isArray(errors)) {
      const inner = errors.map(connectionErrorCode).find(Boolean);
      if (inner) return inner;
    }
    current = cause;
  }
  return undefined;
}

export type DatabaseErrorKind =
  | 'conflict'
  | 'missing-reference'
  | 'still-referenced'
  | 'rule-violation'
  | 'invalid-value'
  | 'unavailable';

export interface ClassifiedDatabaseError {
  kind: DatabaseErrorKind;
  /** The HTTP status the API answers with. */
  status: 400 | 404 | 409 | 422 | 503;
  /** SQLSTATE, or the driver's connection error code. */
  code: string;
  constraint?: string;
  /** A message for the client: says what went wrong, never the SQL or values. */
  message: string;
}

/**
 * The one mapping from database failures to answers. A failure caused by the request's data —
 * SQLSTATE class 22 (data exception: a value the column cannot hold) and class 23 (integrity
 * constraint) — is always a 4xx; an unreachable or restarting database is a 503. Anything else
 * (syntax errors, missing tables) is a bug and stays undefined, i.e. a 500.
 */
export function classifyDatabaseError(error: unknown): ClassifiedDatabaseError | undefined {
  const connection = connectionErrorCode(error);
  if (connection) return { kind: 'unavailable', status: 503, code: connection, message: DATABASE_UNAVAILABLE_MESSAGE };
  const info = pgErrorWithMessage(error);
  if (!info) return undefined;
  const { code, constraint } = info;
  const base = { code, constraint };
  switch (code) {
    case PG_UNIQUE_VIOLATION:
      return { ...base, kind: 'conflict', status: 409, message: 'A record with the same unique values already exists' };
    case PG_FOREIGN_KEY_VIOLATION:
      // On delete: other rows still point here. On insert/update: the referenced row is gone.
      return /still referenced/i.test(info.message ?? '')
        ? { ...base, kind: 'still-referenced', status: 409, message: 'Other records still refer to this one' }
        : { ...base, kind: 'missing-reference', status: 422, message: 'The request refers to a record that does not exist (any more)' };
    case '23001': // restrict_violation
      return { ...base, kind: 'still-referenced', status: 409, message: 'Other records still refer to this one' };
  }
  if (code.startsWith('23')) {
    return { ...base, kind: 'rule-violation', status: 422, message: RULE_VIOLATION_MESSAGE };
  }
  if (code.startsWith('22')) {
    return { ...base, kind: 'invalid-value', status: 400, message: 'A value in the request cannot be stored (out of range or not valid text)' };
  }
  // 08 connection exception, 53 insufficient resources, 57P0x shutdown / cannot connect now, 40 serialization failure or deadlock.
  if (code.startsWith('08') || code.startsWith('53') || /^57P0[1-3]$/.test(code) || code.startsWith('40')) {
    return { ...base, kind: 'unavailable', status: 503, message: 'The database cannot serve the request now; try again shortly' };
  }
  return undefined;
}

/**
 * One log line for a failed query: the database's cause (message, SQLSTATE, constraint) and the
 * statement once, never its parameter values (they are user data).
 */
export function describeDatabaseError(error: unknown): string | undefined {
  const info = pgErrorWithMessage(error);
  const connection = connectionErrorCode(error);
  if (!info && !connection) return undefined;
  let query: string | undefined;
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const candidate = current as { query?: unknown; cause?: unknown };
    if (typeof candidate.query === 'string') {
      query = candidate.query;
      break;
    }
    current = candidate.cause;
  }
  const cause = info
    ? `${info.message ?? 'database error'} (SQLSTATE ${info.code}${info.constraint ? `, constraint ${info.constraint}` : ''})`
    : `database unreachable (${connection})`;
  return query ? `${cause}; query: ${query.replace(/\s+/g, ' ').slice(0, 2000)}` : cause;
}

/**
 * True when the error means the database is unreachable or not serving (as opposed to a query the
 * database refused): the API answers these with 503, not 500. The same classification as above.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return classifyDatabaseError(error)?.status === 503;
}
