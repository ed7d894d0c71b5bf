/** Row shapes the activities repositories share: the summary's columns, statistics and events to write, a payload to replace. */
import { getTableColumns } from 'drizzle-orm';
import { activities, type ActivityEventRow, type ActivityRow, type ActivityStatisticRow, type NewActivityRow } from '../../database/schema/index.js';

/**
 * The public columns of a summary, and only those: what lists and children select. The payload,
 * its archive pointer and hash and the owner never leave the database for a list (contract-conformance.ts
 * names the same private columns; test/e2e/private-columns.e2e.spec.ts checks no answer carries one).
 */
export const {
  sourceData: _sourceData,
  sourceDataReceivedAt: _sourceDataReceivedAt,
  sourceArchiveKey: _sourceArchiveKey,
  sourceArchiveIndex: _sourceArchiveIndex,
  sourceDataHash: _sourceDataHash,
  editedFields: _editedFields,
  userId: _userId,
  ...summaryColumns
} = getTableColumns(activities);
export type ActivitySummaryRow = Omit<ActivityRow, 'sourceData' | 'sourceDataReceivedAt' | 'sourceArchiveKey' | 'sourceArchiveIndex' | 'sourceDataHash' | 'editedFields' | 'userId'>;

export type NewStatistic = Pick<ActivityStatisticRow, 'key' | 'value' | 'unit'>;
export type NewEvent = Pick<ActivityEventRow, 'eventType' | 'startTime' | 'endTime' | 'metadata'>;
/** What a re-ingest replaces (§6): the promoted fields and the payload. */
export type ActivityPayload = Partial<Omit<NewActivityRow, 'id' | 'userId' | 'athleteId' | 'parentId' | 'revision' | 'editedFields' | 'createdAt' | 'updatedAt'>>;
