import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

const REDACTED = '[redacted]';

/** Object paths pino blanks in every line (request/response headers, bodies, error fields). */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'res.headers["set-auth-token"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.secret',
  // Provider connections: OAuth token answers and what the connections module holds (README "Connecting Strava and Garmin").
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.code_verifier',
  '*.codeVerifier',
  '*.tokensCiphertext',
  '*.tokens_ciphertext',
  'err.params',
  'err.parameters',
  'err.query',
  'err.cause.params',
  'err.cause.parameters',
  'err.cause.query',
];

/** Query parameters whose values are credentials (reset links, callbacks, OAuth). */
const SECRET_QUERY = /([?&](?:token|code|state|password|secret|api_key|access_token|refresh_token|id_token|client_secret|code_verifier|callbackURL)=)[^&#\s"]*/gi;

/** better-auth routes that carry a token as a path segment (reset links). */
const SECRET_PATH = /(\/(?:reset-password|verify-email|magic-link)\/)[^?#/\s"]+/gi;

/** An email address: personal data, never a log's business (better-auth's messages and failed queries carry them). */
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * Removes secrets and email addresses from free text: the parameter list Drizzle appends to a failed query's message
 * (it carries session tokens and user data), bearer credentials, cookies and secret query values.
 */
export function redactText(text: string): string {
  return text
    .replace(/(\bparams?:\s*)[^\n]*/gi, `$1${REDACTED}`)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`)
    .replace(/((?:set-)?cookie["']?\s*[:=]\s*["']?)[^"'\n]*/gi, `$1${REDACTED}`)
    .replace(/(better-auth\.session_token=)[^;\s"]*/gi, `$1${REDACTED}`)
    .replace(SECRET_QUERY, `$1${REDACTED}`)
    .replace(SECRET_PATH, `$1${REDACTED}`)
    .replace(EMAIL, REDACTED);
}

/** The URL with secret query values blanked, for request logs. */
export function redactUrl(url: string | undefined): string | undefined {
  return url === undefined ? undefined : url.replace(SECRET_QUERY, `$1${REDACTED}`).replace(SECRET_PATH, `$1${REDACTED}`);
}

/**
 * A log-safe copy of anything thrown: name, message and stack with secrets removed, the cause
 * chain likewise, and none of the extra fields drivers attach (query text, parameters).
 */
export function sanitizeError(error: unknown, depth = 0): unknown {
  if (typeof error === 'string') return redactText(error);
  if (typeof error !== 'object' || error === null) return error;
  if (!('message' in error)) return error;
  const source = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; cause?: unknown };
  const safe: Record<string, unknown> = {
    type: typeof source.name === 'string' ? source.name : 'Error',
    message: redactText(String(source.message)),
  };
  if (typeof source.code === 'string' || typeof source.code === 'number') safe.code = source.code;
  if (typeof source.stack === 'string') safe.stack = redactText(source.stack);
  if (source.cause !== undefined && depth < 4) safe.cause = sanitizeError(source.cause, depth + 1);
  return safe;
}

/** A one-line-per-error description for message strings (Nest's logger, procedure errors). */
export function describeError(error: unknown): string {
  const safe = sanitizeError(error);
  if (typeof safe !== 'object' || safe === null) return String(safe);
  const { type, message, stack } = safe as { type?: string; message?: string; stack?: string };
  return `${type ?? 'Error'}: ${message ?? ''}\n${stack ?? ''}`;
}

/**
 * One pino instance for Fastify's request logs, Nest's own messages and better-auth's: one JSON
 * line per event, with credentials removed in every path (see REDACT_PATHS, the err/req
 * serializers and the logMethod hook that scrubs message strings).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'activity-api' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: {
      err: (error: unknown) => sanitizeError(error),
      error: (error: unknown) => sanitizeError(error),
      req: (request: { method?: string; url?: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: request.method,
        url: redactUrl(request.url),
        hostname: request.hostname,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
    hooks: {
      logMethod(args, method) {
        const safe = args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>;
        method.apply(this, safe);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace: trace === undefined ? undefined : redactText(trace) }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
