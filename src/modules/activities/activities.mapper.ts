import { ActivitySummarySchema, type ActivityDetail, type ActivitySummary, type StreamMetadata } from '@unified-activity/contract';
import { pick } from '../../common/pick.js';
import type { PublicColumns } from '../../database/contract-conformance.js';
import type { ActivityEventRow, ActivityRow, ActivityStatisticRow } from '../../database/schema/index.js';
import type { ActivitySummaryRow } from './activities.repository.js';

/** The public fields of a summary, from the contract (the one definition; the table is checked against it). */
const SUMMARY_FIELDS = Object.keys(ActivitySummarySchema.shape) as (keyof ActivitySummary)[];

/**
 * Picks the public fields of a row: a Drizzle row never reaches a client unpicked. That each picked
 * column has its public field's type is checked at compile time (src/database/contract-conformance.ts).
 */
export function toActivitySummary(row: ActivitySummaryRow): ActivitySummary {
  const summary: PublicColumns<ActivitySummaryRow, ActivitySummary> = pick(row, SUMMARY_FIELDS);
  return summary;
}

export function toActivityDetail(parts: {
  row: ActivityRow;
  statistics: ActivityStatisticRow[];
  events: ActivityEventRow[];
  streams: StreamMetadata[];
  children: ActivitySummaryRow[];
}): ActivityDetail {
  return {
    ...toActivitySummary(parts.row),
    sourceData: (parts.row.sourceData ?? null) as ActivityDetail['sourceData'],
    sourceArchiveKey: parts.row.sourceArchiveKey,
    sourceArchiveIndex: parts.row.sourceArchiveIndex,
    statistics: parts.statistics.map(({ key, value, unit }) => ({ key, value, unit })),
    events: parts.events.map(({ eventType, startTime, endTime, metadata }) => ({ eventType, startTime, endTime, metadata })),
    streams: parts.streams,
    children: parts.children.map(toActivitySummary),
  };
}
