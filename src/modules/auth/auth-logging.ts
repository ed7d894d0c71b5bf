import { Logger } from '@nestjs/common';
import { classifyDatabaseError } from '../../database/errors.js';
import { describeError } from '../api/errors.js';

/** better-auth's messages and failures, in the API's one JSON log (Nest's logger → pino, with its redaction). */
const logger = new Logger('BetterAuth');

/** A log-safe text of what better-auth passes along with a message: errors as the API logs them (the failed statement once, never its parameters). */
const describeArgument = (arg: unknown): string => (arg instanceof Error || (typeof arg === 'object' && arg !== null && 'stack' in arg) ? describeError(arg) : JSON.stringify(arg) ?? String(arg));

/**
 * better-auth's `logger` option (better-auth 1.7: `{ disabled, level, log(level, message, ...args) }`):
 * its lines go through the API's logger instead of its own ANSI-coloured console lines. Its info
 * messages name the user ("Sign-up attempt for existing email: …"), so only warnings and errors pass.
 */
export function betterAuthLogger(disabled: boolean) {
  return {
    disabled,
    level: 'warn' as const,
    log(level: 'debug' | 'info' | 'success' | 'warn' | 'error', message: string, ...args: unknown[]) {
      const text = [message, ...args.map(describeArgument)].join(' ');
      // A failed query is the auth route's to answer and log: the request's data (a duplicate sign-up
      // racing another: "Failed to create user" with a unique violation) or an unreachable database.
      if (args.some((arg) => classifyDatabaseError(arg) !== undefined)) logger.debug(text);
      else if (level === 'error') logger.error(text);
      else if (level === 'warn') logger.warn(text);
      else logger.debug(text);
    },
  };
}
