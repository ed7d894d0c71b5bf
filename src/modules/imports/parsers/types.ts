/**
 * The pure parsers' output: one normalized shape for every file format (FIT, GPX, TCX,
 * Apple Health export), already in the units of DATA-MODEL §9. The import plumbing
 * (API, CLI, persistence) consumes only these types.
 */
import type { StatisticKey, StatisticUnit } from '@unified-activity/contract';
import type { StreamSamples, StreamType } from '../../streams/stream-types.js';

/** Keys and units only from the contract's closed list (docs/data-model.md §5). */
export interface ImportedStatistic {
  key: StatisticKey;
  value: number;
  unit: StatisticUnit;
}

export interface ImportedEvent {
  eventType: 'pause' | 'resume' | 'lap' | 'segment' | 'marker' | 'motion_paused' | 'motion_resumed' | string;
  startTime: Date;
  endTime?: Date | null;
  metadata?: Record<string, unknown> | null;
}

export interface ImportedActivity {
  /** Canonical catalog slug. */
  activityType: string;
  /** The provider's original, e.g. "fit:running/trail" or HealthKit "HKWorkoutActivityTypeRunning". */
  sourceActivityType: string | null;
  name?: string | null;
  notes?: string | null;
  startTime: Date;
  endTime: Date;
  timeZone?: string | null;
  durationS?: number | null;
  movingTimeS?: number | null;
  distanceM?: number | null;
  activeEnergyKcal?: number | null;
  avgHeartRateBpm?: number | null;
  maxHeartRateBpm?: number | null;
  elevationGainM?: number | null;
  elevationLossM?: number | null;
  avgSpeedMS?: number | null;
  maxSpeedMS?: number | null;
  isIndoor?: boolean | null;
  deviceName?: string | null;
  statistics: ImportedStatistic[];
  events: ImportedEvent[];
  streams: Partial<Record<StreamType, StreamSamples>>;
  /** The summary messages as decoded (JSON-safe), for source_data. */
  sourceData: Record<string, unknown>;
  /**
   * What names this activity in its source when the file holds several activities without ids of
   * their own (Apple Health workouts: type, start, end, source, device); its hash is the external id.
   */
  identity?: Record<string, unknown>;
  /** Multisport legs (one level only). */
  children: ImportedActivity[];
  /** What was skipped for this activity alone (the streamed Apple Health parser has no ParseResult). */
  warnings?: string[];
}

export interface ParseResult {
  format: 'fit' | 'gpx' | 'tcx' | 'apple_health';
  activities: ImportedActivity[];
  warnings: string[];
  /** The decoder failed on a file whose bytes are intact: a bug of ours, logged at error level by the importer. */
  decoderErrors?: string[];
}

/**
 * The file cannot be read at all (corrupt, empty, wrong type); `reason` is safe to show to the user.
 * `decoderError` is set when the decoder failed on intact bytes (logged at error level).
 */
export class UnreadableFileError extends Error {
  constructor(
    readonly reason: string,
    readonly decoderError?: string,
  ) {
    super(reason);
  }
}

export type DetectedFormat = 'fit' | 'gpx' | 'tcx' | 'apple_health_xml';

const SNIFF_BYTES = 4096;

/**
 * Sniffs the format by content, with the file name as a hint only for text that names no
 * root element in its first 4 KiB. Bytes are already gunzipped/unzipped by the caller,
 * except Apple Health export.xml which is streamed (pass its first bytes).
 */
export function detectFormat(bytes: Uint8Array, fileName?: string): DetectedFormat | undefined {
  if (isFitHeader(bytes)) return 'fit';
  const head = decodeHead(bytes);
  if (head !== undefined) {
    if (/<(?:[\w-]+:)?TrainingCenterDatabase[\s>]/.test(head)) return 'tcx';
    if (/<(?:[\w-]+:)?gpx[\s>]/.test(head)) return 'gpx';
    if (/<HealthData[\s>]|<!DOCTYPE\s+HealthData/.test(head)) return 'apple_health_xml';
  }
  if (head === undefined || !head.trimStart().startsWith('<')) return undefined;
  // An XML document whose root element lies beyond the sniffed head (a huge comment or DOCTYPE).
  const name = fileName?.toLowerCase() ?? '';
  if (name.endsWith('.gpx')) return 'gpx';
  if (name.endsWith('.tcx')) return 'tcx';
  if (name.endsWith('export.xml')) return 'apple_health_xml';
  return undefined;
}

function isFitHeader(bytes: Uint8Array): boolean {
  const headerSize = bytes[0];
  return (
    bytes.length >= 12 &&
    (headerSize === 12 || headerSize === 14) &&
    bytes[8] === 0x2e && // '.'
    bytes[9] === 0x46 && // 'F'
    bytes[10] === 0x49 && // 'I'
    bytes[11] === 0x54 // 'T'
  );
}

function decodeHead(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.length === 0) return undefined;
  let encoding = 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  try {
    // A multi-byte character may be cut at the sniff boundary; non-fatal decoding replaces it.
    return new TextDecoder(encoding).decode(head).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}
