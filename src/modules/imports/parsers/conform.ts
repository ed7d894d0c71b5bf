/** Parsed activities made to fit the data model's rules and the create contract's limits. */
import { isTimeZone } from '@unified-activity/contract';
import { keepMovingTimeWithinElapsed } from '../../activities/moving-time.js';
import { fillSummaryFromStreams } from './summary.js';
import type { ImportedActivity } from './types.js';

/** Limits of the activity create contract (libs/contract/src/activities.contract.ts) an import must fit. */
const LIMITS = { events: 5000, statistics: 200, children: 100, name: 500, notes: 10_000, deviceName: 200, sourceActivityType: 200 };
const MEASURE_KEYS = [
  'durationS',
  'movingTimeS',
  'distanceM',
  'activeEnergyKcal',
  'elevationGainM',
  'elevationLossM',
  'avgSpeedMS',
  'maxSpeedMS',
] as const;
/** Events kept first when an activity has more than the contract allows. */
const EVENT_PRIORITY: Record<string, number> = { pause: 0, resume: 0, lap: 1, motion_paused: 2, motion_resumed: 2, marker: 3, segment: 4 };

/**
 * Makes parsed activities satisfy the data model's rules, so a file with one odd value is
 * imported rather than rejected: implausible summary values become null (and are derived
 * from the streams where possible), a maximum below its average is dropped, a moving time longer
 * than the elapsed time is left out (docs/data-model.md §5), over-long text is cut, and events
 * beyond the limit are dropped, least important first. Each change is a warning.
 */
export function conformActivities(activities: ImportedActivity[], warnings: string[]): void {
  activities.forEach((activity, i) => {
    const label = activities.length > 1 ? `activity ${i + 1}` : 'activity';
    conform(activity, label, warnings);
    if (activity.children.length > LIMITS.children) {
      warnings.push(`${label}: ${activity.children.length} legs; kept the first ${LIMITS.children}`);
      activity.children = activity.children.slice(0, LIMITS.children);
    }
    activity.children.forEach((child, j) => conform(child, `${label} leg ${j + 1}`, warnings));
  });
}

function conform(activity: ImportedActivity, label: string, warnings: string[]): void {
  if (activity.endTime.getTime() < activity.startTime.getTime()) activity.endTime = new Date(activity.startTime.getTime());
  let cleared = false;
  for (const key of MEASURE_KEYS) {
    const value = activity[key];
    if (value != null && (!Number.isFinite(value) || value < 0 || value > 1e9)) {
      warnings.push(`${label}: implausible ${key} ${value} left out`);
      activity[key] = null;
      cleared = true;
    }
  }
  for (const key of ['avgHeartRateBpm', 'maxHeartRateBpm'] as const) {
    const value = activity[key];
    if (value != null && (!Number.isFinite(value) || value < 20 || value > 260)) {
      warnings.push(`${label}: implausible ${key} ${value} left out`);
      activity[key] = null;
      cleared = true;
    }
  }
  if (cleared) fillSummaryFromStreams(activity);
  const movingTimeWarning = keepMovingTimeWithinElapsed(activity);
  if (movingTimeWarning) warnings.push(`${label}: ${movingTimeWarning}`);
  for (const [avg, max] of [
    ['avgHeartRateBpm', 'maxHeartRateBpm'],
    ['avgSpeedMS', 'maxSpeedMS'],
  ] as const) {
    const a = activity[avg];
    const m = activity[max];
    if (a != null && m != null && m < a) {
      warnings.push(`${label}: ${max} ${m} is below ${avg} ${a}; left out`);
      activity[max] = null;
    }
  }
  if (activity.timeZone != null && !isTimeZone(activity.timeZone)) activity.timeZone = null;
  activity.name = cut(activity.name, LIMITS.name);
  activity.notes = cut(activity.notes, LIMITS.notes);
  activity.deviceName = cut(activity.deviceName, LIMITS.deviceName);
  activity.sourceActivityType = cut(activity.sourceActivityType, LIMITS.sourceActivityType) ?? null;
  if (activity.statistics.length > LIMITS.statistics) activity.statistics = activity.statistics.slice(0, LIMITS.statistics);
  for (const event of activity.events) {
    if (event.endTime && event.endTime.getTime() < event.startTime.getTime()) event.endTime = null;
  }
  if (activity.events.length > LIMITS.events) {
    warnings.push(`${label}: ${activity.events.length} events; kept ${LIMITS.events}, dropping segments and markers first`);
    const ranked = activity.events.map((event, index) => ({ event, index, rank: EVENT_PRIORITY[event.eventType] ?? 5 }));
    ranked.sort((a, b) => a.rank - b.rank || a.index - b.index);
    const kept = new Set(ranked.slice(0, LIMITS.events).map((r) => r.index));
    activity.events = activity.events.filter((_, index) => kept.has(index));
  }
}

function cut(value: string | null | undefined, max: number): string | null | undefined {
  return typeof value === 'string' && value.length > max ? value.slice(0, max) : value;
}
