/**
 * Every real device file of the shared corpus (`../shared/corpus/fit`, beside the repository, in CI
 * too) against what two independent decoders read (`EXPECTED.json`): records, records with heart
 * rate and records with a position, as the parser's streams hold them. A difference is allowed only
 * where it is listed below, with the warning the athlete gets (docs/fit-corpus.md has the table).
 */
import { describe, expect, it } from '@jest/globals';
import { Decoder, Stream } from '@garmin/fitsdk';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFit } from './fit.js';
import type { ImportedActivity } from './types.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'fit');

interface Counts {
  records: number;
  records_with_heart_rate: number;
  records_with_position: number;
}
interface ExpectedFile {
  crcValid: boolean;
  garminFitSdk: Counts & { errors: string[] };
  fitFileParser: Counts;
}

const EXPECTED = (JSON.parse(readFileSync(join(CORPUS, 'EXPECTED.json'), 'utf8')) as { files: Record<string, ExpectedFile> }).files;

/** What the file holds: the SDK's counts (hr messages merged), or fit-file-parser's where the unpatched SDK failed on a CRC-valid file. */
function expectedCounts(file: ExpectedFile): Counts {
  const { records, records_with_heart_rate, records_with_position } = file.crcValid && file.garminFitSdk.errors.length > 0 ? file.fitFileParser : file.garminFitSdk;
  return { records, records_with_heart_rate, records_with_position };
}

/** The documented differences: the stored count and the warning that tells the athlete why. */
const DIFFERENCES: Record<string, { stored: Partial<Counts>; warnings: RegExp[]; why: string }> = {
  '0134902991.fit': {
    stored: { records_with_heart_rate: 0 },
    warnings: [/^file: dropped 739 heart_rate samples outside 20–260 bpm$/],
    why: 'every record says 0 bpm (no heart-rate sensor paired)',
  },
  'activity_developerdata.fit': {
    stored: { records_with_heart_rate: 2917 },
    warnings: [/^file: dropped 684 heart_rate samples outside 20–260 bpm$/],
    why: '684 records say 0–19 bpm',
  },
  'nick.fit': {
    stored: { records_with_heart_rate: 14387 },
    warnings: [/^FIT file damaged \(CRC mismatch; end of stream at byte 403456\); imported the messages before the damage$/, /^file: dropped 4 heart_rate samples outside 20–260 bpm$/],
    why: 'truncated (a salvage: no session, fit-file-parser reads a 14,392nd partial record); 4 records say 0 bpm',
  },
  'compressed-speed-distance.fit': {
    stored: { records: 754 },
    warnings: [/^file: the device's clock was not set: its times count seconds since power-on/],
    why: 'its first record holds a timestamp and nothing else (no sample to store); dated by the power-on clock (1990)',
  },
  'big_activity.fit': {
    stored: {},
    warnings: [/^file: kept 69061 records outside the session's time \(2023-09-04T12:55:19.000Z – 2023-09-04T21:29:56.000Z\)/],
    why: 'the session claims 8.6 h of a 27.8 h recording: every record kept, the activity widened',
  },
};

/**
 * Summed over the leaf activities: the samples of the fullest stream (records share timestamps in
 * some files, so distinct instants would undercount), of heart_rate and of position.
 */
function storedCounts(activities: ImportedActivity[]): Counts {
  const leaves = activities.flatMap((a) => (a.children.length > 0 ? a.children : [a]));
  const counts = { records: 0, records_with_heart_rate: 0, records_with_position: 0 };
  for (const leaf of leaves) {
    counts.records += Math.max(0, ...Object.values(leaf.streams).map((samples) => samples.timestamps.length));
    counts.records_with_heart_rate += leaf.streams.heart_rate?.timestamps.length ?? 0;
    counts.records_with_position += leaf.streams.position?.timestamps.length ?? 0;
  }
  return counts;
}

describe('the FIT corpus (../shared/corpus/fit) against EXPECTED.json', () => {
  it('lists every file of the folder', () => {
    expect(readdirSync(CORPUS).filter((f) => f.endsWith('.fit')).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.keys(EXPECTED).sort())('%s imports its records, heart rate and positions', (name) => {
    const result = parseFit(readFileSync(join(CORPUS, name)));
    const expected = { ...expectedCounts(EXPECTED[name]), ...DIFFERENCES[name]?.stored };
    expect(storedCounts(result.activities)).toEqual(expected);
    const documented = DIFFERENCES[name]?.warnings ?? [];
    for (const warning of documented) expect(result.warnings).toContainEqual(expect.stringMatching(warning));
    // Nothing else is dropped, and an intact file is never called damaged.
    const losses = result.warnings.filter((w) => /dropped|damaged|decoder failure/.test(w) && !documented.some((d) => d.test(w)));
    expect(losses).toEqual([]);
    if (EXPECTED[name].crcValid) expect(result.warnings.join('\n')).not.toMatch(/damaged/);
    expect(result.decoderErrors).toBeUndefined();
  });

  it('compressed-speed-distance.fit: the one record not stored holds a timestamp and nothing else', () => {
    const { messages, errors } = new Decoder(Stream.fromByteArray(readFileSync(join(CORPUS, 'compressed-speed-distance.fit')))).read();
    expect(errors).toEqual([]);
    const records = messages.recordMesgs ?? [];
    expect(records).toHaveLength(755);
    expect(records.filter((r) => Object.keys(r).join() === 'timestamp')).toEqual([records[0]]);
    // The compressed headers give one record every 5 s; the accumulated distance ends at the session's total.
    const times = records.map((r) => (r.timestamp as Date).getTime());
    expect(times.every((t, i) => i === 0 || t > times[i - 1])).toBe(true);
    expect(records.at(-1)!.distance).toBeCloseTo(messages.sessionMesgs![0].totalDistance as number, 0);
  });
});
