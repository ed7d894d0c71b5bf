/**
 * Every parser's output must be accepted by the activity create contract as it stands, so that
 * an import never fails on a rule the parser could have kept.
 */
import { describe, expect, it } from '@jest/globals';
import { ActivityChildCreateSchema } from '@unified-activity/contract';
import { validateSamples } from '../../streams/stream-samples.js';
import type { StreamSamples, StreamType } from '../../streams/stream-types.js';
import { appleHealthRoutes, buildAppleHealthExport } from '../../../../test/fixtures/imports/apple-health-builder.js';
import { ALL_CHANNELS, buildFitMultisport, fitActivityFixture } from '../../../../libs/testing/fit-builder.js';
import { buildGpx, buildTcx, syntheticTrack } from '../../../../test/fixtures/imports/xml-builders.js';
import { parseAppleHealthExport } from './apple-health.js';
import { parseFile } from './index.js';
import type { ImportedActivity } from './types.js';

function expectValid(activity: ImportedActivity): void {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { streams, children, warnings, identity, ...fields } = activity;
  // A null time zone means "unknown", and is stored so (docs/data-model.md §9).
  const parsed = ActivityChildCreateSchema.safeParse({ ...fields, timeZone: fields.timeZone ?? null, source: 'file' });
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  // And the streams pass the streams module's own ingest rules (window, order, ranges).
  for (const [type, samples] of Object.entries(streams) as [StreamType, StreamSamples][]) {
    expect(() => validateSamples(type, samples, { startTime: activity.startTime, endTime: activity.endTime })).not.toThrow();
  }
  children.forEach(expectValid);
}

const START = new Date('2024-05-01T06:00:00Z');

describe('parser output and the activity create contract', () => {
  it('accepts what the FIT, GPX and TCX parsers return', () => {
    const files = [
      fitActivityFixture({ sport: 'cycling', subSport: 'road', startTime: START, seconds: 600, channels: ALL_CHANNELS, laps: 3, pauses: [{ atS: 100, durationS: 20 }], timeZoneOffsetS: 7200 }).bytes,
      fitActivityFixture({ sport: 'swimming', subSport: 'lapSwimming', startTime: START, seconds: 0, channels: { heartRate: true }, heartRateIn: 'hr_messages', pool: { lengthM: 25, lengths: 8, secondsPerLength: 30, strokesPerLength: 12 } }).bytes,
      fitActivityFixture({ sport: 'running', startTime: START, seconds: 300, channels: { heartRate: true }, omitSession: true }).bytes,
      buildFitMultisport({ startTime: START, legs: [{ sport: 'running', seconds: 60, channels: { heartRate: true } }, { sport: 'transition', seconds: 30 }, { sport: 'cycling', seconds: 60, channels: { power: true } }] }).bytes,
      new TextEncoder().encode(buildGpx([{ name: 'x', type: 'running', segments: [syntheticTrack(START.getTime(), 50), syntheticTrack(START.getTime() + 60_000, 50)] }])),
      new TextEncoder().encode(buildTcx([{ sport: 'Biking', idMs: START.getTime(), laps: [{ tracks: [syntheticTrack(START.getTime(), 40, { power: true })], totalTimeSeconds: 39, distanceM: 120, calories: 9, avgHeartRateBpm: 130, maxHeartRateBpm: 149 }] }])),
    ];
    for (const bytes of files) for (const activity of parseFile(bytes).activities) expectValid(activity);
  });

  it('accepts what the Apple Health parser returns', async () => {
    const routes = appleHealthRoutes();
    async function* source() {
      yield new TextEncoder().encode(buildAppleHealthExport());
    }
    let count = 0;
    for await (const activity of parseAppleHealthExport(source, async (p) => routes.get(p))) {
      expectValid(activity);
      count++;
    }
    expect(count).toBe(5);
  });
});
