/**
 * Apple Health `export.xml` → activities, streamed with saxes in constant memory: only the
 * `<Workout>` being read is held (its MetadataEntry, WorkoutEvent, WorkoutStatistics and
 * WorkoutRoute children); the millions of `<Record>` samples around it are skipped as they
 * stream past. A workout's route (`workout-routes/*.gpx`, named by its FileReference) is read
 * through the caller's `routes` callback when the workout is complete.
 *
 * Dates in the export carry the phone's offset at export time ("2024-05-01 06:30:00 +0200"),
 * not the workout's zone; the zone comes from the `HKTimeZone` metadata, else from the route's
 * first position.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { toCanonical, type HealthKitQualifiers } from '../../../../libs/seed-data/activity-type-mapping.js';
import { isTimeZone } from '@unified-activity/contract';
import { clipStreams, conformActivities, fillSummaryFromStreams, snakeCase, StreamCollector, timeZoneAt } from './common.js';
import { readGpx } from './gpx.js';
import { UnreadableFileError, type ImportedActivity, type ImportedEvent, type ImportedStatistic } from './types.js';

export interface HealthKitTypeInput {
  /** `HKWorkoutActivityTypeRunning`, `running` or the raw value. */
  workoutActivityType: string | number;
  /** `HKIndoorWorkout` / `HKMetadataKeyIndoorWorkout` metadata. */
  indoor?: boolean | null;
  /** `HKSwimmingLocationType` / `HKMetadataKeySwimmingLocationType` metadata: 0 unknown, 1 pool, 2 open water. */
  swimmingLocation?: 0 | 1 | 2 | null;
}

/**
 * The canonical slug of a HealthKit workout type with its indoor / swimming-location
 * qualifiers, through the catalog (CATALOG.md). One function for the export parser and the
 * HealthKit sync mapper.
 */
export function healthKitActivityType(input: HealthKitTypeInput): { slug: string; known: boolean } {
  const qualifiers: HealthKitQualifiers = { indoor: input.indoor ?? null, swimmingLocation: input.swimmingLocation ?? null };
  const match = toCanonical('healthkit', input.workoutActivityType, qualifiers);
  return { slug: match.slug, known: match.known };
}

type Attributes = Record<string, string>;

interface Summary {
  attributes: Attributes;
  metadata: Attributes;
  events: Attributes[];
  statistics: Attributes[];
}

interface WorkoutDraft extends Summary {
  routes: { attributes: Attributes; paths: string[] }[];
  /** iOS 16+ `<WorkoutActivity>` children: one per leg of a multisport workout. */
  activities: Summary[];
}

const MAX_WARNINGS_PER_WORKOUT = 20;

/**
 * Streams the workouts of an Apple Health export.xml. Throws UnreadableFileError when the
 * input is not an Apple Health export or the XML is broken before the first workout; a
 * break after that ends the stream after the workouts already read with a
 * TruncatedExportError (an UnreadableFileError). Each yielded activity carries its own
 * warnings (a missing route, say) in `activity.warnings`.
 */
export async function* parseAppleHealthExport(
  xml: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  routes: (path: string) => Promise<Uint8Array | undefined>,
): AsyncIterable<ImportedActivity> {
  const parser = new SaxesParser({ xmlns: false, position: false });
  const completed: WorkoutDraft[] = [];
  const stack: string[] = [];
  let sawRoot = false;
  let draft: WorkoutDraft | undefined;
  let route: { attributes: Attributes; paths: string[] } | undefined;
  let leg: Summary | undefined;
  let parseError: Error | undefined;
  let yielded = 0;

  parser.on('opentag', (tag: SaxesTagPlain) => {
    const name = tag.name;
    const parent = stack.at(-1);
    stack.push(name);
    if (!sawRoot) {
      if (name !== 'HealthData') throw new UnreadableFileError(`not an Apple Health export (root element <${name}>)`);
      sawRoot = true;
      return;
    }
    const attributes = tag.attributes as Attributes;
    if (name === 'Workout' && parent === 'HealthData') {
      draft = { attributes, metadata: {}, events: [], statistics: [], routes: [], activities: [] };
      return;
    }
    if (!draft) return;
    if (parent === 'Workout') {
      if (name === 'MetadataEntry' && attributes.key !== undefined) draft.metadata[attributes.key] = attributes.value ?? '';
      else if (name === 'WorkoutEvent') draft.events.push(attributes);
      else if (name === 'WorkoutStatistics') draft.statistics.push(attributes);
      else if (name === 'WorkoutActivity') {
        leg = { attributes, metadata: {}, events: [], statistics: [] };
        draft.activities.push(leg);
      } else if (name === 'WorkoutRoute') {
        route = { attributes, paths: [] };
        draft.routes.push(route);
      }
    } else if (parent === 'WorkoutRoute' && name === 'FileReference' && route && attributes.path) {
      route.paths.push(attributes.path);
    } else if (parent === 'WorkoutActivity' && leg) {
      if (name === 'MetadataEntry' && attributes.key !== undefined) leg.metadata[attributes.key] = attributes.value ?? '';
      else if (name === 'WorkoutEvent') leg.events.push(attributes);
      else if (name === 'WorkoutStatistics') leg.statistics.push(attributes);
    }
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    stack.pop();
    if (tag.name === 'WorkoutRoute') route = undefined;
    if (tag.name === 'WorkoutActivity') leg = undefined;
    if (tag.name === 'Workout' && draft && stack.at(-1) === 'HealthData') {
      completed.push(draft);
      draft = undefined;
    }
  });
  parser.on('error', (error: Error) => {
    parseError ??= error;
  });

  const decoder = new TextDecoder('utf-8');
  let sawContent = false;
  const write = (chunk: string) => {
    if (parseError) return;
    if (!sawContent && chunk.trim() !== '') sawContent = true;
    try {
      parser.write(chunk);
    } catch (error) {
      if (error instanceof UnreadableFileError) throw error;
      parseError ??= error as Error;
    }
  };
  const drain = async function* () {
    while (completed.length > 0) {
      const workout = completed.shift()!;
      const activity = await workoutToActivity(workout, routes);
      if (activity) {
        yielded++;
        yield activity;
      }
    }
  };

  for await (const chunk of xml as AsyncIterable<Uint8Array | string>) {
    write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    yield* drain();
    if (parseError) break;
  }
  if (!parseError) {
    write(decoder.decode());
    try {
      parser.close();
    } catch (error) {
      parseError ??= error as Error;
    }
    yield* drain();
  }
  if (!sawContent) throw new UnreadableFileError('empty file');
  if (!sawRoot && !parseError) throw new UnreadableFileError('not an Apple Health export (no root element)');
  if (parseError) {
    const reason = String(parseError.message).split('\n')[0].slice(0, 200);
    if (yielded === 0 && !sawRoot) throw new UnreadableFileError(`malformed Apple Health export.xml: ${reason}`);
    if (yielded === 0) throw new UnreadableFileError(`malformed Apple Health export.xml before any workout: ${reason}`);
    // Workouts already yielded stay imported; the break is reported on the stream's end.
    throw new TruncatedExportError(reason, yielded);
  }
}

/** The export.xml broke after `imported` workouts were yielded (all of them complete). */
export class TruncatedExportError extends UnreadableFileError {
  constructor(
    detail: string,
    readonly imported: number,
  ) {
    super(`Apple Health export.xml is damaged after ${imported} workouts: ${detail}`);
  }
}

async function workoutToActivity(
  workout: WorkoutDraft,
  routes: (path: string) => Promise<Uint8Array | undefined>,
): Promise<ImportedActivity | undefined> {
  const warnings: string[] = [];
  // A single WorkoutActivity repeats the workout; newer exports may keep some values only there.
  const only = workout.activities.length === 1 ? workout.activities[0] : undefined;
  const summary: Summary = only
    ? {
        attributes: workout.attributes,
        metadata: { ...only.metadata, ...workout.metadata },
        events: workout.events.length > 0 ? workout.events : only.events,
        statistics: [...workout.statistics, ...only.statistics.filter((s) => !workout.statistics.some((w) => w.type === s.type))],
      }
    : workout;
  const activity = summaryToActivity(summary, workout.attributes.workoutActivityType ?? '', warnings);
  if (!activity) return undefined;
  activity.sourceData = {
    workout: workout.attributes,
    metadata: workout.metadata,
    statistics: workout.statistics,
    events: workout.events,
    routes: workout.routes.map((r) => ({ ...r.attributes, paths: r.paths })),
    ...(workout.activities.length > 0 ? { workoutActivities: workout.activities } : {}),
  };
  if (workout.activities.length > 1) {
    const isMultisport = /SwimBikeRun|Transition/.test(activity.sourceActivityType ?? '');
    for (const [i, legSummary] of workout.activities.entries()) {
      const type = inferLegType(legSummary, isMultisport);
      const child = summaryToActivity(
        { ...legSummary, attributes: { sourceName: workout.attributes.sourceName, device: workout.attributes.device, ...legSummary.attributes } },
        type,
        warnings,
      );
      if (!child) continue;
      // The export does not name a leg's type; it is inferred from the leg's statistics.
      child.sourceActivityType = null;
      child.sourceData = { workoutActivity: legSummary, index: i, inferredType: type };
      activity.children.push(child);
    }
  }

  // Route: position (with altitude and horizontal accuracy), altitude and speed.
  const collector = new StreamCollector();
  for (const r of workout.routes) {
    for (const path of r.paths) {
      const normalized = path.replace(/^\/+/, '');
      const bytes = await routes(normalized);
      if (!bytes) {
        warnings.push(`route ${normalized} is missing from the export`);
        continue;
      }
      try {
        const { tracks } = readGpx(new TextDecoder('utf-8').decode(bytes), warnings);
        for (const point of tracks.flatMap((t) => t.segments.flat())) {
          if (point.timeMs === undefined) continue;
          collector.addPosition(point.timeMs, point.latitude, point.longitude, point.elevationM ?? null, point.horizontalAccuracyM ?? null);
          collector.add('altitude', point.timeMs, point.elevationM);
          collector.add('speed', point.timeMs, point.speedMS);
        }
      } catch (error) {
        warnings.push(`route ${normalized} is unreadable: ${(error as Error).message}`);
      }
    }
  }
  activity.streams = sortStreams(collector.build(warnings, 'route'));
  // The workout's times are the export's own; route points well outside them are not kept.
  clipStreams(activity, warnings, 'route');

  const zone = summary.metadata.HKTimeZone;
  if (zone && isTimeZone(zone)) activity.timeZone = zone;
  else if (collector.firstPosition) activity.timeZone = timeZoneAt(collector.firstPosition.latitude, collector.firstPosition.longitude) ?? null;
  for (const child of activity.children) child.timeZone = activity.timeZone;
  if (activity.isIndoor == null && activity.streams.position) activity.isIndoor = false;

  fillSummaryFromStreams(activity);
  conformActivities([activity], warnings);
  // Not in sourceData: that is the workout as exported, so the same workout in two exports is equal.
  if (warnings.length > 0) activity.warnings = warnings.slice(0, MAX_WARNINGS_PER_WORKOUT);
  return activity;
}

/** A workout or one leg of it, from its attributes, metadata, events and statistics. */
function summaryToActivity(summary: Summary, workoutActivityType: string, warnings: string[]): ImportedActivity | undefined {
  const a = summary.attributes;
  const startMs = parseAppleDate(a.startDate);
  const durationAttributeS = toSeconds(parseNumber(a.duration), a.durationUnit);
  const endMs = parseAppleDate(a.endDate) ?? (startMs !== undefined && durationAttributeS !== undefined ? startMs + durationAttributeS * 1000 : undefined);
  if (startMs === undefined || endMs === undefined || endMs < startMs) {
    warnings.push(`workout at ${a.startDate ?? '?'}: no valid start and end; skipped`);
    return undefined;
  }
  const indoor = parseBoolean(summary.metadata.HKIndoorWorkout ?? summary.metadata.HKMetadataKeyIndoorWorkout);
  const location = parseQuantity(summary.metadata.HKSwimmingLocationType ?? summary.metadata.HKMetadataKeySwimmingLocationType)?.value;
  const swimmingLocation = location === 0 || location === 1 || location === 2 ? location : null;
  const type = healthKitActivityType({ workoutActivityType, indoor, swimmingLocation });
  if (!type.known) warnings.push(`HealthKit type "${workoutActivityType}" is not in the catalog; imported as "other"`);

  const statistics: ImportedStatistic[] = [];
  const addStatistic = (key: string, value: number | undefined, unit: string) => {
    if (value === undefined || !Number.isFinite(value) || statistics.some((s) => s.key === key)) return;
    statistics.push({ key, value, unit });
  };
  const activity: ImportedActivity = {
    activityType: type.slug,
    sourceActivityType: workoutActivityType || null,
    name: summary.metadata.HKWorkoutBrandName ?? null,
    notes: null,
    startTime: new Date(startMs),
    endTime: new Date(endMs),
    timeZone: null,
    durationS: (endMs - startMs) / 1000,
    distanceM: toMetres(parseNumber(a.totalDistance), a.totalDistanceUnit) ?? null,
    activeEnergyKcal: toKcal(parseNumber(a.totalEnergyBurned), a.totalEnergyBurnedUnit) ?? null,
    isIndoor: indoor,
    deviceName: deviceName(a.device) ?? a.sourceName ?? null,
    statistics,
    events: [],
    streams: {},
    sourceData: {},
    children: [],
  };
  for (const s of summary.statistics) applyStatistic(activity, s, addStatistic);
  applyMetadata(activity, summary.metadata, addStatistic);
  activity.events = summary.events.flatMap((e) => workoutEvent(e));
  activity.movingTimeS = movingTimeS(activity, durationAttributeS);
  return activity;
}

/** A leg's HealthKit type from what it measured (the export does not say). */
function inferLegType(leg: Summary, isMultisport: boolean): string {
  const types = new Set(leg.statistics.map((s) => (s.type ?? '').replace(/^HKQuantityTypeIdentifier/, '')));
  if (types.has('DistanceSwimming') || types.has('SwimmingStrokeCount')) return 'HKWorkoutActivityTypeSwimming';
  if (types.has('DistanceCycling') || types.has('CyclingPower') || types.has('CyclingCadence') || types.has('CyclingSpeed')) {
    return 'HKWorkoutActivityTypeCycling';
  }
  if (types.has('DistanceWalkingRunning') || types.has('RunningPower') || types.has('RunningSpeed')) return 'HKWorkoutActivityTypeRunning';
  return isMultisport ? 'HKWorkoutActivityTypeTransition' : 'HKWorkoutActivityTypeOther';
}

/** Route files may hold several segments out of order; streams must be in time order. */
function sortStreams(streams: ImportedActivity['streams']): ImportedActivity['streams'] {
  for (const samples of Object.values(streams)) {
    const t = samples.timestamps;
    let sorted = true;
    for (let i = 1; i < t.length && sorted; i++) if (t[i] < t[i - 1]) sorted = false;
    if (sorted) continue;
    const order = Array.from(t.keys()).sort((x, y) => t[x] - t[y]);
    for (const [key, column] of Object.entries(samples)) {
      if (column instanceof Float64Array) (samples as unknown as Record<string, Float64Array>)[key] = Float64Array.from(order, (i) => column[i]);
    }
  }
  return streams;
}

/**
 * HealthKit's `duration` leaves paused time out when the workout app recorded it so; else the
 * elapsed time minus the pause → resume spans; null without either.
 */
function movingTimeS(activity: ImportedActivity, durationS: number | undefined): number | null {
  const elapsedS = activity.durationS ?? 0;
  if (durationS !== undefined && durationS < elapsedS - 1) return durationS;
  let pausedMs = 0;
  let pausedAt: number | undefined;
  for (const event of [...activity.events].sort((x, y) => x.startTime.getTime() - y.startTime.getTime())) {
    if (event.eventType === 'pause') pausedAt ??= event.startTime.getTime();
    else if (event.eventType === 'resume' && pausedAt !== undefined) {
      pausedMs += event.startTime.getTime() - pausedAt;
      pausedAt = undefined;
    }
  }
  if (pausedMs > 0) return elapsedS - pausedMs / 1000;
  return durationS ?? null;
}

const EVENT_TYPES: Record<string, string> = {
  HKWorkoutEventTypePause: 'pause',
  HKWorkoutEventTypeResume: 'resume',
  HKWorkoutEventTypeLap: 'lap',
  HKWorkoutEventTypeSegment: 'segment',
  HKWorkoutEventTypeMarker: 'marker',
  HKWorkoutEventTypeMotionPaused: 'motion_paused',
  HKWorkoutEventTypeMotionResumed: 'motion_resumed',
  HKWorkoutEventTypePauseOrResumeRequest: 'marker',
};

function workoutEvent(e: Attributes): ImportedEvent[] {
  const eventType = EVENT_TYPES[e.type ?? ''];
  const startMs = parseAppleDate(e.date);
  if (!eventType || startMs === undefined) return [];
  const durationS = toSeconds(parseNumber(e.duration), e.durationUnit);
  const endMs = durationS !== undefined && durationS > 0 ? startMs + durationS * 1000 : undefined;
  const metadata: Record<string, unknown> = { source_type: e.type };
  if (durationS !== undefined && durationS > 0) metadata.duration_s = durationS;
  return [{ eventType, startTime: new Date(startMs), endTime: endMs !== undefined ? new Date(endMs) : null, metadata }];
}

type AddStatistic = (key: string, value: number | undefined, unit: string) => void;

function applyStatistic(activity: ImportedActivity, s: Attributes, add: AddStatistic): void {
  const type = (s.type ?? '').replace(/^HKQuantityTypeIdentifier/, '');
  const unit = s.unit;
  const sum = parseNumber(s.sum);
  const average = parseNumber(s.average);
  const maximum = parseNumber(s.maximum);
  const minimum = parseNumber(s.minimum);
  switch (type) {
    case 'HeartRate': {
      const perMinute = (v: number | undefined) => (v === undefined ? undefined : unit === 'count/s' ? v * 60 : v);
      activity.avgHeartRateBpm ??= perMinute(average) ?? null;
      activity.maxHeartRateBpm ??= perMinute(maximum) ?? null;
      add('min_heart_rate_bpm', perMinute(minimum), 'bpm');
      return;
    }
    case 'ActiveEnergyBurned':
      activity.activeEnergyKcal ??= toKcal(sum, unit) ?? null;
      return;
    case 'BasalEnergyBurned':
      add('basal_energy_kcal', toKcal(sum, unit), 'kcal');
      return;
    case 'DistanceWalkingRunning':
    case 'DistanceCycling':
    case 'DistanceSwimming':
    case 'DistanceWheelchair':
    case 'DistanceDownhillSnowSports':
    case 'DistanceCrossCountrySkiing':
    case 'DistancePaddleSports':
    case 'DistanceRowing':
    case 'DistanceSkatingSports':
      activity.distanceM ??= toMetres(sum, unit) ?? null;
      return;
    case 'StepCount':
      add('total_steps', sum, 'count');
      return;
    case 'SwimmingStrokeCount':
      add('total_strokes', sum, 'count');
      return;
    case 'FlightsClimbed':
      add('flights_climbed', sum, 'count');
      return;
    case 'RunningPower':
    case 'CyclingPower':
      add('avg_power_w', average, 'W');
      add('max_power_w', maximum, 'W');
      return;
    case 'CyclingCadence':
      add('avg_cadence_rpm', average, 'rpm');
      add('max_cadence_rpm', maximum, 'rpm');
      return;
    case 'RunningSpeed':
    case 'CyclingSpeed': {
      const toMS = (v: number | undefined) => (v === undefined ? undefined : speedToMS(v, unit));
      activity.avgSpeedMS ??= toMS(average) ?? null;
      activity.maxSpeedMS ??= toMS(maximum) ?? null;
      return;
    }
    case 'RunningStrideLength':
      add('avg_stride_length_m', toMetres(average, unit), 'm');
      return;
    case 'RunningVerticalOscillation': {
      const metres = toMetres(average, unit);
      add('avg_vertical_oscillation_mm', metres === undefined ? undefined : metres * 1000, 'mm');
      return;
    }
    case 'RunningGroundContactTime':
      add('avg_ground_contact_time_ms', average, 'ms');
      return;
    default:
      if (type !== '' && sum !== undefined && unit === 'count') add(`total_${snakeCase(type)}`, sum, 'count');
  }
}

function applyMetadata(activity: ImportedActivity, metadata: Attributes, add: AddStatistic): void {
  const q = (key: string) => parseQuantity(metadata[key] ?? metadata[key.replace(/^HK/, 'HKMetadataKey')]);
  const ascended = q('HKElevationAscended');
  if (ascended) activity.elevationGainM ??= toMetres(ascended.value, ascended.unit) ?? null;
  const descended = q('HKElevationDescended');
  if (descended) activity.elevationLossM ??= toMetres(descended.value, descended.unit) ?? null;
  const avgSpeed = q('HKAverageSpeed');
  if (avgSpeed) activity.avgSpeedMS ??= speedToMS(avgSpeed.value, avgSpeed.unit) ?? null;
  const maxSpeed = q('HKMaximumSpeed');
  if (maxSpeed) activity.maxSpeedMS ??= speedToMS(maxSpeed.value, maxSpeed.unit) ?? null;
  const lap = q('HKLapLength');
  if (lap) add('pool_length_m', toMetres(lap.value, lap.unit), 'm');
  const temperature = q('HKWeatherTemperature');
  if (temperature) {
    const celsius = temperature.unit === 'degF' ? ((temperature.value - 32) * 5) / 9 : temperature.unit === 'K' ? temperature.value - 273.15 : temperature.value;
    add('weather_temperature_c', celsius, '°C');
  }
  const humidity = q('HKWeatherHumidity');
  // HealthKit writes humidity as a percentage ×100 ("5600 %") in exports.
  if (humidity) add('weather_humidity_percent', humidity.value > 100 ? humidity.value / 100 : humidity.value, '%');
  const mets = q('HKAverageMETs');
  if (mets) add('avg_mets', mets.value, 'kcal/hr·kg');
}

/** "2024-05-01 06:30:00 +0200" (or ISO 8601) → epoch ms. */
export function parseAppleDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(?:([+-])(\d{2}):?(\d{2})|Z)?$/.exec(value.trim());
  if (!m) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m;
  const fractionMs = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const utc = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + fractionMs;
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (+oh * 60 + +om) * 60_000 : 0;
  return utc - offsetMs;
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** "4500 cm" → { value: 4500, unit: 'cm' }; a bare number has unit ''. */
function parseQuantity(value: string | undefined): { value: number; unit: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(-?[\d.]+(?:[eE][+-]?\d+)?)\s*(.*?)\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) ? { value: n, unit: m[2] } : undefined;
}

function parseBoolean(value: string | undefined): boolean | null {
  if (value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  return null;
}

function toSeconds(value: number | undefined, unit: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  switch (unit) {
    case 'min':
      return value * 60;
    case 'hr':
    case 'h':
      return value * 3600;
    case 'ms':
      return value / 1000;
    default:
      return value;
  }
}

const METRES_PER: Record<string, number> = { m: 1, km: 1000, cm: 0.01, mm: 0.001, mi: 1609.344, yd: 0.9144, ft: 0.3048, in: 0.0254 };

function toMetres(value: number | undefined, unit: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const factor = METRES_PER[unit ?? 'm'];
  return factor === undefined ? undefined : value * factor;
}

function toKcal(value: number | undefined, unit: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  switch (unit) {
    case 'kJ':
      return value / 4.184;
    case 'J':
      return value / 4184;
    case 'cal':
      return value / 1000;
    default:
      // kcal and Cal (food calorie) are the same unit.
      return value;
  }
}

function speedToMS(value: number, unit: string | undefined): number | undefined {
  switch (unit) {
    case 'm/s':
      return value;
    case 'km/hr':
    case 'km/h':
      return value / 3.6;
    case 'mi/hr':
    case 'mph':
      return (value * 1609.344) / 3600;
    default:
      return undefined;
  }
}

/** `<<HKDevice: 0x…>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, …>` → "Apple Watch". */
function deviceName(device: string | undefined): string | undefined {
  if (!device) return undefined;
  const m = /name:([^,>]+)/.exec(device);
  return m ? m[1].trim() : undefined;
}
