/**
 * Garmin Training Center (TCX v2) → activities: one per `<Activity>`, laps → `lap` events with
 * their totals, `<Track>` breaks inside a lap → pause/resume, trackpoints → streams
 * (position, altitude, distance, heart rate, cadence, and the ActivityExtension v2 `Speed`,
 * `Watts`, `RunCadence`). A `<MultiSportSession>` becomes a parent with one child per sport.
 *
 * Running cadence (`RunCadence`, written from FIT's strides per minute) is doubled to steps
 * per minute (§9), like the FIT parser does.
 */
import type { ScalarSamples } from '../../streams/stream-types.js';
import { activityTypeFromText } from './activity-type-text.js';
import { conformActivities } from './conform.js';
import { jsonSafe } from './json-safe.js';
import { StreamCollector } from './stream-collector.js';
import { fillSummaryFromStreams, haversineM, maxOf, minOf } from './summary.js';
import { timeZoneAt } from './time-zones.js';
import { UnreadableFileError, type ImportedActivity, type ImportedEvent, type ParseResult } from './types.js';
import { child, children, numberOf, parseTime, parseXml, text, UNUSABLE_TIMES, type Element } from './xml.js';

const TCX_SPORTS: Record<string, string> = { Running: 'running', Biking: 'cycling', Other: 'other' };

export function parseTcx(textContent: string): ParseResult {
  const warnings: string[] = [];
  const document = parseXml(textContent, 'TCX', warnings);
  const root = document.documentElement!;
  if (root.localName !== 'TrainingCenterDatabase') throw new UnreadableFileError(`not a TCX file (root element <${root.localName}>)`);
  const container = child(root, 'Activities');
  const activities: ImportedActivity[] = [];
  const elements = container ? [...children(container, 'Activity'), ...children(container, 'MultiSportSession')] : [];
  let index = 0;
  for (const element of elements) {
    index++;
    const label = elements.length > 1 ? `activity ${index}` : 'activity';
    if (element.localName === 'Activity') {
      const activity = tcxActivity(element, label, warnings);
      if (activity) activities.push(activity);
    } else {
      const parent = multiSportSession(element, label, warnings);
      if (parent) activities.push(parent);
    }
  }
  if (activities.length === 0) {
    throw new UnreadableFileError(
      elements.length === 0 ? 'the TCX file holds no activity (<Activity>)' : 'the TCX file has no activity with a start time',
    );
  }
  activities.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  conformActivities(activities, warnings);
  return { format: 'tcx', activities, warnings };
}

function tcxActivity(element: Element, label: string, warnings: string[]): ImportedActivity | undefined {
  const sport = element.getAttribute('Sport') ?? undefined;
  const isRunning = sport === 'Running';
  const laps = children(element, 'Lap');
  const collector = new StreamCollector();
  const events: ImportedEvent[] = [];
  const times: number[] = [];
  let last = -Infinity;
  let backwards = 0;
  let untimed = 0;
  // The path within each <Track>: the line from one track's end to the next one's start was not travelled.
  let pathM = 0;

  for (const [lapIndex, lap] of laps.entries()) {
    let lapLastMs: number | undefined;
    // Every lap has its own <Track>; only a further <Track> inside a lap follows a pause.
    let previousTrackEnd: number | undefined;
    for (const track of children(lap, 'Track')) {
      let trackStart: number | undefined;
      let trackEnd: number | undefined;
      let previousFix: { latitude: number; longitude: number } | undefined;
      for (const point of children(track, 'Trackpoint')) {
        const t = parseTime(text(child(point, 'Time')));
        if (t === undefined) {
          untimed++;
          continue;
        }
        if (t < last) {
          backwards++;
          continue;
        }
        last = t;
        trackStart ??= t;
        trackEnd = t;
        times.push(t);
        const position = child(point, 'Position');
        const altitude = numberOf(child(point, 'AltitudeMeters'));
        if (position) {
          const latitude = numberOf(child(position, 'LatitudeDegrees'));
          const longitude = numberOf(child(position, 'LongitudeDegrees'));
          collector.addPosition(t, latitude, longitude, altitude ?? null);
          if (latitude !== undefined && longitude !== undefined && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180) {
            if (previousFix) pathM += haversineM(previousFix.latitude, previousFix.longitude, latitude, longitude);
            previousFix = { latitude, longitude };
          }
        }
        collector.add('altitude', t, altitude);
        collector.add('distance', t, numberOf(child(point, 'DistanceMeters')));
        collector.add('heart_rate', t, numberOf(child(child(point, 'HeartRateBpm') ?? point, 'Value')));
        const tpx = extension(point, 'TPX');
        const runCadence = numberOf(tpx && child(tpx, 'RunCadence'));
        const cadence = numberOf(child(point, 'Cadence'));
        if (runCadence !== undefined) collector.add('cadence', t, runCadence * 2);
        else if (cadence !== undefined) collector.add('cadence', t, isRunning ? cadence * 2 : cadence);
        collector.add('speed', t, numberOf(tpx && child(tpx, 'Speed')));
        collector.add('power', t, numberOf(tpx && child(tpx, 'Watts')));
      }
      if (trackStart !== undefined) {
        if (previousTrackEnd !== undefined && trackStart > previousTrackEnd) {
          events.push({ eventType: 'pause', startTime: new Date(previousTrackEnd), metadata: { reason: 'track_end' } });
          events.push({ eventType: 'resume', startTime: new Date(trackStart), metadata: { reason: 'track_start' } });
        }
        previousTrackEnd = trackEnd;
        lapLastMs = trackEnd;
      }
    }
    const lapEvent = lapToEvent(lap, lapIndex, lapLastMs, isRunning);
    if (lapEvent) {
      events.push(lapEvent);
      times.push(lapEvent.startTime.getTime());
      if (lapEvent.endTime) times.push(lapEvent.endTime.getTime());
    }
  }
  if (untimed > 0) warnings.push(`${label}: dropped ${untimed} trackpoints without a usable time (${UNUSABLE_TIMES})`);
  if (backwards > 0) warnings.push(`${label}: dropped ${backwards} trackpoints whose time goes backwards`);

  const idMs = parseTime(text(child(element, 'Id')));
  if (idMs !== undefined) times.push(idMs);
  if (times.length === 0) {
    warnings.push(`${label}: no start time, laps or timed trackpoints; skipped`);
    return undefined;
  }
  const startMs = minOf(times)!;
  const endMs = Math.max(maxOf(times)!, startMs);
  const streams = collector.build(warnings, label);

  const lapEvents = events.filter((e) => e.eventType === 'lap');
  const sumOf = (key: string) => {
    const values = lapEvents.map((e) => e.metadata?.[key]).filter((v): v is number => typeof v === 'number');
    return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
  };
  // Lap averages weighted by lap time give the activity's; the streams fill what laps lack.
  const weightedAvgHr = () => {
    const weighted = lapEvents.filter((e) => typeof e.metadata?.avg_heart_rate_bpm === 'number' && typeof e.metadata?.timer_time_s === 'number');
    const totalS = weighted.reduce((s, e) => s + (e.metadata!.timer_time_s as number), 0);
    if (weighted.length === 0 || totalS === 0) return null;
    return Math.round(weighted.reduce((s, e) => s + (e.metadata!.avg_heart_rate_bpm as number) * (e.metadata!.timer_time_s as number), 0) / totalS);
  };
  const type = sport !== undefined && TCX_SPORTS[sport] ? { slug: TCX_SPORTS[sport], known: true } : activityTypeFromText(sport);
  if (sport !== undefined && !type.known) warnings.push(`${label}: TCX sport "${sport}" is unknown; imported as "other"`);
  const first = collector.firstPosition;
  const creator = child(element, 'Creator');
  const activity: ImportedActivity = {
    activityType: type.slug,
    sourceActivityType: sport !== undefined ? `tcx:${sport}` : null,
    name: null,
    notes: text(child(element, 'Notes')) ?? null,
    startTime: new Date(startMs),
    endTime: new Date(endMs),
    timeZone: first ? (timeZoneAt(first.latitude, first.longitude) ?? null) : null,
    durationS: (endMs - startMs) / 1000,
    movingTimeS: sumOf('timer_time_s'),
    distanceM: sumOf('distance_m'),
    activeEnergyKcal: sumOf('active_energy_kcal'),
    avgHeartRateBpm: weightedAvgHr(),
    maxHeartRateBpm: maxOf(lapEvents.map((e) => e.metadata?.max_heart_rate_bpm).filter((v): v is number => typeof v === 'number')),
    maxSpeedMS: maxOf(lapEvents.map((e) => e.metadata?.max_speed_m_s).filter((v): v is number => typeof v === 'number')),
    isIndoor: streams.position ? false : null,
    deviceName: text(creator && child(creator, 'Name')) ?? null,
    statistics: [],
    events: events.sort((a, b) => a.startTime.getTime() - b.startTime.getTime()),
    streams,
    sourceData: {
      id: text(child(element, 'Id')) ?? null,
      sport: sport ?? null,
      creator: creator ? jsonSafe(elementToJson(creator)) : null,
      laps: lapEvents.map((e) => e.metadata),
    },
    children: [],
  };
  // Neither laps nor trackpoints recorded a distance: the path within the tracks.
  if (activity.distanceM == null && !streams.distance && streams.position && streams.position.timestamps.length > 1) activity.distanceM = pathM;
  fillSummaryFromStreams(activity);
  const power = streams.power as ScalarSamples | undefined;
  if (power && power.values.length > 0) {
    const avg = Array.from(power.values).reduce((a, b) => a + b, 0) / power.values.length;
    activity.statistics.push({ key: 'avg_power_w', value: avg, unit: 'W' }, { key: 'max_power_w', value: maxOf(Array.from(power.values))!, unit: 'W' });
  }
  return activity;
}

function lapToEvent(lap: Element, index: number, lastPointMs: number | undefined, isRunning: boolean): ImportedEvent | undefined {
  const startMs = parseTime(lap.getAttribute('StartTime') ?? undefined);
  if (startMs === undefined) return undefined;
  const timerS = numberOf(child(lap, 'TotalTimeSeconds'));
  const metadata: Record<string, unknown> = { index };
  const put = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) metadata[key] = value;
  };
  put('timer_time_s', timerS);
  put('distance_m', numberOf(child(lap, 'DistanceMeters')));
  put('max_speed_m_s', numberOf(child(lap, 'MaximumSpeed')));
  put('active_energy_kcal', numberOf(child(lap, 'Calories')));
  put('avg_heart_rate_bpm', numberOf(child(child(lap, 'AverageHeartRateBpm') ?? lap, 'Value')));
  put('max_heart_rate_bpm', numberOf(child(child(lap, 'MaximumHeartRateBpm') ?? lap, 'Value')));
  const lx = extension(lap, 'LX');
  put('avg_speed_m_s', numberOf(lx && child(lx, 'AvgSpeed')));
  put('avg_power_w', numberOf(lx && child(lx, 'AvgWatts')));
  put('max_power_w', numberOf(lx && child(lx, 'MaxWatts')));
  const runCadence = numberOf(lx && child(lx, 'AvgRunCadence'));
  const cadence = numberOf(child(lap, 'Cadence'));
  if (runCadence !== undefined) put('avg_cadence_spm', runCadence * 2);
  else if (cadence !== undefined) put(isRunning ? 'avg_cadence_spm' : 'avg_cadence_rpm', isRunning ? cadence * 2 : cadence);
  put('steps', numberOf(lx && child(lx, 'Steps')));
  put('intensity', text(child(lap, 'Intensity'))?.toLowerCase());
  put('trigger', text(child(lap, 'TriggerMethod'))?.toLowerCase());
  const endMs = lastPointMs ?? (timerS !== undefined ? startMs + timerS * 1000 : undefined);
  if (endMs !== undefined) put('duration_s', (endMs - startMs) / 1000);
  return { eventType: 'lap', startTime: new Date(startMs), endTime: endMs !== undefined ? new Date(endMs) : null, metadata };
}

function multiSportSession(element: Element, label: string, warnings: string[]): ImportedActivity | undefined {
  const legs: ImportedActivity[] = [];
  let legIndex = 0;
  for (const sport of [...children(element, 'FirstSport'), ...children(element, 'NextSport')]) {
    const transition = child(sport, 'Transition');
    if (transition) {
      const event = lapToEvent(transition, 0, undefined, false);
      if (event?.endTime) {
        legs.push({
          activityType: 'transition',
          sourceActivityType: 'tcx:Transition',
          startTime: event.startTime,
          endTime: event.endTime,
          durationS: (event.endTime.getTime() - event.startTime.getTime()) / 1000,
          distanceM: (event.metadata?.distance_m as number | undefined) ?? null,
          activeEnergyKcal: (event.metadata?.active_energy_kcal as number | undefined) ?? null,
          statistics: [],
          events: [],
          streams: {},
          sourceData: { transition: event.metadata },
          children: [],
        });
      }
    }
    const activity = child(sport, 'Activity');
    if (activity) {
      const leg = tcxActivity(activity, `${label} leg ${++legIndex}`, warnings);
      if (leg) legs.push(leg);
    }
  }
  if (legs.length === 0) {
    warnings.push(`${label}: multisport session without legs; skipped`);
    return undefined;
  }
  legs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const kinds = new Set(legs.map((leg) => leg.activityType));
  const isTriathlon = kinds.has('running') && kinds.has('cycling') && [...kinds].some((k) => k.includes('swimming'));
  const startMs = legs[0].startTime.getTime();
  const endMs = Math.max(...legs.map((leg) => leg.endTime.getTime()));
  const sum = (pick: (leg: ImportedActivity) => number | null | undefined) => {
    const values = legs.map(pick).filter((v): v is number => v != null);
    return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
  };
  return {
    activityType: isTriathlon ? 'triathlon' : 'multisport',
    sourceActivityType: 'tcx:MultiSportSession',
    startTime: new Date(startMs),
    endTime: new Date(endMs),
    timeZone: legs.find((leg) => leg.timeZone)?.timeZone ?? null,
    durationS: (endMs - startMs) / 1000,
    distanceM: sum((leg) => leg.distanceM),
    activeEnergyKcal: sum((leg) => leg.activeEnergyKcal),
    maxHeartRateBpm: maxOf(legs.map((leg) => leg.maxHeartRateBpm).filter((v): v is number => v != null)),
    statistics: [],
    events: [],
    streams: {},
    sourceData: { id: text(child(element, 'Id')) ?? null },
    children: legs,
  };
}

/**
 * Garmin ActivityExtension v2 values (`TPX` on trackpoints, `LX` on laps). Some writers put
 * each value in its own `<TPX>`, so all of them are searched.
 */
function extension(parent: Element, name: string): Element | undefined {
  const extensions = child(parent, 'Extensions');
  if (!extensions) return undefined;
  const blocks = children(extensions, name);
  if (blocks.length <= 1) return blocks[0];
  const merged = blocks[0].cloneNode(false) as Element;
  for (const block of blocks) for (const value of Array.from(block.childNodes)) merged.appendChild(value.cloneNode(true));
  return merged;
}

function elementToJson(element: Element): unknown {
  const kids = Array.from(element.childNodes).filter((n) => n.nodeType === 1) as Element[];
  if (kids.length === 0) return text(element) ?? null;
  const out: Record<string, unknown> = {};
  for (const kid of kids) out[kid.localName ?? kid.nodeName] = elementToJson(kid);
  return out;
}
