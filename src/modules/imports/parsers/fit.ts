/**
 * FIT activity files → activities, through Garmin's official decoder (@garmin/fitsdk, patched in
 * patches/ to read compressed-timestamp headers and records carrying `cycles` with `total_cycles`).
 *
 * The decoder does the format (definitions, scale/offset, component expansion, sub-fields,
 * developer fields, chained files, merging `hr` messages into records); this module maps the
 * decoded messages onto the unified model and copes with what real devices write: damaged or
 * truncated files (everything before the damage is kept), isolated records whose clock jumps
 * backwards or far away (dropped), records outside the session's window (kept, the activity
 * widened), files without a session (summary derived from records): docs/data-model.md, FIT imports.
 */
import { CrcCalculator, Decoder, Stream, type Mesg } from '@garmin/fitsdk';
import { toCanonical } from '../../../../libs/seed-data/activity-type-mapping.js';
import type { StatisticKey, StatisticUnit } from '@unified-activity/contract';
import { isPositionSamples, type PositionSamples } from '../../streams/stream-types.js';
import { conformActivities } from './conform.js';
import { isDate, jsonSafe } from './json-safe.js';
import { snakeCase } from './snake-case.js';
import { StreamCollector } from './stream-collector.js';
import { coverStreams } from './stream-window.js';
import { fillSummaryFromStreams, maxOf } from './summary.js';
import { timeZoneAt, timeZoneForOffset } from './time-zones.js';
import { mergeHeartRates } from './fit-hr.js';
import {
  detectFormat,
  UnreadableFileError,
  type ImportedActivity,
  type ImportedEvent,
  type ImportedStatistic,
  type ParseResult,
} from './types.js';

type FitRecord = Mesg & Record<string, unknown>;

const FIT_EPOCH_MS = 631_065_600_000;
const DEGREES_PER_SEMICIRCLE = 180 / 2 ** 31;
/** FIT date_time values below 0x10000000 are "system time" (seconds since the device powered on), not dates. */
const SYSTEM_TIME_BELOW_S = 0x10000000;
const SYSTEM_TIME_BELOW_MS = FIT_EPOCH_MS + SYSTEM_TIME_BELOW_S * 1000;
/**
 * Records are grouped by time (sorted, split where this much passes without a record); a group that
 * does not reach a session's window (± SESSION_SLACK_MS) is an isolated clock glitch (a record dated
 * 2085, power-on time before the clock was set). Contiguous records never split, however long.
 */
const OUTLIER_GAP_MS = 24 * 3600 * 1000;
const SESSION_SLACK_MS = 3600 * 1000;
/** Records further than this outside their session's window are reported (the window is widened to them). */
const OUTSIDE_SESSION_REPORT_MS = 60 * 1000;

const MESG = { FILE_ID: 0, SESSION: 18, LAP: 19, RECORD: 20, EVENT: 21, DEVICE_INFO: 23, ACTIVITY: 34, FILE_CREATOR: 49, LENGTH: 101, HR: 132, SPORT: 12 };

/** Sports whose FIT cadence counts strides (one foot): doubled to steps per minute (§9). */
const STRIDE_CADENCE_SPORTS = new Set(['running', 'walking', 'hiking', 'mountaineering', 'transition']);

const INDOOR_SUB_SPORTS = new Set([
  'treadmill',
  'spin',
  'indoorCycling',
  'indoorRowing',
  'indoorRunning',
  'indoorWalking',
  'indoorSkiing',
  'indoorClimbing',
  'virtualActivity',
  'elliptical',
  'stairClimbing',
  'lapSwimming',
  'indoorGrinding',
]);

/** How the importer asks the SDK to decode (bench:import measures the SDK alone with the same options). */
export const FIT_DECODE_OPTIONS = {
  applyScaleAndOffset: true,
  expandSubFields: true,
  expandComponents: true,
  convertTypesToStrings: true,
  convertDateTimesToDates: true,
  includeUnknownData: false,
  mergeHeartRates: true,
} as const;

/** Session/lap fields kept as statistics: [field, key, unit]. Promoted fields are not repeated here. */
const SESSION_STATISTICS: readonly [string, StatisticKey, StatisticUnit][] = [
  ['avgPower', 'avg_power_w', 'W'],
  ['maxPower', 'max_power_w', 'W'],
  ['normalizedPower', 'normalized_power_w', 'W'],
  ['thresholdPower', 'threshold_power_w', 'W'],
  ['trainingStressScore', 'training_stress_score', 'score'],
  ['intensityFactor', 'intensity_factor', 'ratio'],
  ['totalTrainingEffect', 'total_training_effect', 'score'],
  ['totalAnaerobicTrainingEffect', 'total_anaerobic_training_effect', 'score'],
  ['trainingLoadPeak', 'training_load', 'score'],
  ['totalWork', 'total_work_j', 'J'],
  ['totalStrokes', 'total_strokes', 'count'],
  ['totalStrides', 'total_strides', 'count'],
  ['poolLength', 'pool_length_m', 'm'],
  ['numLengths', 'num_lengths', 'count'],
  ['numActiveLengths', 'num_active_lengths', 'count'],
  ['avgSwolf', 'swolf', 'score'],
  ['avgStrokeDistance', 'avg_stroke_distance_m', 'm'],
  ['avgStrokeCount', 'avg_strokes_per_length', 'count'],
  ['minHeartRate', 'min_heart_rate_bpm', 'bpm'],
  ['avgTemperature', 'avg_temperature_c', '°C'],
  ['maxTemperature', 'max_temperature_c', '°C'],
  ['minTemperature', 'min_temperature_c', '°C'],
  ['avgVerticalOscillation', 'avg_vertical_oscillation_mm', 'mm'],
  ['avgStanceTime', 'avg_ground_contact_time_ms', 'ms'],
  ['avgStepLength', 'avg_step_length_mm', 'mm'],
  ['avgVerticalRatio', 'avg_vertical_ratio_percent', '%'],
  ['avgRespirationRate', 'avg_respiration_rate_brpm', 'breaths/min'],
  ['enhancedAvgRespirationRate', 'avg_respiration_rate_brpm', 'breaths/min'],
  ['totalFatCalories', 'fat_energy_kcal', 'kcal'],
  ['jumpCount', 'jump_count', 'count'],
  ['workoutRpe', 'workout_rpe', 'score'],
];

interface FileGroup {
  index: number;
  fileId?: FitRecord;
  fileCreator?: FitRecord;
  records: FitRecord[];
  sessions: FitRecord[];
  laps: FitRecord[];
  lengths: FitRecord[];
  events: FitRecord[];
  activities: FitRecord[];
  hrs: FitRecord[];
  sports: FitRecord[];
  deviceInfos: FitRecord[];
  developerDataIds: FitRecord[];
  fieldDescriptions: FitRecord[];
}

export function parseFit(bytes: Uint8Array): ParseResult {
  if (bytes.length === 0) throw new UnreadableFileError('empty file');
  if (detectFormat(bytes) !== 'fit') throw new UnreadableFileError('not a FIT file (no ".FIT" file header)');

  const warnings: string[] = [];
  const groups: FileGroup[] = [];
  const newGroup = (): FileGroup => {
    const group: FileGroup = {
      index: groups.length,
      records: [],
      sessions: [],
      laps: [],
      lengths: [],
      events: [],
      activities: [],
      hrs: [],
      sports: [],
      deviceInfos: [],
      developerDataIds: [],
      fieldDescriptions: [],
    };
    groups.push(group);
    return group;
  };
  let current: FileGroup | undefined;
  const listener = (mesgNum: number, mesg: Mesg) => {
    const m = mesg as FitRecord;
    // Each chained file starts with its own file_id.
    if (mesgNum === MESG.FILE_ID && (current === undefined || current.fileId !== undefined)) current = newGroup();
    const group = current ?? (current = newGroup());
    switch (mesgNum) {
      case MESG.FILE_ID:
        group.fileId = m;
        break;
      case MESG.FILE_CREATOR:
        group.fileCreator ??= m;
        break;
      case MESG.RECORD:
        group.records.push(m);
        break;
      case MESG.SESSION:
        group.sessions.push(m);
        break;
      case MESG.LAP:
        group.laps.push(m);
        break;
      case MESG.LENGTH:
        group.lengths.push(m);
        break;
      case MESG.EVENT:
        group.events.push(m);
        break;
      case MESG.ACTIVITY:
        group.activities.push(m);
        break;
      case MESG.HR:
        group.hrs.push(m);
        break;
      case MESG.SPORT:
        group.sports.push(m);
        break;
      case MESG.DEVICE_INFO:
        group.deviceInfos.push(m);
        break;
      case 207:
        group.developerDataIds.push(m);
        break;
      case 206:
        group.fieldDescriptions.push(m);
        break;
    }
  };

  const decoder = new Decoder(Stream.fromByteArray(bytes));
  const { errors } = decoder.read({ mesgListener: listener, ...FIT_DECODE_OPTIONS });

  const decodedAnything = groups.some((g) => g.records.length > 0 || g.sessions.length > 0);
  // "Damaged" is said only of what the bytes show (header, declared size, CRC); the decoder
  // stopping on an intact file is its failure, reported as such and logged at error level.
  // A clean read checked every chained file's CRC on the way (the SDK's NORMAL mode throws on a
  // mismatch, and on bytes after the last file): only the header CRCs are left to look at.
  const damage = fitDamage(bytes, { dataCrcVerified: errors.length === 0 });
  const decoderErrors: string[] = [];
  if (errors.length > 0) {
    const reason = describeDecodeError(errors[0]);
    if (damage === undefined) {
      const failure = `FIT decoder failure on an intact file (CRC valid): ${reason}`;
      decoderErrors.push(failure);
      if (!decodedAnything) throw new UnreadableFileError(`unreadable FIT file: ${failure}`, failure);
      warnings.push(`${failure}; imported the messages decoded before the failure`);
    } else {
      if (!decodedAnything) throw new UnreadableFileError(`unreadable FIT file: damaged (${damage}; ${reason})`);
      warnings.push(`FIT file damaged (${damage}; ${reason}); imported the messages before the damage`);
    }
    // The SDK merges hr messages only after a clean read.
    for (const group of groups) {
      if (group.hrs.length === 0 || group.records.length === 0) continue;
      try {
        mergeHeartRates(group.hrs, group.records);
      } catch (error) {
        warnings.push(`heart rate from hr messages not merged: ${describeDecodeError(error)}`);
      }
    }
  } else if (damage !== undefined) {
    warnings.push(`FIT file damaged (${damage}); every message decoded`);
  }
  if (groups.length > 1) warnings.push(`chained FIT file: ${groups.length} files one after the other`);

  const activities: ImportedActivity[] = [];
  for (const group of groups) {
    const label = groups.length > 1 ? `file ${group.index + 1}` : 'file';
    if (group.records.length === 0 && group.sessions.length === 0) {
      const type = group.fileId?.type;
      if (type !== undefined && type !== 'activity') warnings.push(`${label}: FIT ${String(type)} file holds no activity; skipped`);
      continue;
    }
    activities.push(...groupToActivities(group, label, warnings));
  }
  if (activities.length === 0) throw new UnreadableFileError('the FIT file holds no activity (no session and no records)');
  conformActivities(activities, warnings);
  return decoderErrors.length > 0 ? { format: 'fit', activities, warnings, decoderErrors } : { format: 'fit', activities, warnings };
}

/**
 * What is wrong with the bytes of a FIT file (each chained file: header, declared data size, header
 * and file CRC, bytes after the last file), or undefined when they are intact. `dataCrcVerified`:
 * the decoder read the whole file without an error, which it does only where every file CRC
 * matches, so that pass over every byte is not made twice.
 */
export function fitDamage(bytes: Uint8Array, { dataCrcVerified = false } = {}): string | undefined {
  let position = 0;
  let index = 0;
  while (position < bytes.length) {
    index++;
    const label = index > 1 ? `chained file ${index}: ` : '';
    const headerSize = bytes[position];
    const isHeader =
      (headerSize === 12 || headerSize === 14) &&
      position + headerSize <= bytes.length &&
      String.fromCharCode(...bytes.subarray(position + 8, position + 12)) === '.FIT';
    if (!isHeader) {
      return index === 1 ? 'no FIT file header' : `${bytes.length - position} bytes after the end of the FIT data`;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + position, headerSize);
    if (headerSize === 14) {
      const headerCrc = view.getUint16(12, true);
      if (headerCrc !== 0 && headerCrc !== CrcCalculator.calculateCRC(bytes, position, position + 12)) return `${label}header CRC mismatch`;
    }
    const dataEnd = position + headerSize + view.getUint32(4, true);
    if (dataEnd + 2 > bytes.length) return `${label}the file ends ${dataEnd + 2 - bytes.length} bytes before its declared end (truncated)`;
    const crc = bytes[dataEnd] | (bytes[dataEnd + 1] << 8);
    if (!dataCrcVerified && crc !== CrcCalculator.calculateCRC(bytes, position, dataEnd)) return `${label}CRC mismatch`;
    position = dataEnd + 2;
  }
  return undefined;
}

function groupToActivities(group: FileGroup, label: string, warnings: string[]): ImportedActivity[] {
  const sessions = group.sessions
    .filter((s) => sessionStart(s) !== undefined)
    .sort((a, b) => sessionStart(a)! - sessionStart(b)!);
  const records = sanitizeRecords(group.records, sessions.map(sessionWindow), label, warnings);

  if (sessions.length === 0) {
    if (records.length === 0) {
      warnings.push(`${label}: no session and no records with a valid time; skipped`);
      return [];
    }
    warnings.push(`${label}: no session message; the summary is derived from the records`);
    const sport = group.sports[0] ?? group.laps[0] ?? {};
    sessions.push({
      sport: sport.sport ?? 'generic',
      subSport: sport.subSport ?? 'generic',
      startTime: new Date(timeOf(records[0])!),
      timestamp: new Date(timeOf(records.at(-1)!)!),
      derived: true,
    });
  }

  // Each record, lap, length and event goes to the session whose window holds it (the later one where
  // two touch), else to the nearest session in time (the earlier one on a tie): nothing is left out.
  const windows = sessions.map(sessionWindow);
  const partition = <T extends FitRecord>(items: readonly T[], time: (item: T) => number | undefined): T[][] => {
    const parts = sessions.map((): T[] => []);
    for (const item of items) {
      const t = time(item);
      if (t === undefined) continue;
      let best = -1;
      for (let i = windows.length - 1; i >= 0 && best < 0; i--) if (windows[i][0] <= t && t <= windows[i][1]) best = i;
      if (best < 0) {
        let bestDistance = Infinity;
        windows.forEach(([start, end], i) => {
          const distance = t < start ? start - t : t - end;
          if (distance < bestDistance) [best, bestDistance] = [i, distance];
        });
      }
      parts[best].push(item);
    }
    return parts;
  };
  const recordParts = partition(records, timeOf);
  const lapParts = partition(group.laps, (lap) => dateMs(lap.startTime) ?? timeOf(lap));
  const lengthParts = partition(group.lengths, (length) => dateMs(length.startTime) ?? timeOf(length));
  const eventParts = partition(group.events, timeOf);

  const device = deviceName(group);
  const activity = group.activities[0];
  const legs = sessions.map((session, i) =>
    sessionToActivity(session, {
      records: recordParts[i],
      laps: lapParts[i],
      lengths: lengthParts[i],
      events: eventParts[i],
      group,
      device,
      label: sessions.length > 1 ? `${label} session ${i + 1}` : label,
      warnings,
    }),
  );

  // Time zone: the activity's local_timestamp offset, else the first position's zone.
  const firstPosition = legs
    .map((leg) => leg.streams.position)
    .find((p): p is PositionSamples => p !== undefined && isPositionSamples(p));
  const firstFix = firstPosition ? { latitude: firstPosition.latitude[0], longitude: firstPosition.longitude[0] } : undefined;
  let timeZone: string | null = null;
  const localMs = activity?.localTimestamp;
  const activityMs = dateMs(activity?.timestamp);
  const firstStart = Math.min(...legs.map((leg) => leg.startTime.getTime()));
  if (firstStart < SYSTEM_TIME_BELOW_MS) {
    // FIT "system time": the device counted seconds since power-on; nothing in the file dates it.
    // local_timestamp is a local date_time (seconds, not converted by the SDK).
    const localClock =
      typeof localMs === 'number' && localMs >= SYSTEM_TIME_BELOW_S
        ? `; the device's local clock read ${new Date(FIT_EPOCH_MS + localMs * 1000).toISOString().slice(0, 19)} at the end`
        : '';
    warnings.push(
      `${label}: the device's clock was not set: its times count seconds since power-on (stored as ${new Date(firstStart).toISOString()}); ` +
        `times within the activity are right, its date is not known${localClock}; time zone left unset`,
    );
  } else if (typeof localMs === 'number' && activityMs !== undefined) {
    const offsetS = Math.round(localMs - (activityMs - FIT_EPOCH_MS) / 1000);
    timeZone = timeZoneForOffset(offsetS, new Date(activityMs), firstFix) ?? null;
    if (timeZone === null) warnings.push(`${label}: local time offset ${offsetS} s names no IANA zone; time zone left unset`);
  } else if (firstFix) {
    timeZone = timeZoneAt(firstFix.latitude, firstFix.longitude) ?? null;
  }
  for (const leg of legs) leg.timeZone = timeZone;

  const fileSource = {
    fileId: jsonSafe(group.fileId ?? null),
    fileCreator: jsonSafe(group.fileCreator ?? null),
    activity: jsonSafe(activity ?? null),
    deviceInfos: jsonSafe(group.deviceInfos),
    developerDataIds: jsonSafe(group.developerDataIds),
    fieldDescriptions: jsonSafe(group.fieldDescriptions),
  };
  if (legs.length === 1) {
    Object.assign(legs[0].sourceData, fileSource);
    return legs;
  }
  return [multisportParent(legs, fileSource, device, timeZone)];
}

interface SessionParts {
  records: FitRecord[];
  laps: FitRecord[];
  lengths: FitRecord[];
  events: FitRecord[];
  group: FileGroup;
  device: string | null;
  label: string;
  warnings: string[];
}

function sessionToActivity(session: FitRecord, parts: SessionParts): ImportedActivity {
  const { records, warnings, label } = parts;
  const sport = enumName(session.sport, 'generic');
  const subSport = enumName(session.subSport, 'generic');
  const elapsedS = num(session.totalElapsedTime);
  const [startMs, sessionEndMs] = sessionWindow(session);
  let endMs = sessionEndMs;
  const lastRecordMs = records.length > 0 ? timeOf(records.at(-1)!)! : undefined;
  if (session.derived && lastRecordMs !== undefined) endMs = Math.max(endMs, lastRecordMs);

  const streams = recordsToStreams(records, parts.group, sport, warnings, label);
  const match = toCanonical('fit', { sport, subSport });
  const hasPosition = streams.position !== undefined;

  const activity: ImportedActivity = {
    activityType: match.slug,
    sourceActivityType: `fit:${snakeCase(sport)}/${snakeCase(subSport)}`,
    name: null,
    notes: null,
    startTime: new Date(startMs),
    endTime: new Date(endMs),
    timeZone: null,
    durationS: elapsedS ?? null,
    movingTimeS: num(session.totalMovingTime) ?? num(session.totalTimerTime) ?? null,
    distanceM: num(session.totalDistance) ?? null,
    activeEnergyKcal: num(session.totalCalories) ?? null,
    avgHeartRateBpm: num(session.avgHeartRate) ?? null,
    maxHeartRateBpm: num(session.maxHeartRate) ?? null,
    elevationGainM: num(session.totalAscent) ?? null,
    elevationLossM: num(session.totalDescent) ?? null,
    avgSpeedMS: num(session.enhancedAvgSpeed) ?? num(session.avgSpeed) ?? null,
    maxSpeedMS: num(session.enhancedMaxSpeed) ?? num(session.maxSpeed) ?? null,
    isIndoor: INDOOR_SUB_SPORTS.has(subSport) || sport === 'fitnessEquipment' ? true : hasPosition ? false : null,
    deviceName: parts.device,
    statistics: sessionStatistics(session, sport),
    events: [],
    streams,
    sourceData: { session: jsonSafe(omit(session, 'derived')), laps: jsonSafe(parts.laps) },
    children: [],
  };
  if (session.derived) activity.sourceData = { session: null, laps: jsonSafe(parts.laps) };
  if (activity.avgHeartRateBpm === null && streams.heart_rate) {
    if (!session.derived) warnings.push(`${label}: session has no average heart rate; derived from the records`);
  }
  fillSummaryFromStreams(activity);
  if (activity.durationS === null || activity.durationS === undefined) activity.durationS = (endMs - startMs) / 1000;
  // Records before the session start or after its end widen the activity, not the other way round.
  coverStreams(activity);
  if (!session.derived) {
    const outside = records.filter((r) => {
      const t = timeOf(r)!;
      return t < startMs - OUTSIDE_SESSION_REPORT_MS || t > endMs + OUTSIDE_SESSION_REPORT_MS;
    }).length;
    if (outside > 0) {
      warnings.push(
        `${label}: kept ${outside} records outside the session's time (${new Date(startMs).toISOString()} – ${new Date(endMs).toISOString()}); ` +
          `the activity now spans ${activity.startTime.toISOString()} – ${activity.endTime.toISOString()}`,
      );
    }
  }

  activity.events = [
    ...lapEvents(parts.laps, sport),
    ...lengthEvents(parts.lengths),
    ...timerEvents(parts.events, endMs),
  ].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  if (!match.known) warnings.push(`${label}: FIT sport ${sport}/${subSport} is not in the catalog; imported as "other"`);
  return activity;
}

function multisportParent(
  legs: ImportedActivity[],
  fileSource: Record<string, unknown>,
  device: string | null,
  timeZone: string | null,
): ImportedActivity {
  const legSports = new Set(legs.map((leg) => leg.sourceActivityType?.split('/')[0]));
  const isTriathlon = legSports.has('fit:swimming') && legSports.has('fit:cycling') && legSports.has('fit:running');
  const subSport = isTriathlon ? 'triathlon' : 'generic';
  const sum = (pick: (leg: ImportedActivity) => number | null | undefined): number | null => {
    const values = legs.map(pick).filter((v): v is number => v != null);
    return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
  };
  const start = Math.min(...legs.map((leg) => leg.startTime.getTime()));
  const end = Math.max(...legs.map((leg) => leg.endTime.getTime()));
  const maxHr = maxOf(legs.map((leg) => leg.maxHeartRateBpm).filter((v): v is number => v != null));
  // Time-weighted average of the legs' average heart rates.
  const weighted = legs.filter((leg) => leg.avgHeartRateBpm != null && leg.durationS);
  const avgHr =
    weighted.length > 0
      ? Math.round(weighted.reduce((s, leg) => s + leg.avgHeartRateBpm! * leg.durationS!, 0) / weighted.reduce((s, leg) => s + leg.durationS!, 0))
      : null;
  const distanceM = sum((leg) => leg.distanceM);
  const movingTimeS = sum((leg) => leg.movingTimeS);
  return {
    activityType: toCanonical('fit', { sport: 'multisport', subSport }).slug,
    sourceActivityType: `fit:multisport/${subSport}`,
    name: null,
    notes: null,
    startTime: new Date(start),
    endTime: new Date(end),
    timeZone,
    durationS: (end - start) / 1000,
    movingTimeS,
    distanceM,
    activeEnergyKcal: sum((leg) => leg.activeEnergyKcal),
    avgHeartRateBpm: avgHr,
    maxHeartRateBpm: maxHr,
    elevationGainM: sum((leg) => leg.elevationGainM),
    elevationLossM: sum((leg) => leg.elevationLossM),
    avgSpeedMS: distanceM !== null && movingTimeS ? distanceM / movingTimeS : null,
    maxSpeedMS: maxOf(legs.map((leg) => leg.maxSpeedMS).filter((v): v is number => v != null)),
    isIndoor: null,
    deviceName: device,
    statistics: [],
    events: [],
    streams: {},
    sourceData: { ...fileSource, sessions: legs.length },
    children: legs,
  };
}

/**
 * Drops records without a time, isolated clock glitches (records more than OUTLIER_GAP_MS away from
 * the activity's records: a 2085 date, power-on time before the clock was set) and records going back
 * in time. Every contiguous run of records is kept, inside the sessions' windows or not.
 */
function sanitizeRecords(records: FitRecord[], windows: [number, number][], label: string, warnings: string[]): FitRecord[] {
  const times = records.map(timeOf).filter((t): t is number => t !== undefined);
  const keep = keptTimeRanges(Float64Array.from(times).sort(), windows);
  const inKept = (t: number) => keep.some(([from, to]) => from <= t && t <= to);
  let untimed = 0;
  const glitches: number[] = [];
  let backwards = 0;
  let last = -Infinity;
  const kept: FitRecord[] = [];
  for (const record of records) {
    const t = timeOf(record);
    if (t === undefined) {
      untimed++;
      continue;
    }
    if (!inKept(t)) {
      glitches.push(t);
      continue;
    }
    if (t < last) {
      backwards++;
      continue;
    }
    last = t;
    kept.push(record);
  }
  if (untimed > 0) warnings.push(`${label}: dropped ${untimed} records without a timestamp`);
  if (glitches.length > 0) {
    const example = `${new Date(glitches[0]).toISOString()}${glitches.length > 1 ? ', …' : ''}`;
    warnings.push(`${label}: dropped ${glitches.length} records with an implausible timestamp (${example}), more than a day away from the activity's records`);
  }
  if (backwards > 0) warnings.push(`${label}: dropped ${backwards} records whose timestamp jumps backwards`);
  return kept;
}

/**
 * The time ranges of the activity's records: sorted record times split where more than
 * OUTLIER_GAP_MS pass without one; the groups that reach a session's window (± SESSION_SLACK_MS)
 * are the activity. Without such a session, the largest group (a dated one over power-on time).
 */
function keptTimeRanges(sorted: Float64Array, windows: [number, number][]): [number, number][] {
  const groups: { from: number; to: number; count: number }[] = [];
  for (const t of sorted) {
    const last = groups.at(-1);
    if (last && t - last.to <= OUTLIER_GAP_MS) {
      last.to = t;
      last.count++;
    } else {
      groups.push({ from: t, to: t, count: 1 });
    }
  }
  const near = groups.filter((g) => windows.some(([start, end]) => g.from <= end + SESSION_SLACK_MS && g.to >= start - SESSION_SLACK_MS));
  if (near.length > 0) return near.map((g) => [g.from, g.to]);
  if (groups.length === 0) return [];
  const dated = (g: { from: number }) => g.from >= SYSTEM_TIME_BELOW_MS;
  const best = groups.reduce((a, b) => (b.count > a.count || (b.count === a.count && dated(b) && !dated(a)) ? b : a));
  return [[best.from, best.to]];
}

function recordsToStreams(records: FitRecord[], group: FileGroup, sport: string, warnings: string[], label: string) {
  const collector = new StreamCollector(records.length);
  const doubleCadence = STRIDE_CADENCE_SPORTS.has(sport);
  const developer = developerNativeFields(group);
  for (const r of records) {
    const t = timeOf(r)!;
    const dev = developer.length > 0 ? nativeFromDeveloper(r, developer) : undefined;
    const altitude = num(r.enhancedAltitude) ?? num(r.altitude) ?? dev?.altitude;
    collector.add('heart_rate', t, num(r.heartRate) ?? dev?.heartRate);
    const lat = num(r.positionLat);
    const lon = num(r.positionLong);
    if (lat !== undefined && lon !== undefined) {
      collector.addPosition(t, lat * DEGREES_PER_SEMICIRCLE, lon * DEGREES_PER_SEMICIRCLE, altitude ?? null, null);
    }
    collector.add('altitude', t, altitude);
    collector.add('speed', t, num(r.enhancedSpeed) ?? num(r.speed) ?? dev?.speed);
    collector.add('power', t, num(r.power) ?? dev?.power);
    const cadence = num(r.cadence) ?? dev?.cadence;
    if (cadence !== undefined) {
      const value = cadence + (num(r.fractionalCadence) ?? 0);
      collector.add('cadence', t, doubleCadence ? value * 2 : value);
    }
    collector.add('distance', t, num(r.distance) ?? dev?.distance);
    collector.add('temperature', t, num(r.temperature) ?? dev?.temperature);
  }
  return collector.build(warnings, label);
}

/** Record fields by FIT field number, for developer fields that declare a native field. */
const NATIVE_RECORD_FIELDS: Record<number, 'altitude' | 'heartRate' | 'cadence' | 'distance' | 'speed' | 'power' | 'temperature'> = {
  2: 'altitude',
  3: 'heartRate',
  4: 'cadence',
  5: 'distance',
  6: 'speed',
  7: 'power',
  13: 'temperature',
};

type NativeRecordField = (typeof NATIVE_RECORD_FIELDS)[number];

/**
 * Developer field key → the native record field it stands in for (e.g. a Stryd "Power"), as pairs.
 * The SDK keys a record's developerFields by a number: kept a number, each record's lookup is an
 * element load, not a string converted to an index.
 */
function developerNativeFields(group: FileGroup): [key: number | string, native: NativeRecordField][] {
  const map = new Map<number | string, NativeRecordField>();
  for (const d of group.fieldDescriptions) {
    if (d.nativeMesgNum !== MESG.RECORD && d.nativeMesgNum !== 'record') continue;
    const native = typeof d.nativeFieldNum === 'number' ? NATIVE_RECORD_FIELDS[d.nativeFieldNum] : undefined;
    if (native !== undefined && d.key !== undefined) map.set(typeof d.key === 'number' ? d.key : String(d.key), native);
  }
  return [...map];
}

function nativeFromDeveloper(record: FitRecord, developer: readonly [number | string, NativeRecordField][]): Partial<Record<NativeRecordField, number>> | undefined {
  const fields = record.developerFields as Record<number | string, unknown> | undefined;
  if (!fields) return undefined;
  // By the few declared fields, not Object.entries of every record's: no arrays per record.
  let out: Partial<Record<NativeRecordField, number>> | undefined;
  for (let i = 0; i < developer.length; i++) {
    const [key, native] = developer[i]!;
    const value = fields[key];
    if (typeof value === 'number' && Number.isFinite(value)) (out ??= {})[native] = value;
  }
  return out;
}

function sessionStatistics(session: FitRecord, sport: string): ImportedStatistic[] {
  const stats: ImportedStatistic[] = [];
  const seen = new Set<string>();
  const push = (key: StatisticKey, value: number | undefined, unit: StatisticUnit) => {
    if (value === undefined || seen.has(key)) return;
    seen.add(key);
    stats.push({ key, value, unit });
  };
  for (const [field, key, unit] of SESSION_STATISTICS) push(key, num(session[field]), unit);
  const avgCadence = num(session.avgCadence);
  const maxCadence = num(session.maxCadence);
  if (STRIDE_CADENCE_SPORTS.has(sport)) {
    if (avgCadence !== undefined) push('avg_cadence_spm', (avgCadence + (num(session.avgFractionalCadence) ?? 0)) * 2, 'steps/min');
    if (maxCadence !== undefined) push('max_cadence_spm', (maxCadence + (num(session.maxFractionalCadence) ?? 0)) * 2, 'steps/min');
  } else {
    push('avg_cadence_rpm', avgCadence, 'rpm');
    push('max_cadence_rpm', maxCadence, 'rpm');
  }
  const timer = num(session.totalTimerTime);
  if (timer !== undefined) push('timer_time_s', timer, 's');
  return stats;
}

function lapEvents(laps: FitRecord[], sport: string): ImportedEvent[] {
  return laps.flatMap((lap, i) => {
    const endMs = dateMs(lap.timestamp);
    const elapsedS = num(lap.totalElapsedTime);
    const startMs = dateMs(lap.startTime) ?? (endMs !== undefined && elapsedS !== undefined ? endMs - elapsedS * 1000 : undefined);
    if (startMs === undefined) return [];
    // Numbered within the activity (a multisport leg's first lap is 0), not the file's message_index.
    const metadata: Record<string, unknown> = { index: i };
    const put = (key: string, value: unknown) => {
      if (value !== undefined && value !== null) metadata[key] = value;
    };
    put('duration_s', elapsedS);
    put('timer_time_s', num(lap.totalTimerTime));
    put('moving_time_s', num(lap.totalMovingTime));
    put('distance_m', num(lap.totalDistance));
    put('active_energy_kcal', num(lap.totalCalories));
    put('avg_heart_rate_bpm', num(lap.avgHeartRate));
    put('max_heart_rate_bpm', num(lap.maxHeartRate));
    put('avg_speed_m_s', num(lap.enhancedAvgSpeed) ?? num(lap.avgSpeed));
    put('max_speed_m_s', num(lap.enhancedMaxSpeed) ?? num(lap.maxSpeed));
    put('elevation_gain_m', num(lap.totalAscent));
    put('elevation_loss_m', num(lap.totalDescent));
    put('avg_power_w', num(lap.avgPower));
    put('max_power_w', num(lap.maxPower));
    put('normalized_power_w', num(lap.normalizedPower));
    const cadence = num(lap.avgCadence);
    if (cadence !== undefined) {
      if (STRIDE_CADENCE_SPORTS.has(sport)) put('avg_cadence_spm', (cadence + (num(lap.avgFractionalCadence) ?? 0)) * 2);
      else put('avg_cadence_rpm', cadence);
    }
    put('num_lengths', num(lap.numLengths));
    put('total_strokes', num(lap.totalStrokes));
    put('swim_stroke', typeof lap.swimStroke === 'string' ? snakeCase(lap.swimStroke) : undefined);
    put('trigger', typeof lap.lapTrigger === 'string' ? snakeCase(lap.lapTrigger) : undefined);
    put('intensity', typeof lap.intensity === 'string' ? snakeCase(lap.intensity) : undefined);
    return [{ eventType: 'lap', startTime: new Date(startMs), endTime: endMs !== undefined ? new Date(endMs) : null, metadata }];
  });
}

/** Pool lengths are `segment` events with `metadata.kind = 'length'` (idle lengths are rests). */
function lengthEvents(lengths: FitRecord[]): ImportedEvent[] {
  return lengths.flatMap((length, i) => {
    const endMs = dateMs(length.timestamp);
    const elapsedS = num(length.totalElapsedTime);
    const startMs = dateMs(length.startTime) ?? (endMs !== undefined && elapsedS !== undefined ? endMs - elapsedS * 1000 : undefined);
    if (startMs === undefined) return [];
    const metadata: Record<string, unknown> = { kind: 'length', index: i };
    const put = (key: string, value: unknown) => {
      if (value !== undefined && value !== null) metadata[key] = value;
    };
    put('length_type', typeof length.lengthType === 'string' ? snakeCase(length.lengthType) : undefined);
    put('swim_stroke', typeof length.swimStroke === 'string' ? snakeCase(length.swimStroke) : undefined);
    put('duration_s', elapsedS);
    put('timer_time_s', num(length.totalTimerTime));
    put('total_strokes', num(length.totalStrokes));
    put('avg_speed_m_s', num(length.avgSpeed));
    put('avg_swimming_cadence_spm', num(length.avgSwimmingCadence));
    put('active_energy_kcal', num(length.totalCalories));
    return [{ eventType: 'segment', startTime: new Date(startMs), endTime: endMs !== undefined ? new Date(endMs) : null, metadata }];
  });
}

/** Timer stop → pause, the following start → resume; the opening start and the closing stop are the activity's own bounds. */
function timerEvents(events: FitRecord[], endMs: number): ImportedEvent[] {
  const out: ImportedEvent[] = [];
  let running: boolean | undefined;
  const sorted = events.filter((e) => dateMs(e.timestamp) !== undefined).sort((a, b) => timeOf(a)! - timeOf(b)!);
  for (const event of sorted) {
    const t = timeOf(event)!;
    if (event.event === 'timer') {
      const type = String(event.eventType);
      if (type === 'start') {
        if (running === false) out.push({ eventType: 'resume', startTime: new Date(t), metadata: null });
        running = true;
      } else if (type.startsWith('stop')) {
        if (running !== false && t < endMs) out.push({ eventType: 'pause', startTime: new Date(t), metadata: null });
        running = false;
      }
    } else if (event.event === 'userMarker' || event.event === 'coursePoint') {
      out.push({ eventType: 'marker', startTime: new Date(t), metadata: jsonSafe(omit(event, 'timestamp')) as Record<string, unknown> });
    }
  }
  // A pause that never resumes before the end is the end of recording, not a pause.
  while (out.length > 0 && out.at(-1)!.eventType === 'pause') out.pop();
  return out;
}

function deviceName(group: FileGroup): string | null {
  const fileId = group.fileId;
  const creator = group.deviceInfos.find((d) => d.deviceIndex === 'creator' || d.deviceIndex === 0);
  const productName = fileId?.productName ?? creator?.productName;
  if (typeof productName === 'string' && productName.trim() !== '') return productName.trim();
  const manufacturer = fileId?.manufacturer ?? creator?.manufacturer;
  const product = fileId?.garminProduct ?? fileId?.faveroProduct ?? fileId?.product ?? creator?.garminProduct ?? creator?.product;
  if (manufacturer === undefined && product === undefined) return null;
  return [manufacturer, product].filter((v) => v !== undefined).map(String).join(' ');
}

/**
 * A session's [start, end]: its timestamp, unless that falls more than a second short of start +
 * elapsed time (some devices stamp a session with its start); then start + elapsed time.
 */
function sessionWindow(session: FitRecord): [number, number] {
  const start = sessionStart(session)!;
  const end = dateMs(session.timestamp);
  const elapsedEnd = start + Math.round((num(session.totalElapsedTime) ?? 0) * 1000);
  return [start, end !== undefined && end >= elapsedEnd - 1000 ? end : Math.max(start, elapsedEnd)];
}

function sessionStart(session: FitRecord): number | undefined {
  const start = dateMs(session.startTime);
  if (start !== undefined) return start;
  const end = dateMs(session.timestamp);
  const elapsed = num(session.totalElapsedTime);
  return end !== undefined && elapsed !== undefined ? end - elapsed * 1000 : end;
}

function timeOf(mesg: FitRecord): number | undefined {
  return dateMs(mesg.timestamp);
}

function dateMs(value: unknown): number | undefined {
  if (!isDate(value)) return undefined;
  const ms = value.getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The SDK gives profile enum names as camelCase strings, unknown values as numbers. */
function enumName(value: unknown, fallback: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return fallback;
}

function omit(mesg: FitRecord, key: string): FitRecord {
  const copy = { ...mesg };
  delete copy[key];
  return copy;
}

/** The decoder's own errors ("FIT Runtime Error at byte N …") without the prefix; a crash with its error name. */
function describeDecodeError(error: unknown): string {
  const message = error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
    ? String((error as { message: unknown }).message)
    : String(error);
  if (!message.startsWith('FIT Runtime Error')) {
    const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : '';
    return `${name}${message.trim() || 'malformed data'}`;
  }
  const reason = message.replace(/^FIT Runtime Error\s*/, '').trim();
  // The SDK names no reason for a message of an undefined local type or a definition with an unknown base type.
  return /^at byte \d+$/.test(reason) ? `${reason}: a message the decoder cannot read` : reason || 'malformed data';
}
