/**
 * Every statistic the importers and the provider mappers produce — from the test corpus and the
 * sync fixtures — is a key of the contract's list, in that key's unit (docs/data-model.md §5). The
 * types enforce the key; this checks key and unit together on real output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { statisticUnit } from '@unified-activity/contract';
import { appleHealthRoutes, buildAppleHealthExport } from '../../../../test/fixtures/imports/apple-health-builder.js';
import {
  garminActivityDetails,
  garminMultisport,
  garminTreadmillRun,
  healthConnectRun,
  healthKitPoolSwim,
  healthKitRun,
  healthKitTriathlon,
  rnHealthConnectSession,
  stravaRide,
} from '../../../../test/fixtures/sync-payloads.js';
import { MAPPERS } from '../../sync/mappers/index.js';
import type { NormalizedFields } from '../../sync/mappers/normalized.js';
import { parseAppleHealthExport } from './apple-health.js';
import { parseFile } from './index.js';
import type { ImportedActivity } from './types.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus');

function statistics(activities: ImportedActivity[]): { key: string; unit: string }[] {
  return activities.flatMap((a) => [...a.statistics, ...statistics(a.children)]);
}

describe('statistic keys of the importers and provider mappers', () => {
  it('are listed, each in its own unit (the FIT and GPX corpus and the Apple Health export)', async () => {
    const seen: { key: string; unit: string }[] = [];
    for (const folder of ['fit', 'gpx']) {
      for (const name of readdirSync(join(CORPUS, folder)).filter((n) => /\.(fit|gpx)$/.test(n))) {
        try {
          seen.push(...statistics(parseFile(new Uint8Array(readFileSync(join(CORPUS, folder, name))), name).activities));
        } catch {
          // An unreadable corpus file (fit-corpus.spec.ts covers why) has no statistics.
        }
      }
    }
    const routes = appleHealthRoutes();
    const bytes = new TextEncoder().encode(buildAppleHealthExport({ samples: true }));
    const apple: ImportedActivity[] = [];
    for await (const activity of parseAppleHealthExport(
      async function* () {
        yield bytes;
      },
      async (path) => routes.get(path),
    )) {
      apple.push(activity);
    }
    seen.push(...statistics(apple));
    expect(seen.length).toBeGreaterThan(20);
    for (const { key, unit } of seen) expect([key, unit]).toEqual([key, statisticUnit(key)]);
  });

  it('are listed, each in its own unit (HealthKit, Strava, Garmin and Health Connect sync fixtures)', () => {
    const items = {
      healthkit: [healthKitRun(), healthKitPoolSwim(), healthKitTriathlon()],
      strava: [stravaRide()],
      garmin: [garminTreadmillRun(), ...garminMultisport(), garminActivityDetails()],
      health_connect: [healthConnectRun(), rnHealthConnectSession()],
    };
    const seen: { key: string; unit: string }[] = [];
    const collectAll = (a: NormalizedFields & { children?: NormalizedFields[] }) => {
      seen.push(...a.statistics);
      for (const child of a.children ?? []) collectAll(child);
    };
    for (const [source, list] of Object.entries(items) as [keyof typeof MAPPERS, unknown[]][]) {
      const mapper = MAPPERS[source];
      for (const item of list) collectAll(mapper.map(mapper.schema.parse(item) as never));
    }
    expect(new Set(seen.map((s) => s.key)).size).toBeGreaterThan(8);
    for (const { key, unit } of seen) expect([key, unit]).toEqual([key, statisticUnit(key)]);
  });
});
