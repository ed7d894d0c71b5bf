import * as z from 'zod';

/** The one error body every failure answers with (API.md "Errors"). */
export const ErrorIssueSchema = z
  .object({
    path: z.array(z.union([z.string(), z.number()])).describe('Where in the input the problem is, e.g. ["statistics", 0, "key"]'),
    message: z.string(),
  });

export const ErrorSchema = z
  .object({
    code: z.string().describe('Machine-readable code, e.g. BAD_REQUEST, NOT_FOUND, CONFLICT, UNPROCESSABLE_CONTENT'),
    message: z.string().describe('Human-readable explanation'),
    issues: z.array(ErrorIssueSchema).optional().describe('Field-level problems, for validation errors'),
  })
  .catchall(z.unknown())
  .describe('The one error body every failure answers with; 409 adds existingId, unknown slugs add suggestions');

export const uuid = (what: string) => z.uuid().describe(`${what} (UUID)`);

/**
 * Answers already found, valid or not: building an Intl.DateTimeFormat costs ~0.1–0.5 ms, and a sync
 * batch or an import checks every activity's zone. Bounded, so that endless invented zones cannot grow it.
 */
const zoneAnswers = new Map<string, boolean>();

export function isTimeZone(value: string): boolean {
  if (value.length > 64) return false;
  let valid = zoneAnswers.get(value);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      valid = true;
    } catch {
      valid = false;
    }
    if (zoneAnswers.size < 10_000) zoneAnswers.set(value, valid);
  }
  return valid;
}

export const TimeZoneSchema = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' })
  .describe('IANA time zone of the local wall clock, e.g. "Europe/Berlin"')
  .meta({ examples: ['Europe/Berlin'] });

/**
 * The instants the API accepts: years 1900–2200. Everything a sports device can record lies inside,
 * and so does everything PostgreSQL, JavaScript and Parquet represent alike; outside it, a value is a
 * typo or an attack (`+099999-01-01`, `0000-01-01`), never a workout.
 */
export const MIN_INSTANT_MS = Date.UTC(1900, 0, 1);
export const MAX_INSTANT_MS = Date.UTC(2201, 0, 1) - 1;
/** What an instant outside MIN_INSTANT_MS … MAX_INSTANT_MS is told (a 422: well-formed, out of range). */
export const INSTANT_RANGE_MESSAGE = 'must lie between 1900-01-01T00:00:00Z and 2200-12-31T23:59:59.999Z';
/** The form of every date-time input, as the error messages name it. */
export const DATE_TIME_FORM = 'an ISO 8601 date-time with seconds and an offset, e.g. 2026-05-01T06:00:00Z or 2026-05-01T08:00:00+02:00';
/** What a malformed date-time is told, whatever its type (a 400). */
export const DATE_TIME_MESSAGE = `must be ${DATE_TIME_FORM}`;

/** RFC 3339 (the ISO 8601 profile of JSON Schema's `date-time`): seconds and an offset required. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The one strict date-time parser (contract inputs, stream timestamps, cursors): epoch milliseconds,
 * or undefined for anything but a real calendar instant with an explicit offset inside 1900–2200.
 * Unlike `Date.parse` it refuses "2026-02-30T10:00:00Z", "May 1 2026" and offset-less strings
 * (which `Date` reads in the server's own time zone).
 */
export function parseDateTime(value: string): number | undefined {
  const match = value.length <= 40 ? ISO_DATE_TIME.exec(value) : null;
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (match[8] !== 'Z') {
    const offsetHours = Number(match[10]);
    const offsetMins = Number(match[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, fraction);
  const ms = local.getTime() - offsetMinutes * 60_000;
  return ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS ? ms : undefined;
}

/** Whether a Date (from an RPC client, or read back) lies in the accepted range. */
export const isInstantInRange = (date: Date) => {
  const ms = date.getTime();
  return Number.isInteger(ms) && ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS;
};

/**
 * Every date-time input of the contract: an RFC 3339 string with an offset (REST, and what JSON
 * Schema's `date-time` means), or a Date from an RPC client; a Date inside, normalised to UTC.
 * `true`, `0`, `null`, `"1"`, `"2026-02-30T10:00:00Z"`, `"May 1 2026 10:00"` and offset-less strings
 * are malformed (400); instants outside 1900–2200 break the range rule (422).
 */
export const DateTimeInputSchema = z
  .union([z.iso.datetime({ offset: true, error: DATE_TIME_MESSAGE }), z.date({ error: DATE_TIME_MESSAGE })], { error: DATE_TIME_MESSAGE })
  .transform((value, ctx) => {
    const ms = typeof value === 'string' ? parseDateTime(value) : isInstantInRange(value) ? value.getTime() : undefined;
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: INSTANT_RANGE_MESSAGE, input: value });
      return z.NEVER;
    }
    return new Date(ms);
  })
  .describe('ISO 8601 date-time with an offset (Z or ±HH:MM), years 1900–2200; stored in UTC');

/**
 * C0 control characters (and DEL) are never text: PostgreSQL refuses NUL outright, and the others
 * corrupt logs, CSV exports and terminals. Lone UTF-16 surrogates cannot be encoded as UTF-8. The
 * pattern reads the same with and without the `u` flag (JSON Schema validators use it).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SINGLE_LINE = /^(?:[^\u0000-\u001F\u007F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const MULTI_LINE = /^(?:[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

export interface TextOptions {
  /** Longest accepted value, in UTF-16 code units (what JSON Schema's maxLength counts). */
  max: number;
  min?: number;
  /** Allow tab, line feed and carriage return (free text such as notes). */
  multiline?: boolean;
  /** Strip surrounding white space before the checks (names). */
  trim?: boolean;
}

/**
 * The one schema for text input: bounded length, no NUL or other control characters (tab and line
 * breaks only in multi-line text), well-formed Unicode. Every string field of the contract uses it.
 */
export const text = ({ max, min = 0, multiline = false, trim = false }: TextOptions) =>
  (trim ? z.string().trim() : z.string())
    .min(min)
    .max(max)
    .regex(multiline ? MULTI_LINE : SINGLE_LINE, {
      message: multiline
        ? 'must not contain control characters other than tab and line breaks'
        : 'must not contain control characters (NUL, tab, line breaks, ...)',
    });

/** Whether a string is valid text for the API (no NUL, well-formed Unicode). */
export const isCleanText = (value: string, multiline = true) => (multiline ? MULTI_LINE : SINGLE_LINE).test(value);

export interface JsonBounds {
  /** Deepest nesting of arrays and objects (the top-level value is depth 1). */
  maxDepth: number;
  /** Most values (objects, arrays, strings, numbers, ...) in the whole document. */
  maxNodes: number;
  /** Longest string or key, in UTF-16 code units. */
  maxStringLength: number;
}

/**
 * Checks a parsed JSON value iteratively (no recursion, so 5,000 levels cannot overflow the stack)
 * and stops at the first problem: too deep, too many values, a string or key with NUL or a lone
 * surrogate, a value JSON cannot carry. Returns the path and message of the problem, or undefined.
 */
export interface JsonProblem {
  path: (string | number)[];
  message: string;
  /** Not JSON text can carry (NUL, a lone surrogate, Infinity): malformed (400) rather than over a bound (422). */
  malformed: boolean;
}

export function checkJson(value: unknown, bounds: JsonBounds): JsonProblem | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  let nodes = 0;
  const malformedString = (s: string) => s.includes('\u0000') || !isWellFormed(s);
  const tooLong = `must be at most ${bounds.maxStringLength} characters`;
  const noNul = 'must not contain NUL or lone surrogates';
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (++nodes > bounds.maxNodes) return { path, message: `must have at most ${bounds.maxNodes} values`, malformed: false };
    if (current === null || typeof current === 'boolean') continue;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return { path, message: 'must be a finite number', malformed: true };
      continue;
    }
    if (typeof current === 'string') {
      if (malformedString(current)) return { path, message: noNul, malformed: true };
      if (current.length > bounds.maxStringLength) return { path, message: tooLong, malformed: false };
      continue;
    }
    if (typeof current !== 'object') return { path, message: 'must be JSON', malformed: true };
    if (path.length >= bounds.maxDepth) return { path, message: `must be nested at most ${bounds.maxDepth} levels deep`, malformed: false };
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], path: [...path, i] });
      continue;
    }
    // Not `instanceof`/prototype checks: parsed bodies may come from another realm (Jest, workers).
    if (Object.prototype.toString.call(current) !== '[object Object]') return { path, message: 'must be JSON', malformed: true };
    const entries = Object.entries(current);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, inner] = entries[i]!;
      if (malformedString(key)) return { path: [...path, key], message: `keys ${noNul}`, malformed: true };
      if (key.length > bounds.maxStringLength) return { path: [...path, key], message: `keys ${tooLong}`, malformed: false };
      stack.push({ value: inner, path: [...path, key] });
    }
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (s: string) => !LONE_SURROGATE.test(s);

/**
 * Any JSON value within bounds, checked before zod looks inside it. The JSON Schema is `{}` (any
 * value): the bounds are documented in the description.
 */
export const boundedJson = (bounds: JsonBounds) =>
  z.unknown().superRefine((value, ctx) => {
    if (value === undefined) return;
    const problem = checkJson(value, bounds);
    if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message, params: { malformed: problem.malformed } });
  }) as unknown as z.ZodType<z.core.util.JSONType, z.core.util.JSONType>;

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` to get the next page; null on the last page'),
  });

/** What the common error statuses mean: the messages of the declarations in errors.ts, the descriptions of their responses in the document. */
export const STANDARD_ERROR_STATUSES = {
  400: 'Malformed request: wrong types, unknown fields or parameters, malformed formats (dates, ids, control characters)',
  401: 'Missing or invalid credentials',
  404: 'Not found, or not yours',
  409: 'Conflict with stored data (a duplicate unique value, or records that still refer to this one)',
  413: 'Body too large: 1 MiB unless the operation says otherwise',
  415: 'Unsupported Content-Type of the body',
  422: 'Readable but invalid: a value outside its documented bounds, or a rule of the data model is broken',
  429: 'Rate limited',
  500: 'Unexpected server error',
  503: 'A dependency (database, object storage) is unavailable; retry later',
} as const;
