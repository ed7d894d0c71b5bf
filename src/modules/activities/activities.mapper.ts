import type { ActivityDetail, ActivityListItem, ActivitySummary, StreamMetadata } from '@unified-activity/contract';
import type { PublicColumns } from '../../database/contract-conformance.js';
import type { ActivityRow } from '../../database/schema/index.js';
import type { ActivitySummaryRow, NewEvent, NewStatistic } from './activity-rows.js';

/**
 * The public fields of a row, named one by one: a Drizzle row never reaches a client as it is. The
 * object literal is checked against the contract's type at compile time (a missing field or an
 * extra one fails the build; each column's type: src/database/contract-conformance.ts), and the
 * API writes it without a runtime output walk (src/modules/api/trusted-output.ts), so it is a
 * literal rather than a loop over the contract's keys: one object shape, built in one step.
 */
export function toActivitySummary(row: ActivitySummaryRow): ActivitySummary {
  const summary: PublicColumns<ActivitySummaryRow, ActivitySummary> = {
    id: row.id,
    athleteId: row.athleteId,
    parentId: row.parentId,
    activityType: row.activityType,
    sourceActivityType: row.sourceActivityType,
    source: row.source,
    externalId: row.externalId,
    name: row.name,
    notes: row.notes,
    startTime: row.startTime,
    endTime: row.endTime,
    timeZone: row.timeZone,
    durationS: row.durationS,
    movingTimeS: row.movingTimeS,
    distanceM: row.distanceM,
    activeEnergyKcal: row.activeEnergyKcal,
    avgHeartRateBpm: row.avgHeartRateBpm,
    maxHeartRateBpm: row.maxHeartRateBpm,
    elevationGainM: row.elevationGainM,
    elevationLossM: row.elevationLossM,
    avgSpeedMS: row.avgSpeedMS,
    maxSpeedMS: row.maxSpeedMS,
    isIndoor: row.isIndoor,
    deviceName: row.deviceName,
    revision: row.revision,
    duplicateOf: row.duplicateOf,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  return summary;
}

/** A timeline item: the summary, how many copies of it its duplicate group holds, and where its merged fields came from. */
export function toActivityListItem(row: ActivitySummaryRow & { duplicateCount: number }, fieldSources: Record<string, string>): ActivityListItem {
  const summary = toActivitySummary(row) as ActivityListItem;
  summary.duplicateCount = row.duplicateCount;
  summary.fieldSources = fieldSources;
  return summary;
}

export function toActivityDetail(parts: {
  row: ActivityRow;
  statistics: NewStatistic[];
  events: NewEvent[];
  streams: StreamMetadata[];
  children: ActivitySummaryRow[];
  duplicates: ActivityDetail['duplicates'];
  fieldSources: ActivityDetail['fieldSources'];
  memberStreams: ActivityDetail['memberStreams'];
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
    duplicates: parts.duplicates,
    fieldSources: parts.fieldSources,
    memberStreams: parts.memberStreams,
  };
}
