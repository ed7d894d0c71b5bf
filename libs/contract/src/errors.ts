import { oc } from '@orpc/contract';
import * as z from 'zod';
import { ErrorIssueSchema, STANDARD_ERROR_STATUSES } from './common.js';

/**
 * The errors of the contract, declared with oRPC's `.errors()` (README "Errors"). Every procedure
 * starts from one of the bases below and adds the errors only it answers; the server turns a thrown
 * `new ORPCError(code, { data })` whose code, status and data match its procedure's declaration into
 * a defined error (oRPC clients narrow it with `isDefinedError` and read `error.data` typed), and the
 * OpenAPI document's error responses and components are generated from these declarations.
 *
 * On the wire (REST) the body is `{ code, message, issues? }` with the data fields at the top level
 * (`{ code: 'CONFLICT', message, existingId }`); RPC keeps oRPC's `{ code, status, message, data }`.
 * A data schema named with `.meta({ id })` names the component of the whole body (code, message and
 * its fields); data schemas are loose so that extra fields the server adds are kept, not stripped.
 */

/** Field-level problems of a 400 or 422 (and any further fields the error carries, e.g. `reason`). */
export const IssuesDataSchema = z.looseObject({
  issues: z.array(ErrorIssueSchema).optional().describe('Field-level problems, for validation errors'),
});

/** 409 of createActivity: an activity with this source and externalId exists; `existingId` names it. */
export const ActivityExistsDataSchema = z
  .looseObject({ existingId: z.uuid().describe('The activity that already has this source and externalId') })
  .meta({ id: 'ActivityExistsError' });
export type ActivityExistsData = z.output<typeof ActivityExistsDataSchema>;

/** 404 of getActivityType: an unknown slug, with the nearest catalog slugs. */
export const UnknownActivityTypeDataSchema = z
  .looseObject({ suggestions: z.array(z.string()).describe('The nearest catalog slugs, best first') })
  .meta({ id: 'UnknownActivityTypeError' });
export type UnknownActivityTypeData = z.output<typeof UnknownActivityTypeDataSchema>;

/** 409 of startSync: another run is live; it can be taken over from `retryAfter`. */
export const SyncRunningDataSchema = z
  .looseObject({ retryAfter: z.iso.datetime().describe('When the running sync counts as stale and may be taken over (ISO 8601)') })
  .meta({ id: 'SyncRunningError' });
export type SyncRunningData = z.output<typeof SyncRunningDataSchema>;

/** 422 NOT_A_WORKOUT of ingestSyncBatch: none of the items is a workout, nothing was written. */
export const NotAWorkoutDataSchema = z
  .looseObject({
    items: z
      .array(
        z.object({
          field: z.string().describe('The body field the item came in'),
          index: z.number().int().describe('Its position there'),
          externalId: z.string().nullable(),
          itemType: z.string().describe('What the item is (dailies, Steps, ...)'),
          reason: z.string(),
        }),
      )
      .describe('The ignored items (the first 100)'),
  })
  .meta({ id: 'NotAWorkoutError' });
export type NotAWorkoutData = z.output<typeof NotAWorkoutDataSchema>;

const S = STANDARD_ERROR_STATUSES;

/** What every procedure can answer, signed in or not. */
const ANY_ERRORS = {
  BAD_REQUEST: { status: 400, message: S[400], data: IssuesDataSchema.optional() },
  UNPROCESSABLE_CONTENT: { status: 422, message: S[422], data: IssuesDataSchema.optional() },
  INTERNAL_SERVER_ERROR: { status: 500, message: S[500] },
  SERVICE_UNAVAILABLE: { status: 503, message: S[503] },
} as const;

/** What every signed-in procedure can answer. */
export const SIGNED_IN_ERRORS = {
  ...ANY_ERRORS,
  UNAUTHORIZED: { status: 401, message: S[401] },
  NOT_FOUND: { status: 404, message: S[404] },
  TOO_MANY_REQUESTS: { status: 429, message: S[429] },
} as const;

/** What a request with a body can answer on top. */
export const BODY_ERRORS = {
  PAYLOAD_TOO_LARGE: { status: 413, message: S[413] },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: S[415] },
} as const;

/** The base of public procedures (the catalog): no credentials, no rate limit. */
export const publicProcedure = oc.errors(ANY_ERRORS);
/** The base of signed-in procedures that read (GET). */
export const signedIn = oc.errors(SIGNED_IN_ERRORS);
/** The base of signed-in procedures that write (a body may come with the request). */
export const signedInWrite = oc.errors({ ...SIGNED_IN_ERRORS, ...BODY_ERRORS });
