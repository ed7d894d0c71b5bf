/**
 * Apple Health `export.xml` → activities, streamed with saxes in two passes, in memory bounded by
 * the workouts themselves, not by the export:
 *
 * 1. The first pass only notes each `<Workout>`'s time window (a few bytes each), and for each
 *    workout the position of the last sample `<Record>` that falls into it after the workout
 *    element (exports put the records first, but nothing guarantees it).
 * 2. The second pass reads the workouts as before (only the `<Workout>` being read is held, with its
 *    MetadataEntry, WorkoutEvent, WorkoutStatistics and WorkoutRoute children) and hands each sample
 *    record of a mapped type (heart rate, running/cycling speed and power, cycling cadence,
 *    distances; see RECORD_SERIES) that lies inside a workout's window to that workout's
 *    collector. Every other record — the millions of all-day samples — is dropped as it streams
 *    past. A workout is yielded once it is complete and no later record can still belong to it, and
 *    its samples are released with it.
 *
 * A workout's route is either written inline, as `<Location>` children of its `<WorkoutRoute>`
 * (older and some newer exports), or in a file (`workout-routes/*.gpx`, named by its
 * FileReference) read through the caller's `routes` callback when the workout is complete. A
 * workout's identity comes from its own attributes (type, start, end, source, device), so the
 * same workout in either export variant is one activity. Dates in the export carry the phone's
 * offset at export time ("2024-05-01 06:30:00 +0200"), not the workout's zone; the zone comes
 * from the `HKTimeZone` metadata, else from the route's first position.
 *
 * A workout's own fields, statistics, events and legs have one mapping, the HealthKit sync
 * mapper's (docs/data-model.md §5): each `<Workout>` becomes the HealthKitWorkout payload the app
 * would send and is mapped by `mapHealthKitWorkout`, with its one unit table. A value that mapping
 * refuses (an unknown unit) is left out of the import with a warning instead of failing the file.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { isTimeZone, type HealthKitWorkout } from '@unified-activity/contract';
import type { ScalarStreamType } from '../../streams/stream-types.js';
import { mapHealthKitWorkout, resolveHealthKitActivityType } from '../../sync/mappers/healthkit.js';
import { MappingError, type NormalizedActivity, type NormalizedFields } from '../../sync/mappers/normalized.js';
import { toMetres, toMetresPerSecond, toPerMinute, toSeconds, toWatts } from '../../sync/mappers/units.js';
import { conformActivities } from './conform.js';
import { Column, StreamCollector } from './stream-collector.js';
import { clipStreams } from './stream-window.js';
import { fillSummaryFromStreams } from './summary.js';
import { timeZoneAt } from './time-zones.js';
import { readGpx } from './gpx.js';
import { UnreadableFileError, type ImportedActivity } from './types.js';

type Attributes = Record<string, string>;

interface Summary {
  attributes: Attributes;
  metadata: Attributes;
  events: Attributes[];
  statistics: Attributes[];
}

/** One `<WorkoutRoute>`: its attributes, route files, and the points written inline (`<Location>`). */
interface RouteDraft {
  attributes: Attributes;
  paths: string[];
  locations?: InlineRoute;
}

/** Inline `<Location>` points as columns (a long workout has thousands). */
interface InlineRoute {
  t: Column;
  latitude: Column;
  longitude: Column;
  /** NaN where unknown (a negative verticalAccuracy marks the altitude invalid). */
  altitudeM: Column;
  horizontalAccuracyM: Column;
  speedMS: Column;
  /** Points without a date or a valid fix (negative horizontalAccuracy, CoreLocation's mark for it). */
  unusable: number;
}

interface WorkoutDraft extends Summary {
  routes: RouteDraft[];
  /** iOS 16+ `<WorkoutActivity>` children: one per leg of a multisport workout. */
  activities: Summary[];
  /** Its position among the export's `<Workout>` elements (0-based). */
  index: number;
}

const MAX_WARNINGS_PER_WORKOUT = 20;

/**
 * The sample records that become streams: HealthKit quantity type (without its
 * `HKQuantityTypeIdentifier` prefix) → stream type, the unit conversion to DATA-MODEL §9 (undefined
 * for a unit it does not know) and whether a record is an increment of a cumulative stream.
 * Left out, because no stream type fits them exactly: StepCount (a count over an interval of any
 * length, not a cadence), energies, running dynamics (stride length, vertical oscillation, ground
 * contact time), stroke counts, flights, HRV, SpO₂, respiratory rate, water temperature.
 */
const RECORD_SERIES: Record<string, { stream: ScalarStreamType; convert: (value: number, unit: string | undefined) => number | undefined; cumulative?: true }> = {
  HeartRate: { stream: 'heart_rate', convert: lenient(toPerMinute) },
  RunningSpeed: { stream: 'speed', convert: lenient(toMetresPerSecond) },
  CyclingSpeed: { stream: 'speed', convert: lenient(toMetresPerSecond) },
  RunningPower: { stream: 'power', convert: lenient(toWatts) },
  CyclingPower: { stream: 'power', convert: lenient(toWatts) },
  CyclingCadence: { stream: 'cadence', convert: lenient(toPerMinute) },
  ...Object.fromEntries(
    ['WalkingRunning', 'Cycling', 'Swimming', 'Wheelchair', 'DownhillSnowSports', 'CrossCountrySkiing', 'PaddleSports', 'Rowing', 'SkatingSports'].map((kind) => [
      `Distance${kind}`,
      { stream: 'distance' as const, convert: lenient(toMetres), cumulative: true as const },
    ]),
  ),
};

const QUANTITY_PREFIX = 'HKQuantityTypeIdentifier';

/** The mapped series of a record's `type` attribute, or undefined. */
function recordSeries(type: string | undefined): string | undefined {
  if (type === undefined || !type.startsWith(QUANTITY_PREFIX)) return undefined;
  const name = type.slice(QUANTITY_PREFIX.length);
  return Object.hasOwn(RECORD_SERIES, name) ? name : undefined;
}

/**
 * A conversion of the one unit table (sync/mappers/units.ts) for sample records: undefined for a
 * unit it does not know (counted, and reported as a warning per workout).
 */
function lenient(convert: (value: number, unit: string, path: (string | number)[]) => number) {
  return (value: number, unit: string | undefined): number | undefined => {
    try {
      return convert(value, unit ?? '', []);
    } catch {
      return undefined;
    }
  };
}

/** A workout's window, the same in both passes. */
interface WorkoutWindow {
  index: number;
  startMs: number;
  endMs: number;
}

/**
 * Workout windows sorted by start, answering "which windows hold [start, end] entirely" in
 * O(log n + hits) through the running maximum of the ends.
 */
class WindowIndex {
  private windows: WorkoutWindow[] = [];
  private maxEnd: number[] = [];
  private dirty = false;

  get size(): number {
    return this.windows.length;
  }

  add(window: WorkoutWindow): void {
    const w = this.windows;
    // Exports list workouts by time, so this is almost always an append.
    let at = w.length;
    while (at > 0 && w[at - 1].startMs > window.startMs) at--;
    w.splice(at, 0, window);
    this.dirty = true;
  }

  /** Calls `hit` with the index of every window holding [startMs, endMs]. */
  holding(startMs: number, endMs: number, hit: (index: number) => void): void {
    const w = this.windows;
    if (w.length === 0) return;
    if (this.dirty) {
      this.maxEnd = new Array<number>(w.length);
      let max = -Infinity;
      for (let i = 0; i < w.length; i++) this.maxEnd[i] = max = Math.max(max, w[i].endMs);
      this.dirty = false;
    }
    let lo = 0;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (w[mid].startMs <= startMs) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && this.maxEnd[i] >= endMs; i--) if (w[i].endMs >= endMs) hit(w[i].index);
  }
}

/** What the first pass learns: the workouts' windows and when each one's last record has passed. */
interface ExportPlan {
  windows: Map<number, WorkoutWindow>;
  index: WindowIndex;
  /** Workout index → ordinal of the last mapped record inside it that comes after the workout element. */
  lastLateRecord: Map<number, number>;
}

function workoutWindow(a: Attributes, index: number): WorkoutWindow | undefined {
  const window = summaryWindow(a);
  return window && { index, startMs: window.startMs, endMs: window.endMs };
}

/** Feeds the export to a saxes parser chunk by chunk; a string chunk is taken as text. */
async function* decodeChunks(xml: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of xml) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  yield decoder.decode();
}

/**
 * Pass 1: the workouts' windows. Any error just ends the pass early (pass 2 meets it again and
 * reports it); a document that is not an Apple Health export ends it at its root element.
 */
async function planExport(xml: AsyncIterable<Uint8Array | string>): Promise<ExportPlan> {
  const plan: ExportPlan = { windows: new Map(), index: new WindowIndex(), lastLateRecord: new Map() };
  const parser = new SaxesParser({ xmlns: false, position: false });
  let depth = 0;
  let workouts = 0;
  let records = 0;
  let stop = false;
  parser.on('opentag', (tag: SaxesTagPlain) => {
    depth++;
    if (depth === 1 && tag.name !== 'HealthData') stop = true;
    if (depth !== 2) return;
    const a = tag.attributes as Attributes;
    if (tag.name === 'Workout') {
      const window = workoutWindow(a, workouts++);
      if (window) {
        plan.windows.set(window.index, window);
        plan.index.add(window);
      }
    } else if (tag.name === 'Record') {
      const ordinal = records++;
      if (plan.index.size === 0 || recordSeries(a.type) === undefined) return;
      const startMs = parseAppleDate(a.startDate);
      const endMs = a.endDate === a.startDate ? startMs : (parseAppleDate(a.endDate) ?? startMs);
      if (startMs === undefined || endMs === undefined || endMs < startMs) return;
      plan.index.holding(startMs, endMs, (index) => plan.lastLateRecord.set(index, ordinal));
    }
  });
  parser.on('closetag', () => {
    depth--;
  });
  parser.on('error', () => {
    stop = true;
  });
  try {
    for await (const text of decodeChunks(xml)) {
      parser.write(text);
      if (stop) break;
    }
    if (!stop) parser.close();
  } catch {
    // Reported by pass 2.
  }
  return plan;
}

/** One series of one source inside one workout: the records' start, end and converted value. */
interface SeriesColumns {
  start: Column;
  end: Column;
  value: Column;
}

/** The records gathered for one workout: series → source name → columns, plus what was left out. */
interface WorkoutRecords {
  series: Map<string, Map<string, SeriesColumns>>;
  /** "RunningPower in kW" → count of records whose unit has no conversion. */
  unknownUnits: Map<string, number>;
}

/**
 * Streams the workouts of an Apple Health export.xml. `xml` opens the export from its start;
 * it is called twice (see the two passes above). Throws UnreadableFileError when the input is not
 * an Apple Health export or the XML is broken before the first workout; a break after that ends
 * the stream after the workouts already read with a TruncatedExportError (an
 * UnreadableFileError). Each yielded activity carries its own warnings (a missing route, samples
 * of a second device left out) in `activity.warnings`.
 */
export async function* parseAppleHealthExport(
  xml: () => AsyncIterable<Uint8Array | string>,
  routes: (path: string) => Promise<Uint8Array | undefined>,
): AsyncIterable<ImportedActivity> {
  const plan = await planExport(xml());
  const parser = new SaxesParser({ xmlns: false, position: false });
  const completed: WorkoutDraft[] = [];
  const collected = new Map<number, WorkoutRecords>();
  const stack: string[] = [];
  let sawRoot = false;
  let draft: WorkoutDraft | undefined;
  let route: RouteDraft | undefined;
  let leg: Summary | undefined;
  let parseError: Error | undefined;
  let yielded = 0;
  let workoutCount = 0;
  let recordCount = 0;

  const collect = (a: Attributes) => {
    const name = recordSeries(a.type);
    if (name === undefined) return;
    const startMs = parseAppleDate(a.startDate);
    const endMs = a.endDate === a.startDate ? startMs : (parseAppleDate(a.endDate) ?? startMs);
    // A record that ends before it starts belongs nowhere.
    if (startMs === undefined || endMs === undefined || endMs < startMs) return;
    const value = parseNumber(a.value);
    if (value === undefined) return;
    const converted = RECORD_SERIES[name].convert(value, a.unit);
    plan.index.holding(startMs, endMs, (index) => {
      let records = collected.get(index);
      if (!records) collected.set(index, (records = { series: new Map(), unknownUnits: new Map() }));
      if (converted === undefined) {
        const key = `${name} in "${a.unit ?? ''}"`;
        records.unknownUnits.set(key, (records.unknownUnits.get(key) ?? 0) + 1);
        return;
      }
      let bySource = records.series.get(name);
      if (!bySource) records.series.set(name, (bySource = new Map()));
      const source = a.sourceName ?? '';
      let columns = bySource.get(source);
      if (!columns) bySource.set(source, (columns = { start: new Column(256), end: new Column(256), value: new Column(256) }));
      columns.start.push(startMs);
      columns.end.push(endMs);
      columns.value.push(converted);
    });
  };

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
    if (parent === 'HealthData') {
      if (name === 'Record') {
        recordCount++;
        if (plan.windows.size > 0) collect(attributes);
        return;
      }
      if (name === 'Workout') {
        draft = { attributes, metadata: {}, events: [], statistics: [], routes: [], activities: [], index: workoutCount++ };
        return;
      }
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
    } else if (parent === 'WorkoutRoute' && name === 'Location' && route) {
      addLocation(route, attributes);
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
  // In file order, each workout once every record that may belong to it has passed (or at the end).
  const drain = async function* (all: boolean) {
    while (completed.length > 0) {
      const workout = completed[0];
      if (!all && recordCount <= (plan.lastLateRecord.get(workout.index) ?? -1)) return;
      completed.shift();
      const records = collected.get(workout.index);
      collected.delete(workout.index);
      const activity = await workoutToActivity(workout, routes, records, plan.windows.get(workout.index));
      if (activity) {
        yielded++;
        yield activity;
      }
    }
  };

  for await (const text of decodeChunks(xml())) {
    write(text);
    yield* drain(false);
    if (parseError) break;
  }
  if (!parseError) {
    try {
      parser.close();
    } catch (error) {
      parseError ??= error as Error;
    }
  }
  // A damaged export still yields the workouts it completed, with what was read of their records.
  yield* drain(true);
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
  records: WorkoutRecords | undefined,
  planned: WorkoutWindow | undefined,
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
  const window = summaryWindow(summary.attributes);
  if (!window) {
    warnings.push(`workout at ${summary.attributes.startDate ?? '?'}: no valid start and end; skipped`);
    return undefined;
  }
  const workoutActivityType = workout.attributes.workoutActivityType ?? '';
  if (!resolveHealthKitActivityType(workoutActivityType).known) warnings.push(`HealthKit type "${workoutActivityType}" is not in the catalog; imported as "other"`);
  // Legs: the export does not name a leg's type; it is inferred from the leg's statistics.
  const isMultisport = /SwimBikeRun|Transition/.test(workoutActivityType);
  const legs = (workout.activities.length > 1 ? workout.activities : []).flatMap((leg, index) => {
    if (summaryWindow(leg.attributes)) return [{ summary: leg, index, type: inferLegType(leg, isMultisport) }];
    warnings.push(`workout at ${leg.attributes.startDate ?? '?'}: no valid start and end; skipped`);
    return [];
  });
  // The mapper's external id and streams are not the reader's: the identity and the streams come below.
  const { externalId: _id, parentExternalId: _parent, streams: _streams, children: mappedLegs, ...mapped } = mapWorkout(workoutPayload(summary, legs, window), warnings);
  const activity = importedFromMapped(mapped);
  activity.sourceActivityType = workoutActivityType || null;
  activity.movingTimeS = movingTimeS(activity, window.durationS);
  activity.sourceData = {
    workout: workout.attributes,
    metadata: workout.metadata,
    statistics: workout.statistics,
    events: workout.events,
    routes: workout.routes.map((r) => ({ ...r.attributes, paths: r.paths, ...(r.locations ? { locationCount: r.locations.t.length + r.locations.unusable } : {}) })),
    ...(workout.activities.length > 0 ? { workoutActivities: workout.activities } : {}),
  };
  activity.children = mappedLegs.map((fields, i) => {
    const { summary: leg, index, type } = legs[i];
    const child = importedFromMapped(fields);
    child.sourceActivityType = null;
    child.deviceName = activity.deviceName;
    child.movingTimeS = movingTimeS(child, summaryWindow(leg.attributes)!.durationS);
    child.sourceData = { workoutActivity: leg, index, inferredType: type };
    return child;
  });

  // Route: position (with altitude and horizontal accuracy), altitude and speed.
  const collector = new StreamCollector();
  let routeSpeed = false;
  for (const r of workout.routes) {
    const inline = r.locations;
    if (inline && inline.unusable > 0) warnings.push(`route: skipped ${inline.unusable} inline locations without a date or a valid fix`);
    if (inline && inline.t.length > 0) {
      // The points are in export.xml itself; a FileReference beside them would name the same route.
      for (let i = 0; i < inline.t.length; i++) {
        const t = inline.t.data[i]!;
        const altitude = inline.altitudeM.data[i]!;
        const speed = inline.speedMS.data[i]!;
        const accuracy = inline.horizontalAccuracyM.data[i]!;
        collector.addPosition(t, inline.latitude.data[i], inline.longitude.data[i], Number.isNaN(altitude) ? null : altitude, Number.isNaN(accuracy) ? null : accuracy);
        collector.add('altitude', t, altitude);
        collector.add('speed', t, speed);
        routeSpeed ||= !Number.isNaN(speed);
      }
      continue;
    }
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
          routeSpeed ||= point.speedMS !== undefined && Number.isFinite(point.speedMS);
        }
      } catch (error) {
        warnings.push(`route ${normalized} is unreadable: ${(error as Error).message}`);
      }
    }
  }
  activity.streams = sortStreams(collector.build(warnings, 'route'));
  // The workout's times are the export's own; route points well outside them are not kept.
  clipStreams(activity, warnings, 'route');

  // Sample records: the first pass must have seen this very workout (the export did not change).
  const own = workoutWindow(workout.attributes, workout.index);
  if (records && planned && own && own.startMs === planned.startMs && own.endMs === planned.endMs) {
    const fromRecords = recordStreams(records, workout.attributes.sourceName ?? '', routeSpeed ? ['speed'] : [], warnings);
    Object.assign(activity.streams, fromRecords);
  } else if (records) {
    warnings.push('records: the export changed between its two readings; the sample records were left out');
  }

  activity.identity = workoutIdentity(workout.attributes);
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

/**
 * What names a workout in any export of it: its own attributes (type, start, end, source, device),
 * not its routes, statistics or metadata, which differ between export variants (an inline route or
 * a route file). Instants are compared, not the export's text (which carries the phone's offset at
 * export time), and the device without the memory address HealthKit prints in it.
 */
function workoutIdentity(a: Attributes): Record<string, string | null> {
  const instant = (value: string | undefined) => {
    const ms = parseAppleDate(value);
    return ms === undefined ? (value ?? null) : new Date(ms).toISOString();
  };
  return {
    workoutActivityType: a.workoutActivityType ?? null,
    start: instant(a.startDate),
    end: instant(a.endDate),
    sourceName: a.sourceName ?? null,
    device: a.device?.replace(/HKDevice: 0x[0-9a-fA-F]+/, 'HKDevice') ?? null,
  };
}

/**
 * Adds one inline `<Location>` (date, latitude, longitude, altitude, horizontalAccuracy,
 * verticalAccuracy, course, speed; metres and m/s) to its route. CoreLocation marks an invalid
 * fix with a negative horizontalAccuracy, an invalid altitude with a negative verticalAccuracy
 * and an invalid speed with a negative speed.
 */
function addLocation(route: RouteDraft, a: Attributes): void {
  const r = (route.locations ??= {
    t: new Column(256),
    latitude: new Column(256),
    longitude: new Column(256),
    altitudeM: new Column(256),
    horizontalAccuracyM: new Column(256),
    speedMS: new Column(256),
    unusable: 0,
  });
  const t = parseAppleDate(a.date);
  const latitude = parseNumber(a.latitude);
  const longitude = parseNumber(a.longitude);
  const horizontal = parseNumber(a.horizontalAccuracy);
  if (t === undefined || latitude === undefined || longitude === undefined || (horizontal !== undefined && horizontal < 0)) {
    r.unusable++;
    return;
  }
  const vertical = parseNumber(a.verticalAccuracy);
  const altitude = parseNumber(a.altitude);
  const speed = parseNumber(a.speed);
  r.t.push(t);
  r.latitude.push(latitude);
  r.longitude.push(longitude);
  r.altitudeM.push(altitude !== undefined && (vertical === undefined || vertical >= 0) ? altitude : Number.NaN);
  r.horizontalAccuracyM.push(horizontal ?? Number.NaN);
  r.speedMS.push(speed !== undefined && speed >= 0 ? speed : Number.NaN);
}

type Quantity = { value: number; unit: string };

/** An attribute pair as a HealthKit quantity; a missing unit stays empty, for the unit table to refuse. */
function quantity(value: string | undefined, unit: string | undefined): Quantity | undefined {
  const n = parseNumber(value);
  return n === undefined ? undefined : { value: n, unit: unit ?? '' };
}

/**
 * The export's MetadataEntry values as the app would send them: "4500 cm" becomes a quantity,
 * HKIndoorWorkout a boolean, the `HKMetadataKey…` constant names their stored key (`HK…`).
 */
function payloadMetadata(metadata: Attributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(metadata)) {
    const name = key.startsWith('HKMetadataKey') && !Object.hasOwn(metadata, `HK${key.slice(13)}`) ? `HK${key.slice(13)}` : key;
    const q = parseQuantity(raw);
    out[name] = name === 'HKIndoorWorkout' ? (parseBoolean(raw) ?? raw) : q && q.unit !== '' ? q : raw;
  }
  return out;
}

function payloadStatistics(statistics: Attributes[]): NonNullable<HealthKitWorkout['statistics']> {
  return statistics
    .filter((s) => s.type)
    .map((s) => {
      const item: NonNullable<HealthKitWorkout['statistics']>[number] = { quantityType: s.type! };
      for (const aggregate of ['average', 'minimum', 'maximum', 'sum'] as const) {
        const q = quantity(s[aggregate], s.unit);
        if (q) item[aggregate] = q;
      }
      return item;
    });
}

/** `<WorkoutEvent>`s: the event's duration stays in its metadata (and ends it), with the export's type name. */
function payloadEvents(events: Attributes[]): NonNullable<HealthKitWorkout['workoutEvents']> {
  return events.flatMap((e) => {
    const startMs = parseAppleDate(e.date);
    if (e.type === undefined || startMs === undefined) return [];
    const durationS = secondsIn(parseNumber(e.duration), e.durationUnit);
    const metadata: Record<string, unknown> = { source_type: e.type };
    if (durationS !== undefined && durationS > 0) metadata.duration_s = durationS;
    const endDate = durationS !== undefined && durationS > 0 ? new Date(startMs + durationS * 1000) : undefined;
    return [{ type: e.type, startDate: new Date(startMs), ...(endDate ? { endDate } : {}), metadata }];
  });
}

/** A summary's window from its attributes, or undefined when it has none. */
function summaryWindow(a: Attributes): { startMs: number; endMs: number; durationS: number | undefined } | undefined {
  const startMs = parseAppleDate(a.startDate);
  const durationS = secondsIn(parseNumber(a.duration), a.durationUnit);
  const endMs = parseAppleDate(a.endDate) ?? (startMs !== undefined && durationS !== undefined ? startMs + durationS * 1000 : undefined);
  return startMs === undefined || endMs === undefined || endMs < startMs ? undefined : { startMs, endMs, durationS };
}

/**
 * One `<Workout>` (and its legs) as the HealthKit payload the sync mapper takes: the workout's own
 * fields, statistics, events and metadata. Routes and sample records are the reader's (streams);
 * `duration` is left out so that the elapsed time is the window's (see movingTimeS).
 */
function workoutPayload(summary: Summary, legs: { summary: Summary; type: string }[], window: { startMs: number; endMs: number }): HealthKitWorkout {
  const a = summary.attributes;
  const name = deviceName(a.device);
  return {
    // Not the external id: that is the hash of the workout's identity (workoutIdentity).
    uuid: 'apple-health-export',
    workoutActivityType: a.workoutActivityType ?? '',
    startDate: new Date(window.startMs),
    endDate: new Date(window.endMs),
    ...optional('totalDistance', quantity(a.totalDistance, a.totalDistanceUnit)),
    ...optional('totalEnergyBurned', quantity(a.totalEnergyBurned, a.totalEnergyBurnedUnit)),
    statistics: payloadStatistics(summary.statistics),
    workoutEvents: payloadEvents(summary.events),
    metadata: payloadMetadata(summary.metadata),
    ...(legs.length > 0
      ? {
          workoutActivities: legs.map(({ summary: leg, type }) => {
            const legWindow = summaryWindow(leg.attributes)!;
            return {
              workoutConfiguration: { activityType: type },
              startDate: new Date(legWindow.startMs),
              endDate: new Date(legWindow.endMs),
              statistics: payloadStatistics(leg.statistics),
              workoutEvents: payloadEvents(leg.events),
              metadata: payloadMetadata(leg.metadata),
            };
          }),
        }
      : {}),
    ...(name ? { device: { name } } : {}),
    ...(a.sourceName ? { sourceRevision: { source: { name: a.sourceName } } } : {}),
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/**
 * The one HealthKit mapping (sync/mappers/healthkit.ts), with its unit table's strictness: where
 * it refuses a value (an unknown unit, an unreadable time zone, an unknown event type), that value
 * is left out with a warning and the workout is mapped again, so one bad entry costs only itself.
 */
function mapWorkout(payload: HealthKitWorkout, warnings: string[]): NormalizedActivity {
  for (;;) {
    try {
      return mapHealthKitWorkout(payload);
    } catch (error) {
      if (!(error instanceof MappingError) || !leaveOut(payload, error.path)) throw error;
      warnings.push(`${error.path.join('.')}: ${error.message}; left out`);
    }
  }
}

/** Removes the value a MappingError points at (a quantity, a metadata entry, an event); false when it cannot. */
function leaveOut(payload: HealthKitWorkout, path: (string | number)[]): boolean {
  const at = path.at(-1) === 'unit' ? path.slice(0, -1) : path;
  const last = at.at(-1);
  if (at.length < 2 || last === undefined || last === 'startDate' || last === 'endDate') return false;
  let parent: unknown = payload;
  for (const step of at.slice(0, -1)) {
    parent = (parent as Record<string | number, unknown> | undefined)?.[step];
    if (typeof parent !== 'object' || parent === null) return false;
  }
  if (Array.isArray(parent) && typeof last === 'number' && last < parent.length) parent.splice(last, 1);
  else if (Object.hasOwn(parent as object, last)) delete (parent as Record<string | number, unknown>)[last];
  else return false;
  return true;
}

/** The mapper's activity in the parsers' shape; streams, sourceData and identity are the reader's. */
function importedFromMapped(mapped: NormalizedFields): ImportedActivity {
  const { statistics, events, ...fields } = mapped;
  return { ...fields, statistics, events, streams: {}, sourceData: {}, children: [] };
}

/**
 * The streams of a workout's sample records. Per series, one source only: the workout's own
 * (`sourceName`) when it wrote any, else the one with the most samples; the others are left out
 * with a warning (a phone and a watch both count distance, a strap app and the watch both
 * measure heart rate). Several series of one stream type (RunningPower and CyclingPower, two
 * distance types): the one with the most samples. Rates are timestamped at the record's start;
 * a distance record is an increment, summed into the cumulative `distance` stream at its end.
 * `taken` names stream types the route already gave (speed), whose records are left out.
 */
function recordStreams(records: WorkoutRecords, workoutSource: string, taken: ScalarStreamType[], warnings: string[]): ImportedActivity['streams'] {
  for (const [what, count] of records.unknownUnits) warnings.push(`records: left out ${count} ${what}, a unit with no conversion`);
  const chosen = new Map<ScalarStreamType, { name: string; source: string; columns: SeriesColumns }>();
  for (const [name, bySource] of records.series) {
    const sources = [...bySource.entries()].sort((x, y) => y[1].value.length - x[1].value.length);
    const pick = sources.find(([source]) => source === workoutSource) ?? sources[0];
    const [source, columns] = pick;
    const others = sources.filter((s) => s !== pick);
    if (others.length > 0) {
      const left = others.map(([other, c]) => `${c.value.length} from "${other}"`).join(', ');
      warnings.push(`records: kept the ${columns.value.length} ${name} samples of "${source}"; left out ${left}`);
    }
    const stream = RECORD_SERIES[name].stream;
    if (taken.includes(stream)) {
      warnings.push(`records: left out ${columns.value.length} ${name} samples; the route's ${stream} is kept`);
      continue;
    }
    const current = chosen.get(stream);
    if (current && current.columns.value.length >= columns.value.length) {
      warnings.push(`records: left out ${columns.value.length} ${name} samples; ${stream} comes from ${current.name}`);
      continue;
    }
    if (current) warnings.push(`records: left out ${current.columns.value.length} ${current.name} samples; ${stream} comes from ${name}`);
    chosen.set(stream, { name, source, columns });
  }

  const collector = new StreamCollector();
  for (const [stream, { name, columns }] of chosen) {
    const cumulative = RECORD_SERIES[name].cumulative === true;
    const time = cumulative ? columns.end.data : columns.start.data;
    const value = columns.value.data;
    const n = columns.value.length;
    // Records of a type are usually in time order, but nothing guarantees it.
    let order: number[] | undefined;
    for (let i = 1; i < n; i++) {
      if (time[i] < time[i - 1]) {
        order = Array.from({ length: n }, (_, k) => k).sort((x, y) => time[x] - time[y]);
        break;
      }
    }
    let total = 0;
    for (let k = 0; k < n; k++) {
      const i = order ? order[k] : k;
      if (cumulative) {
        total += value[i];
        collector.add(stream, time[i], total);
      } else {
        collector.add(stream, time[i], value[i]);
      }
    }
  }
  return collector.build(warnings, 'records');
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

/** "2024-05-01 06:30:00 +0200" (or ISO 8601) → epoch ms. */
export function parseAppleDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // Fast path for the export's own fixed form, read millions of times (one per sample record).
  if (value.length === 25) {
    const fast = fixedAppleDate(value);
    if (fast !== undefined) return fast;
  }
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

/** "YYYY-MM-DD HH:MM:SS ±HHMM" by character codes, or undefined when `value` is not exactly that. */
function fixedAppleDate(value: string): number | undefined {
  const digits = (from: number, count: number): number => {
    let n = 0;
    for (let i = from; i < from + count; i++) {
      const c = value.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return Number.NaN;
      n = n * 10 + c;
    }
    return n;
  };
  const sign = value[20];
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== ' ' || value[13] !== ':' || value[16] !== ':' || value[19] !== ' ' || (sign !== '+' && sign !== '-')) {
    return undefined;
  }
  const [y, mo, d, h, mi, s, oh, om] = [digits(0, 4), digits(5, 2), digits(8, 2), digits(11, 2), digits(14, 2), digits(17, 2), digits(21, 2), digits(23, 2)];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (!Number.isFinite(utc) || !Number.isFinite(oh) || !Number.isFinite(om)) return undefined;
  return utc - (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
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

/** A `duration`/`durationUnit` pair in seconds (seconds without a unit); undefined for a unit the table does not know. */
const secondsOf = lenient(toSeconds);
function secondsIn(value: number | undefined, unit: string | undefined): number | undefined {
  return value === undefined ? undefined : secondsOf(value, unit ?? 's');
}

/** `<<HKDevice: 0x…>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, …>` → "Apple Watch". */
function deviceName(device: string | undefined): string | undefined {
  if (!device) return undefined;
  const m = /name:([^,>]+)/.exec(device);
  return m ? m[1].trim() : undefined;
}
