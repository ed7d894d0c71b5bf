import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, pgTable, smallint, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';

/** What a change row describes (docs/data-model.md, "Change feed"). */
export const CHANGE_ENTITIES = ['activity', 'stream', 'athlete', 'sync_state', 'connection', 'sync_run', 'import'] as const;
export type ChangeEntity = (typeof CHANGE_ENTITIES)[number];
export const CHANGE_OPS = ['upsert', 'delete'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

/**
 * The change feed (docs/data-model.md, "Change feed"): one row per committed write of an activity,
 * stream, athlete, sync state or provider connection, one per finished sync run (`sync_run`, the
 * sync state's id) and one per import job reaching a final state (`import`), written by triggers (src/database/sql/changes.sql)
 * in the writer's own transaction. Tombstones (op `delete`) carry ids only. A reader serves rows in
 * (pos, seq) order and only those with pos below the oldest running transaction id, so a row that
 * commits late can never land behind a cursor already handed out. No foreign keys: a tombstone
 * outlives what it describes (pruned after CHANGE_RETENTION_DAYS).
 */
export const changes = pgTable(
  'changes',
  {
    /** Order within a position (the order the rows were written). */
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    /**
     * The position: the writing transaction's id (`pg_current_xact_id()`), raised to the position of
     * the entity's previous change when that one is higher, so one entity's changes keep commit order.
     */
    pos: bigint('pos', { mode: 'number' }).notNull(),
    userId: text('user_id').notNull(),
    athleteId: uuid('athlete_id').notNull(),
    entity: text('entity', { enum: CHANGE_ENTITIES }).notNull(),
    op: text('op', { enum: CHANGE_OPS }).notNull(),
    entityId: uuid('entity_id').notNull(),
    /** The activity an activity or stream change belongs to; null for the other entities. */
    activityId: uuid('activity_id'),
    /** An upsert that inserted the record (webhooks tell `activity.created` from `activity.updated`); not in the feed's items. */
    inserted: boolean('inserted').notNull().default(false),
    /** The activity's revision after the change (activities only). */
    revision: integer('revision'),
    changedAt: timestamptz('changed_at').notNull().defaultNow(),
  },
  (t) => [
    // A poll is one range of one of these, in order: O(rows returned).
    index('changes_user_pos_idx').on(t.userId, t.pos, t.seq),
    index('changes_athlete_pos_idx').on(t.athleteId, t.pos, t.seq),
    // The entity's previous change (the trigger's position rule).
    index('changes_entity_pos_idx').on(t.entityId, t.pos),
    index('changes_pos_idx').on(t.pos, t.seq),
    check('changes_entity_check', sql`${t.entity} in ('activity', 'stream', 'athlete', 'sync_state', 'connection', 'sync_run', 'import')`),
    check('changes_op_check', sql`${t.op} in ('upsert', 'delete')`),
  ],
);

/**
 * One row (id 1): how far the feed has been pruned. A cursor at or before (pos, seq) may have missed
 * pruned rows and answers 410 CURSOR_EXPIRED.
 */
export const changeFeedHorizon = pgTable(
  'change_feed_horizon',
  {
    id: smallint('id').primaryKey(),
    prunedPos: bigint('pruned_pos', { mode: 'number' }).notNull(),
    prunedSeq: bigint('pruned_seq', { mode: 'number' }).notNull(),
    prunedAt: timestamptz('pruned_at').notNull().defaultNow(),
  },
  (t) => [check('change_feed_horizon_single_row', sql`${t.id} = 1`)],
);

export type ChangeRow = typeof changes.$inferSelect;
