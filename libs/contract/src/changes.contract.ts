/**
 * The change feed (README "Following changes"): what changed since a cursor, tombstones included.
 */
import * as z from 'zod';
import { signedIn } from './errors.js';

const route = { tags: ['Changes'] as string[] };

export const CHANGE_ENTITY_KINDS = ['activity', 'stream', 'athlete', 'sync_state', 'connection', 'sync_run', 'import'] as const;
export const CHANGE_OP_KINDS = ['upsert', 'delete'] as const;
/** Largest page of the feed. */
export const MAX_CHANGES_PAGE = 1000;

export const ChangeSchema = z
  .object({
    cursor: z.string().describe('Pass as `since` to continue right after this change'),
    entity: z.enum(CHANGE_ENTITY_KINDS).describe('What changed; sync_run: a sync state’s run finished (id: the sync state); import: an import job reached a final state (id: the job)'),
    op: z.enum(CHANGE_OP_KINDS).describe('upsert: created or changed, read it again; delete: a tombstone (ids only)'),
    id: z.uuid().describe('The id of the changed record (an activity, stream, athlete, sync state, connection or import job)'),
    activityId: z.uuid().nullable().describe('The activity of an activity or stream change; null otherwise'),
    athleteId: z.uuid().describe('The athlete the record belongs to'),
    revision: z.number().int().nullable().describe('The activity’s revision after the change (activity upserts only)'),
    changedAt: z.date().describe('When the writing transaction started'),
  })
  .meta({ id: 'Change' });

export const ChangesPageSchema = z
  .object({
    items: z.array(ChangeSchema),
    nextCursor: z.string().describe('Pass as `since` in the next poll (also when items is empty)'),
    hasMore: z.boolean().describe('More changes are ready now: poll again at once'),
  })
  .meta({ id: 'ChangesPage' });

export const CursorExpiredDataSchema = z
  .looseObject({ retentionDays: z.number().describe('How long changes are kept (CHANGE_RETENTION_DAYS)') })
  .meta({ id: 'CursorExpiredError' });

export const changesContract = {
  list: signedIn
    .route({
      ...route,
      method: 'GET',
      path: '/v1/changes',
      operationId: 'listChanges',
      summary: 'What changed since a cursor: activities, streams, athletes, sync states, connections, deletions included',
      description:
        'Without `since` the page is empty and `nextCursor` is the current end: read the timeline first, then follow the feed from there. ' +
        'Changes come in commit order per record and never skip one: a change that commits late is served after every cursor handed out before. ' +
        'Deletions are tombstones (`op: "delete"`, ids only). Changes are kept CHANGE_RETENTION_DAYS (default 90); an older cursor answers 410 CURSOR_EXPIRED: read the timeline again.',
    })
    .errors({
      CURSOR_EXPIRED: {
        status: 410,
        message: 'The cursor is older than the feed keeps: read the timeline again, then follow the feed from a fresh cursor',
        data: CursorExpiredDataSchema,
      },
    })
    .input(
      z.object({
        athleteId: z.uuid().optional().describe('Only this athlete’s changes; omitted: all of your athletes'),
        since: z.string().min(1).max(200).optional().describe('A cursor from a previous page (`nextCursor` or an item’s `cursor`)'),
        limit: z.number().int().min(1).max(MAX_CHANGES_PAGE).optional().describe(`Page size, 1–${MAX_CHANGES_PAGE}, default 100`),
      }),
    )
    .output(ChangesPageSchema),
};

export type Change = z.output<typeof ChangeSchema>;
export type ChangesPage = z.output<typeof ChangesPageSchema>;
