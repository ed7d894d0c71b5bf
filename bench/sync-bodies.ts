/**
 * Provider bodies for the benchmarks (bench:ingest, bench:originals): HealthKit workout summaries
 * and Strava rides with one hour of 1 Hz streams, generated from a seed, so every run sends the
 * same bytes.
 */
import { createHash } from 'node:crypto';
import { rng } from '../libs/testing/seeded-random.js';

export function healthKitWorkout(i: number) {
  const random = rng(i + 1);
  const start = Date.UTC(2020, 0, 1) + i * 3 * 3600_000;
  const seconds = 1800 + Math.round(random() * 3600);
  return {
    uuid: `bench-${String(i).padStart(6, '0')}-${createHash('md5').update(String(i)).digest('hex').slice(0, 12)}`,
    workoutActivityType: [37, 13, 52, 46, 50][i % 5]!,
    startDate: new Date(start).toISOString(),
    endDate: new Date(start + seconds * 1000).toISOString(),
    duration: seconds,
    totalEnergyBurned: { value: Math.round(200 + random() * 800), unit: 'kcal' },
    totalDistance: { value: Math.round(1000 + random() * 20000), unit: 'm' },
    statistics: [
      {
        quantityType: 'HKQuantityTypeIdentifierHeartRate',
        average: { value: 120 + Math.round(random() * 40), unit: 'count/min' },
        minimum: { value: 80, unit: 'count/min' },
        maximum: { value: 170 + Math.round(random() * 20), unit: 'count/min' },
      },
      { quantityType: 'HKQuantityTypeIdentifierStepCount', sum: { value: Math.round(random() * 10000), unit: 'count' } },
      { quantityType: 'HKQuantityTypeIdentifierRunningPower', average: { value: 200 + Math.round(random() * 100), unit: 'W' } },
    ],
    metadata: { HKIndoorWorkout: i % 7 === 0, HKTimeZone: 'Europe/Berlin', HKElevationAscended: { value: Math.round(random() * 50000), unit: 'cm' } },
    sourceRevision: { source: { name: 'Apple Watch', bundleIdentifier: 'com.apple.health' }, version: '11.2' },
    device: { name: 'Apple Watch', manufacturer: 'Apple Inc.', model: 'Watch' },
  };
}

const GARMIN_TYPE_OF_HEALTHKIT: Record<number, string> = { 37: 'RUNNING', 13: 'CYCLING', 52: 'WALKING', 46: 'SWIMMING', 50: 'STRENGTH_TRAINING' };

/**
 * The Garmin push summary of the same workout as `healthKitWorkout(i)` (the watch that recorded
 * it forwards it to Garmin Connect too): same start, duration, distance and heart rate, so it is a
 * duplicate of that HealthKit workout (issue 25).
 */
export function garminCopyOfHealthKitWorkout(i: number) {
  const workout = healthKitWorkout(i);
  const heartRate = workout.statistics[0]!;
  return {
    summaryId: `bench-garmin-${i}`,
    activityType: GARMIN_TYPE_OF_HEALTHKIT[workout.workoutActivityType]!,
    startTimeInSeconds: Date.parse(workout.startDate) / 1000,
    startTimeOffsetInSeconds: 3600,
    durationInSeconds: workout.duration,
    distanceInMeters: workout.totalDistance.value,
    activeKilocalories: workout.totalEnergyBurned.value,
    averageHeartRateInBeatsPerMinute: heartRate.average!.value,
    maxHeartRateInBeatsPerMinute: heartRate.maximum!.value,
    deviceName: 'forerunner965',
  };
}

export function stravaActivity(i: number) {
  const random = rng(1000 + i);
  const start = Date.UTC(2025, 0, 1) + i * 86_400_000;
  const n = 3600;
  const time = Array.from({ length: n }, (_, s) => s);
  let lat = 47.37 + random() * 0.1;
  let lng = 8.54 + random() * 0.1;
  const latlng = time.map(() => [(lat += (random() - 0.3) * 3e-5), (lng += (random() - 0.4) * 4e-5)]);
  const walk = (v: number, step: number, min: number, max: number) => time.map(() => (v = Math.min(max, Math.max(min, v + (random() - 0.5) * step))));
  return {
    id: 9_000_000_000 + i,
    name: `Ride ${i}`,
    sport_type: 'Ride',
    type: 'Ride',
    trainer: false,
    distance: 30000,
    moving_time: n,
    elapsed_time: n,
    total_elevation_gain: 300,
    average_speed: 8.3,
    max_speed: 14,
    average_heartrate: 140,
    average_watts: 210,
    kilojoules: 756,
    start_date: new Date(start).toISOString(),
    timezone: '(GMT+01:00) Europe/Zurich',
    streams: [
      { type: 'time', data: time, series_type: 'time', original_size: n, resolution: 'high' },
      { type: 'latlng', data: latlng, series_type: 'time', original_size: n, resolution: 'high' },
      { type: 'heartrate', data: walk(130, 3, 60, 190).map(Math.round), series_type: 'time', original_size: n, resolution: 'high' },
      { type: 'watts', data: walk(210, 25, 0, 900).map(Math.round), series_type: 'time', original_size: n, resolution: 'high' },
      { type: 'altitude', data: walk(420, 0.8, 200, 2500), series_type: 'time', original_size: n, resolution: 'high' },
      { type: 'velocity_smooth', data: walk(8, 0.3, 0, 20), series_type: 'time', original_size: n, resolution: 'high' },
      { type: 'cadence', data: walk(85, 3, 0, 180).map(Math.round), series_type: 'time', original_size: n, resolution: 'high' },
    ],
  };
}

/** A HealthKit batch body of `count` workout summaries, as the app sends it. */
export const healthKitBatchBody = (count: number) =>
  new TextEncoder().encode(JSON.stringify({ activities: Array.from({ length: count }, (_, i) => healthKitWorkout(i)), cursor: `anchor-${count}` }));

/** A Strava batch body of `count` rides with their streams. */
export const stravaBatchBody = (count: number) => new TextEncoder().encode(JSON.stringify({ activities: Array.from({ length: count }, (_, i) => stravaActivity(i)) }));
