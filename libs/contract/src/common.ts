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

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value.length <= 64;
  } catch {
    return false;
  }
}

export const TimeZoneSchema = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' })
  .describe('IANA time zone of the local wall clock, e.g. "Europe/Berlin"')
  .meta({ examples: ['Europe/Berlin'] });

/** ISO 8601 instant on the wire; a Date inside. Offsets are accepted and normalised to UTC. */
export const DateTimeInputSchema = z.coerce
  .date({ message: 'must be an ISO 8601 date-time' })
  .describe('ISO 8601 date-time (UTC or with an offset)');

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` to get the next page; null on the last page'),
  });

/** Errors every authenticated operation can answer; documented on each operation. */
export const STANDARD_ERROR_STATUSES = {
  400: 'Malformed request: wrong types, unknown fields, oversized values',
  401: 'Missing or invalid credentials',
  404: 'Not found, or not yours',
  422: 'Well-formed but invalid: a rule of the data model is broken',
  429: 'Rate limited',
  500: 'Unexpected server error',
} as const;
