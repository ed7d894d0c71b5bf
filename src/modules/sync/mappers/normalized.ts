/**
 * What every provider mapper produces: one activity in the unified model (DATA-MODEL §5, §9 units),
 * ready for ActivitiesService.upsertFromSource. Mappers are pure: no I/O, no clock.
 */
import type { StatisticKey, StatisticUnit } from '@unified-activity/contract';
import type { SourceActivityFields } from '../../activities/activities.service.js';
import type { StreamSamples, StreamType } from '../../streams/stream-types.js';

/** Keys and units only from the contract's closed list (docs/data-model.md §5). */
export interface NormalizedStatistic {
  key: StatisticKey;
  value: number;
  unit: StatisticUnit;
}

export interface NormalizedEvent {
  eventType: 'pause' | 'resume' | 'lap' | 'segment' | 'marker' | 'motion_paused' | 'motion_resumed';
  startTime: Date;
  endTime: Date | null;
  metadata: Record<string, unknown> | null;
}

/**
 * An activity's own fields as ActivitiesService.upsertFromSource takes them: one definition, owned
 * by the activities module; the mappers produce exactly that.
 */
export type NormalizedFields = Omit<SourceActivityFields, 'statistics'> & { statistics: NormalizedStatistic[] };

export interface NormalizedStream {
  type: StreamType;
  samples: StreamSamples;
  /** Where in the item the samples came from, for error paths, e.g. ['route']. */
  path: (string | number)[];
}

export interface NormalizedActivity extends NormalizedFields {
  externalId: string;
  /** Garmin multisport legs name their parent's summaryId; resolved by the service within the athlete. */
  parentExternalId: string | null;
  /** Legs of a multisport workout, stored as children (DATA-MODEL §4); replaced as a whole on update. */
  children: NormalizedFields[];
  streams: NormalizedStream[];
}

export const EMPTY_FIELDS = {
  name: null,
  notes: null,
  timeZone: null,
  durationS: null,
  movingTimeS: null,
  distanceM: null,
  activeEnergyKcal: null,
  avgHeartRateBpm: null,
  maxHeartRateBpm: null,
  elevationGainM: null,
  elevationLossM: null,
  avgSpeedMS: null,
  maxSpeedMS: null,
  isIndoor: null,
  deviceName: null,
} as const satisfies Partial<NormalizedFields>;

/** A payload that parsed but cannot be mapped (an unknown unit, an end before the start); answered 422 at its path. */
export class MappingError extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

/** An item the provider sends that is not a workout (a Garmin daily, a Health Connect DistanceRecord): answered `ignored`, nothing stored. */
export interface IgnoredItem {
  externalId: string | null;
  /** The Garmin summary type or the Health Connect record type. */
  itemType: string;
  reason: string;
}
