import type { ActivityDetail, ActivitySummary } from '../../contract/activities.contract.js';
import type { StreamMetadata } from '../../contract/streams.contract.js';
import type { ActivityEventRow, ActivityRow, ActivityStatisticRow } from '../../database/schema/index.js';
import type { ActivitySummaryRow } from './activities.repository.js';

/** Picks the public fields of a row: a Drizzle row never reaches a client unpicked. */
export function toActivitySummary(row: ActivitySummaryRow): ActivitySummary {
  return {
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
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
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
