/**
 * GPX 1.0/1.1 → activities: one per `<trk>`, its `<trkseg>`s joined (the gap between two
 * segments becomes a pause/resume pair). Reads `<ele>`, `<time>` and the usual point
 * extensions by local name: Garmin TrackPointExtension v1/v2 `hr`, `cad`, `atemp`, `speed`,
 * power (`power`, `PowerInW`, `watts`), ClueTrust/COROS `heartrate`, `cadence`, `temp`,
 * `distance`, and Apple's `speed`, `hAcc`.
 *
 * What real files do: a point with an unusable `lat`/`lon` (missing, not a number such as
 * `lat="undefined"`, out of range) is skipped with a warning naming why — and a file none of whose
 * points has a usable position is rejected for that reason, since a GPX track is its positions; an
 * empty segment is skipped, a track without any time (or only placeholders such as GPSBabel's
 * 1901-12-13: xml.ts, parseTime) cannot be placed on a timeline and is skipped with a warning (the
 * whole file is rejected when no track has times), points going back in time are dropped.
 *
 * Distance without a recorded one (`distance` extension) is the length of the path within each
 * segment: the gap between two segments is not walked (docs/data-model.md §5).
 */
import { activityTypeFromText } from './activity-type-text.js';
import { conformActivities } from './conform.js';
import { jsonSafe } from './json-safe.js';
import { StreamCollector } from './stream-collector.js';
import { fillSummaryFromStreams, haversineM, maxOf, minOf } from './summary.js';
import { timeZoneAt } from './time-zones.js';
import { UnreadableFileError, type ImportedActivity, type ImportedEvent, type ParseResult } from './types.js';
import { child, children, descendants, numberOf, parseNumber, parseTime, parseXml, text, UNUSABLE_TIMES, type Element } from './xml.js';

export interface GpxPoint {
  timeMs: number | undefined;
  latitude: number;
  longitude: number;
  elevationM?: number;
  heartRateBpm?: number;
  cadenceRpm?: number;
  powerW?: number;
  temperatureC?: number;
  speedMS?: number;
  horizontalAccuracyM?: number;
  distanceM?: number;
}

export interface GpxTrack {
  name?: string;
  description?: string;
  type?: string;
  segments: GpxPoint[][];
  /** Points skipped for an unusable position. */
  unusablePoints: number;
  source: Record<string, unknown>;
}

export function parseGpx(textContent: string): ParseResult {
  const warnings: string[] = [];
  const { tracks, metadata, badPositions } = readGpx(textContent, warnings);
  if (tracks.length === 0) throw new UnreadableFileError('the GPX file holds no track (<trk>)');
  if (badPositions && tracks.every((track) => track.segments.length === 0)) {
    throw new UnreadableFileError(`the GPX file has no track point with a usable latitude/longitude: ${badPositions}`);
  }

  const activities: ImportedActivity[] = [];
  for (const [i, track] of tracks.entries()) {
    const label = tracks.length > 1 ? `track ${i + 1}${track.name ? ` "${track.name}"` : ''}` : 'track';
    const activity = gpxTrackToActivity(track, label, warnings);
    if (activity) {
      activity.sourceData = { metadata, track: track.source };
      activities.push(activity);
    }
  }
  if (activities.length === 0) {
    throw new UnreadableFileError(`the GPX file has no track with usable timestamps: an activity needs times (${UNUSABLE_TIMES})`);
  }
  conformActivities(activities, warnings);
  return { format: 'gpx', activities, warnings };
}

/**
 * The tracks of a GPX document, points as written (positions validated, nothing else derived).
 * `badPositions` says which points were skipped for their position and why, when any were.
 */
export function readGpx(
  textContent: string,
  warnings: string[],
): { tracks: GpxTrack[]; metadata: Record<string, unknown>; badPositions?: string } {
  const document = parseXml(textContent, 'GPX', warnings);
  const root = document.documentElement!;
  if (root.localName !== 'gpx') throw new UnreadableFileError(`not a GPX file (root element <${root.localName}>)`);
  const meta = child(root, 'metadata');
  const metadata = jsonSafe({
    creator: root.getAttribute('creator') ?? undefined,
    version: root.getAttribute('version') ?? undefined,
    name: text(meta && child(meta, 'name')),
    time: text(meta && child(meta, 'time')),
  }) as Record<string, unknown>;

  const tracks: GpxTrack[] = [];
  const bad = new Map<string, { count: number; example: string }>();
  let emptySegments = 0;
  for (const trk of children(root, 'trk')) {
    const segments: GpxPoint[][] = [];
    let unusablePoints = 0;
    for (const seg of children(trk, 'trkseg')) {
      const points: GpxPoint[] = [];
      for (const pt of children(seg, 'trkpt')) {
        const point = readPoint(pt);
        if (!('problem' in point)) {
          points.push(point);
          continue;
        }
        unusablePoints++;
        const seen = bad.get(point.problem);
        if (seen) seen.count++;
        else bad.set(point.problem, { count: 1, example: point.example });
      }
      if (points.length > 0) segments.push(points);
      else emptySegments++;
    }
    const name = text(child(trk, 'name'));
    const description = text(child(trk, 'desc'));
    const type = text(child(trk, 'type'));
    tracks.push({
      name,
      description,
      type,
      segments,
      unusablePoints,
      source: jsonSafe({ name, desc: description, type, number: text(child(trk, 'number')), src: text(child(trk, 'src')) }) as Record<
        string,
        unknown
      >,
    });
  }
  let badPositions: string | undefined;
  if (bad.size > 0) {
    const total = [...bad.values()].reduce((sum, b) => sum + b.count, 0);
    badPositions = [...bad].map(([problem, { count, example }]) => `${count} ${problem} (e.g. ${example})`).join(', ');
    warnings.push(`skipped ${total} track points without a usable latitude/longitude: ${badPositions}`);
  }
  if (emptySegments > 0) warnings.push(`skipped ${emptySegments} empty track segments`);
  return { tracks, metadata, ...(badPositions ? { badPositions } : {}) };
}

/** A point, or why its position is unusable (GPX requires `lat` in −90…90 and `lon` in −180…180, decimal degrees). */
function readPoint(pt: Element): GpxPoint | { problem: string; example: string } {
  const latText = pt.getAttribute('lat');
  const lonText = pt.getAttribute('lon');
  const example = `lat=${JSON.stringify(latText ?? undefined)?.slice(0, 40) ?? 'missing'} lon=${JSON.stringify(lonText ?? undefined)?.slice(0, 40) ?? 'missing'}`;
  if (latText == null || lonText == null || latText.trim() === '' || lonText.trim() === '') return { problem: 'without lat or lon', example };
  const latitude = parseNumber(latText);
  const longitude = parseNumber(lonText);
  if (latitude === undefined || longitude === undefined) return { problem: 'whose lat or lon is not a number', example };
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return { problem: 'whose lat or lon is out of range', example };
  const point: GpxPoint = {
    timeMs: parseTime(text(child(pt, 'time'))),
    latitude,
    longitude,
    elevationM: numberOf(child(pt, 'ele')),
  };
  const extensions = child(pt, 'extensions');
  if (extensions) {
    const ext = (...names: string[]) => {
      for (const name of names) {
        const found = descendants(extensions, name)[0];
        const value = numberOf(found);
        if (value !== undefined) return value;
      }
      return undefined;
    };
    point.heartRateBpm = ext('hr', 'heartrate', 'HeartRate');
    point.cadenceRpm = ext('cad', 'cadence', 'Cadence');
    point.powerW = ext('power', 'PowerInW', 'watts', 'Watts');
    point.temperatureC = ext('atemp', 'temp', 'wtemp');
    point.speedMS = ext('speed', 'Speed');
    point.horizontalAccuracyM = ext('hAcc');
    // ClueTrust gpxdata (COROS and others) records the cumulative distance.
    point.distanceM = ext('distance');
  }
  return point;
}

/** One track as an activity; undefined (with a warning) when it has no usable times. */
export function gpxTrackToActivity(track: GpxTrack, label: string, warnings: string[]): ImportedActivity | undefined {
  const all = track.segments.flat();
  const timed = all.filter((p) => p.timeMs !== undefined);
  if (all.length === 0) {
    warnings.push(`${label}: ${track.unusablePoints > 0 ? 'no track point with a usable latitude/longitude' : 'no track points'}; skipped`);
    return undefined;
  }
  if (timed.length === 0) {
    warnings.push(`${label}: no usable timestamps; skipped (an activity needs times; ${UNUSABLE_TIMES})`);
    return undefined;
  }
  if (timed.length < all.length) warnings.push(`${label}: dropped ${all.length - timed.length} points without a usable time (${UNUSABLE_TIMES})`);

  const collector = new StreamCollector();
  const events: ImportedEvent[] = [];
  let last = -Infinity;
  let backwards = 0;
  let previousSegmentEnd: number | undefined;
  // The path within each segment; the straight line from one segment's end to the next one's start was not travelled.
  let pathM = 0;
  for (const segment of track.segments) {
    let segmentStart: number | undefined;
    let segmentEnd: number | undefined;
    let previous: GpxPoint | undefined;
    for (const p of segment) {
      if (p.timeMs === undefined) continue;
      if (p.timeMs < last) {
        backwards++;
        continue;
      }
      if (previous) pathM += haversineM(previous.latitude, previous.longitude, p.latitude, p.longitude);
      previous = p;
      last = p.timeMs;
      segmentStart ??= p.timeMs;
      segmentEnd = p.timeMs;
      const t = p.timeMs;
      collector.addPosition(t, p.latitude, p.longitude, p.elevationM ?? null, p.horizontalAccuracyM ?? null);
      collector.add('altitude', t, p.elevationM);
      collector.add('heart_rate', t, p.heartRateBpm);
      collector.add('cadence', t, p.cadenceRpm);
      collector.add('power', t, p.powerW);
      collector.add('temperature', t, p.temperatureC);
      collector.add('speed', t, p.speedMS);
      collector.add('distance', t, p.distanceM);
    }
    if (segmentStart !== undefined) {
      if (previousSegmentEnd !== undefined && segmentStart > previousSegmentEnd) {
        events.push({ eventType: 'pause', startTime: new Date(previousSegmentEnd), metadata: { reason: 'track_segment_end' } });
        events.push({ eventType: 'resume', startTime: new Date(segmentStart), metadata: { reason: 'track_segment_start' } });
      }
      previousSegmentEnd = segmentEnd;
    }
  }
  if (backwards > 0) warnings.push(`${label}: dropped ${backwards} points whose time goes backwards`);

  const streams = collector.build(warnings, label);
  const times = timed.map((p) => p.timeMs!);
  const startMs = minOf(times)!;
  const endMs = maxOf(times)!;
  const type = activityTypeFromText(track.type);
  if (track.type !== undefined && !type.known) warnings.push(`${label}: activity type "${track.type}" is unknown; imported as "other"`);
  const first = collector.firstPosition;
  const activity: ImportedActivity = {
    activityType: type.slug,
    sourceActivityType: track.type !== undefined ? `gpx:${track.type}` : null,
    name: track.name ?? null,
    notes: track.description ?? null,
    startTime: new Date(startMs),
    endTime: new Date(endMs),
    timeZone: first ? (timeZoneAt(first.latitude, first.longitude) ?? null) : null,
    isIndoor: false,
    statistics: [],
    events,
    streams,
    sourceData: {},
    children: [],
  };
  // A recorded cumulative distance wins (fillSummaryFromStreams); else the path within the segments.
  if (!streams.distance && streams.position && streams.position.timestamps.length > 1) activity.distanceM = pathM;
  fillSummaryFromStreams(activity);
  return activity;
}
