/**
 * A scale test of the Apple Health export reader: two million records (hundreds of MB of XML,
 * generated as it is read). It runs in `npm test`; `npm run test:unit` leaves *.scale.spec.ts out
 * (jest.unit.config.js) to stay a matter of seconds.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { APPLE_START_MS, appleDate, appleHealthRoutes } from '../../../../test/fixtures/imports/apple-health-builder.js';
import type { ScalarSamples } from '../../streams/stream-types.js';
import { parseAppleHealthExport } from './apple-health.js';
import type { ImportedActivity } from './types.js';

const routes = appleHealthRoutes();
const readRoute = async (path: string) => routes.get(path);

describe('parseAppleHealthExport: memory', () => {
  const RECORDS = 2_000_000;
  const WORKOUT_S = 3600;
  // Three one-hour workouts, 1 Hz heart rate from the watch inside each, in ten years of all-day samples.
  const day = 86_400_000;
  const workoutStarts = [100, 1800, 3600].map((d) => APPLE_START_MS - 3650 * day + d * day);

  /** export.xml, generated as it is read: records in time order, then the workouts, then more records. */
  function generatedExport(): () => AsyncIterable<string> {
    return async function* () {
      yield `<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n <ExportDate value="${appleDate(APPLE_START_MS)}"/>\n`;
      const hr = (ms: number, value: number, source = 'Apple Watch') => {
        const d = appleDate(ms);
        return ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="${source}" unit="count/min" creationDate="${d}" startDate="${d}" endDate="${d}" value="${value}"/>\n`;
      };
      const inWorkouts = workoutStarts.length * (WORKOUT_S + 1);
      const outside = RECORDS - inWorkouts;
      // All-day samples every ~2.5 min over ten years, with the workouts' 1 Hz samples merged in by time.
      const stepMs = Math.floor((3650 * day) / outside);
      let chunk = '';
      let w = 0;
      let t = APPLE_START_MS - 3650 * day;
      for (let i = 0; i < outside; i++, t += stepMs) {
        while (w < workoutStarts.length && workoutStarts[w] <= t) {
          for (let k = 0; k <= WORKOUT_S; k++) chunk += hr(workoutStarts[w] + k * 1000, 120 + (k % 60));
          w++;
        }
        // The watch's background samples pause during a workout.
        const during = workoutStarts.some((start) => t >= start && t <= start + WORKOUT_S * 1000);
        if (!during) chunk += hr(t, 60 + (i % 40));
        if (chunk.length > 65_536) {
          yield chunk;
          chunk = '';
        }
      }
      yield chunk;
      for (const start of workoutStarts) {
        yield ` <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="60" durationUnit="min" sourceName="Apple Watch" startDate="${appleDate(start)}" endDate="${appleDate(start + WORKOUT_S * 1000)}">\n </Workout>\n`;
      }
      yield `</HealthData>\n`;
    };
  }

  it('stays bounded by the workouts’ samples on a 2 M-record export', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const source = generatedExport();
    let chunksRead = 0;
    let bytesRead = 0;
    const before = live();
    let peak = before;
    const measured = async function* () {
      for await (const chunk of source()) {
        bytesRead += chunk.length;
        if (++chunksRead % 400 === 0) peak = Math.max(peak, live());
        yield chunk;
      }
    };
    const workouts: ImportedActivity[] = [];
    for await (const workout of parseAppleHealthExport(measured, readRoute)) workouts.push(workout);
    peak = Math.max(peak, live());

    expect(workouts).toHaveLength(3);
    for (const [i, workout] of workouts.entries()) {
      // Exactly the 1 Hz samples, without the all-day ones around them.
      const expected = Array.from({ length: WORKOUT_S + 1 }, (_, k) => workoutStarts[i] + k * 1000);
      const stream = workout.streams.heart_rate as ScalarSamples;
      expect(stream.timestamps.length).toBe(WORKOUT_S + 1);
      expect(Array.from(stream.timestamps)).toEqual(expected);
      expect(Array.from(stream.values)).toEqual(expected.map((_, k) => 120 + (k % 60)));
    }
    // Both passes read the whole export (hundreds of MB of text) …
    expect(bytesRead).toBeGreaterThan(2 * 300e6);
    // … while what is alive stays far below even one column of its two million samples (16 MB).
    expect(peak - before).toBeLessThan(16 * 1024 * 1024);
  }, 300_000);
});
