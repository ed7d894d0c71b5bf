/** PostgreSQL SQLSTATE codes the application reacts to. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_CHECK_VIOLATION = '23514';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
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
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return undefined;
    const candidate = current as { code?: unknown; constraint_name?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      const constraint = candidate.constraint_name ?? candidate.constraint;
      return { code: candidate.code, constraint: typeof constraint === 'string' ? constraint : undefined };
    }
    current = candidate.cause;
  }
  return undefined;
}

export const isUniqueViolation = (error: unknown, constraint?: string) => {
  const info = pgError(error);
  return info?.code === PG_UNIQUE_VIOLATION && (!constraint || info.constraint === constraint);
};
