/** Streams and their activity's time window: widened to cover them, or clipped to it. */
import type { StreamSamples, StreamType } from '../../streams/stream-types.js';
import type { ImportedActivity } from './types.js';

/** Streams are stored only inside their activity's window (±60 s): widen the window to cover them. */
export function coverStreams(activity: ImportedActivity): void {
  let first = activity.startTime.getTime();
  let last = activity.endTime.getTime();
  for (const samples of Object.values(activity.streams)) {
    const t = samples.timestamps;
    if (t.length === 0) continue;
    if (t[0] < first) first = t[0];
    if (t[t.length - 1] > last) last = t[t.length - 1];
  }
  if (first < activity.startTime.getTime()) activity.startTime = new Date(first);
  if (last > activity.endTime.getTime()) activity.endTime = new Date(last);
}

/** Drops samples more than `slackMs` outside the activity's window (the window is authoritative). */
export function clipStreams(activity: ImportedActivity, warnings: string[], label: string, slackMs = 60_000): void {
  const from = activity.startTime.getTime() - slackMs;
  const to = activity.endTime.getTime() + slackMs;
  for (const [type, samples] of Object.entries(activity.streams) as [StreamType, StreamSamples][]) {
    const t = samples.timestamps;
    let lo = 0;
    while (lo < t.length && t[lo] < from) lo++;
    let hi = t.length;
    while (hi > lo && t[hi - 1] > to) hi--;
    if (lo === 0 && hi === t.length) continue;
    warnings.push(`${label}: dropped ${t.length - (hi - lo)} ${type} samples outside the activity's time`);
    if (hi === lo) {
      delete activity.streams[type];
      continue;
    }
    const clipped: Record<string, unknown> = {};
    for (const [key, column] of Object.entries(samples)) clipped[key] = column instanceof Float64Array ? column.slice(lo, hi) : column;
    activity.streams[type] = clipped as unknown as StreamSamples;
  }
}
