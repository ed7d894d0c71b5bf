/** Summary values derived from samples where the source file has none. */
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import type { ImportedActivity } from './types.js';

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function minOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

export function maxOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** Sum of positive and negative altitude steps, ignoring steps under `thresholdM` of noise. */
export function elevationChange(altitudes: readonly number[], thresholdM = 1): { gainM: number; lossM: number } | null {
  if (altitudes.length < 2) return null;
  let gainM = 0;
  let lossM = 0;
  let reference = altitudes[0];
  for (const altitude of altitudes) {
    const delta = altitude - reference;
    if (delta >= thresholdM) {
      gainM += delta;
      reference = altitude;
    } else if (delta <= -thresholdM) {
      lossM -= delta;
      reference = altitude;
    }
  }
  return { gainM, lossM };
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Length of the position stream's path, in metres. */
export function pathLengthM(position: PositionSamples | undefined): number | null {
  if (!position || position.timestamps.length < 2) return null;
  let total = 0;
  for (let i = 1; i < position.timestamps.length; i++) {
    total += haversineM(position.latitude[i - 1], position.longitude[i - 1], position.latitude[i], position.longitude[i]);
  }
  return total;
}

/** An activity with no summary yet, filled from its streams where the source has nothing. */
export function fillSummaryFromStreams(activity: ImportedActivity): void {
  const hr = activity.streams.heart_rate as ScalarSamples | undefined;
  if (hr && hr.values.length > 0) {
    const values = Array.from(hr.values);
    activity.avgHeartRateBpm ??= Math.round(mean(values)!);
    activity.maxHeartRateBpm ??= maxOf(values);
  }
  const speed = activity.streams.speed as ScalarSamples | undefined;
  if (speed && speed.values.length > 0) activity.maxSpeedMS ??= maxOf(Array.from(speed.values));
  const distance = activity.streams.distance as ScalarSamples | undefined;
  if (activity.distanceM == null) {
    if (distance && distance.values.length > 0) {
      activity.distanceM = distance.values[distance.values.length - 1] - distance.values[0];
    } else {
      const path = pathLengthM(activity.streams.position as PositionSamples | undefined);
      if (path !== null) activity.distanceM = path;
    }
  }
  const altitude = activity.streams.altitude as ScalarSamples | undefined;
  if (altitude && (activity.elevationGainM == null || activity.elevationLossM == null)) {
    const change = elevationChange(Array.from(altitude.values));
    if (change) {
      activity.elevationGainM ??= change.gainM;
      activity.elevationLossM ??= change.lossM;
    }
  }
  activity.durationS ??= (activity.endTime.getTime() - activity.startTime.getTime()) / 1000;
  // A moving time longer than the elapsed one is not one (conform leaves it out): the elapsed time divides.
  const moving = activity.movingTimeS;
  const movingS = moving != null && (activity.durationS == null || moving <= activity.durationS) ? moving : activity.durationS;
  if (activity.avgSpeedMS == null && activity.distanceM != null && movingS != null && movingS > 0) {
    activity.avgSpeedMS = activity.distanceM / movingS;
  }
}
