import { describe, expect, it } from '@jest/globals';
import { buildTcx, syntheticTrack, type TrackPoint } from '../../../../test/fixtures/imports/xml-builders.js';
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import { parseFile } from './index.js';
import { parseTcx } from './tcx.js';
import { UnreadableFileError, type ImportedActivity } from './types.js';

const START = Date.UTC(2024, 4, 1, 6, 0, 0);

function values(activity: ImportedActivity, type: keyof ImportedActivity['streams']): { t: number[]; v: number[] } {
  const s = activity.streams[type] as ScalarSamples;
  return { t: Array.from(s.timestamps), v: Array.from(s.values) };
}

const times = (points: TrackPoint[]) => points.map((p) => p.timeMs);

describe('parseTcx', () => {
  it('measures a file without recorded distances within each <Track>, not across the gap between them', () => {
    const track = (fromMs: number, fromLat: number): TrackPoint[] =>
      [0, 1, 2].map((i) => ({ timeMs: fromMs + i * 10_000, latitude: fromLat + i * 0.0001, longitude: 8.5417 }));
    const text = buildTcx([
      { sport: 'Running', idMs: START, laps: [{ tracks: [track(START, 47.37), track(START + 600_000, 47.38)], totalTimeSeconds: 40, distanceM: 0, calories: 1 }] },
    ]).replace(/<DistanceMeters>[^<]*<\/DistanceMeters>/g, '');
    const [run] = parseTcx(text).activities;
    expect(run.distanceM).toBeCloseTo(4 * 0.0001 * (Math.PI / 180) * 6_371_008.8, 6);
  });

  it('leaves out a moving time longer than the elapsed time, with a warning, and derives the speed from the elapsed time', () => {
    // Two laps whose timer times add up to 2283 s in an activity of 1410 s (a real watch's export).
    const lap1 = syntheticTrack(START, 700).filter((_, i) => i % 10 === 0 || i === 699);
    const lap2 = syntheticTrack(START + 700_000, 711).filter((_, i) => i % 10 === 0 || i === 710);
    const text = buildTcx([
      {
        sport: 'Running',
        idMs: START,
        laps: [
          { tracks: [lap1], totalTimeSeconds: 1283, distanceM: 2000, calories: 100 },
          { tracks: [lap2], totalTimeSeconds: 1000, distanceM: 2100, calories: 100 },
        ],
      },
    ]);
    const result = parseTcx(text);
    const [run] = result.activities;
    expect(run.durationS).toBe(1410);
    expect(run.movingTimeS).toBeNull();
    expect(result.warnings).toEqual(['activity: movingTimeS 2283 s is longer than the elapsed durationS 1410 s; left out']);
    expect(run.avgSpeedMS).toBeCloseTo(4100 / 1410, 9);
    // The watch's own lap times are kept as it wrote them.
    expect(run.events.filter((e) => e.eventType === 'lap').map((e) => e.metadata?.timer_time_s)).toEqual([1283, 1000]);
  });

  it('imports a run with laps, a pause between tracks and TPX speed/cadence, sample for sample', () => {
    const lap1 = syntheticTrack(START, 300);
    const lap2a = syntheticTrack(START + 300_000, 100);
    const lap2b = syntheticTrack(START + 460_000, 140);
    const all = [...lap1, ...lap2a, ...lap2b];
    const text = buildTcx([
      {
        sport: 'Running',
        idMs: START,
        creatorName: 'Forerunner 965',
        laps: [
          { tracks: [lap1], totalTimeSeconds: 300, distanceM: 1000, calories: 70, avgHeartRateBpm: 134, maxHeartRateBpm: 149, maximumSpeedMS: 3.9 },
          { tracks: [lap2a, lap2b], totalTimeSeconds: 240, distanceM: 800.5, calories: 55, avgHeartRateBpm: 140, maxHeartRateBpm: 151 },
        ],
      },
    ]);
    const result = parseTcx(text);
    expect(result.format).toBe('tcx');
    expect(result.warnings).toEqual([]);
    const [run] = result.activities;
    expect(run.activityType).toBe('running');
    expect(run.sourceActivityType).toBe('tcx:Running');
    expect(run.deviceName).toBe('Forerunner 965');
    expect(run.startTime.getTime()).toBe(START);
    expect(run.endTime.getTime()).toBe(lap2b.at(-1)!.timeMs);
    expect(run.timeZone).toBe('Europe/Zurich');
    expect(run.distanceM).toBe(1800.5);
    expect(run.movingTimeS).toBe(540);
    expect(run.activeEnergyKcal).toBe(125);
    expect(run.avgHeartRateBpm).toBe(Math.round((134 * 300 + 140 * 240) / 540));
    expect(run.maxHeartRateBpm).toBe(151);
    expect(run.maxSpeedMS).toBe(3.9);

    const position = run.streams.position as PositionSamples;
    expect(Array.from(position.timestamps)).toEqual(times(all));
    expect(Array.from(position.latitude)).toEqual(all.map((p) => p.latitude));
    expect(Array.from(position.longitude)).toEqual(all.map((p) => p.longitude));
    expect(values(run, 'altitude').v).toEqual(all.map((p) => p.elevationM));
    expect(values(run, 'distance').v).toEqual(all.map((p) => p.distanceM));
    expect(values(run, 'heart_rate')).toEqual({ t: times(all), v: all.map((p) => p.heartRateBpm) });
    expect(values(run, 'speed').v).toEqual(all.map((p) => p.speedMS));
    // RunCadence counts strides, like FIT: doubled to steps per minute.
    expect(values(run, 'cadence').v).toEqual(all.map((p) => p.cadence! * 2));

    const laps = run.events.filter((e) => e.eventType === 'lap');
    expect(laps.map((l) => [l.startTime.getTime(), l.endTime?.getTime()])).toEqual([
      [START, lap1.at(-1)!.timeMs],
      [START + 300_000, lap2b.at(-1)!.timeMs],
    ]);
    expect(laps[0].metadata).toMatchObject({ index: 0, timer_time_s: 300, distance_m: 1000, active_energy_kcal: 70, avg_heart_rate_bpm: 134, max_heart_rate_bpm: 149, max_speed_m_s: 3.9, intensity: 'active', trigger: 'manual' });
    expect(laps[1].metadata).toMatchObject({ index: 1, timer_time_s: 240, distance_m: 800.5 });
    expect(run.events.filter((e) => e.eventType !== 'lap').map((e) => [e.eventType, e.startTime.getTime()])).toEqual([
      ['pause', lap2a.at(-1)!.timeMs],
      ['resume', lap2b[0].timeMs],
    ]);
  });

  it('imports several activities, an indoor ride without positions, and Watts', () => {
    const ride = syntheticTrack(START, 200, { power: true }).map((p) => ({ ...p, latitude: undefined, longitude: undefined }));
    const run = syntheticTrack(START + 7_200_000, 50);
    const text = buildTcx([
      { sport: 'Biking', idMs: START, laps: [{ tracks: [ride], totalTimeSeconds: 199, distanceM: 600, calories: 40, avgWatts: 224 }] },
      { sport: 'Running', idMs: START + 7_200_000, laps: [{ tracks: [run], totalTimeSeconds: 49, distanceM: 150, calories: 10 }] },
    ]);
    const result = parseTcx(text);
    expect(result.activities.map((a) => a.activityType)).toEqual(['cycling', 'running']);
    const [bike] = result.activities;
    expect(bike.streams.position).toBeUndefined();
    expect(bike.timeZone).toBeNull();
    expect(values(bike, 'power')).toEqual({ t: times(ride), v: ride.map((p) => p.powerW) });
    expect(values(bike, 'cadence').v).toEqual(ride.map((p) => p.cadence));
    expect(bike.events[0].metadata).toMatchObject({ avg_power_w: 224 });
  });

  it('reads TPX values that a writer split over several <TPX> elements', () => {
    const points = syntheticTrack(START, 3, { power: true });
    const text = buildTcx([{ sport: 'Biking', idMs: START, laps: [{ tracks: [points], totalTimeSeconds: 2, distanceM: 9, calories: 1 }] }]).replace(
      /<ns3:TPX>(<ns3:Speed>[^<]*<\/ns3:Speed>)(<ns3:Watts>)/g,
      '<ns3:TPX>$1</ns3:TPX><ns3:TPX>$2',
    );
    expect(text).toContain('</ns3:TPX><ns3:TPX>');
    const [ride] = parseTcx(text).activities;
    expect(values(ride, 'power').v).toEqual(points.map((p) => p.powerW));
    expect(values(ride, 'speed').v).toEqual(points.map((p) => p.speedMS));
  });

  it('drops trackpoints without a time, with a placeholder time or going backwards, and says so', () => {
    const points = syntheticTrack(START, 30);
    const placeholder = Date.UTC(1901, 11, 13, 20, 45, 52); // a 32-bit time_t's minimum, as GPSBabel writes for "no time"
    const messy = [
      ...points.slice(0, 10),
      { ...points[10], timeMs: undefined },
      ...points.slice(11, 15),
      { ...points[15], timeMs: placeholder },
      ...points.slice(16, 20),
      { ...points[3] },
      ...points.slice(20),
    ];
    const result = parseTcx(buildTcx([{ sport: 'Other', idMs: START, laps: [{ tracks: [messy], totalTimeSeconds: 29, distanceM: 90, calories: 5 }] }]));
    expect(result.warnings).toEqual([
      'activity: dropped 2 trackpoints without a usable time (missing, unreadable, or before 1980-01-06, a placeholder)',
      'activity: dropped 1 trackpoints whose time goes backwards',
    ]);
    expect(result.activities[0].startTime.toISOString()).toBe(new Date(START).toISOString());
    const kept = points.filter((_, i) => i !== 10 && i !== 15);
    expect(values(result.activities[0], 'heart_rate')).toEqual({ t: times(kept), v: kept.map((p) => p.heartRateBpm) });
    expect(result.activities[0].activityType).toBe('other');
  });

  it('imports a MultiSportSession as a parent with its legs and transitions', () => {
    const bike = syntheticTrack(START, 100, { power: true });
    const run = syntheticTrack(START + 160_000, 100);
    const single = buildTcx([
      { sport: 'Biking', idMs: START, laps: [{ tracks: [bike], totalTimeSeconds: 99, distanceM: 300, calories: 20 }] },
      { sport: 'Running', idMs: START + 160_000, laps: [{ tracks: [run], totalTimeSeconds: 99, distanceM: 320, calories: 25 }] },
    ]);
    const [bikeXml, runXml] = single.match(/<Activity [\s\S]*?<\/Activity>/g)!;
    const transition = `<Transition StartTime="${new Date(START + 100_000).toISOString()}"><TotalTimeSeconds>60</TotalTimeSeconds><DistanceMeters>40</DistanceMeters><Calories>3</Calories></Transition>`;
    const text = single.replace(
      /<Activities>[\s\S]*<\/Activities>/,
      `<Activities><MultiSportSession><Id>${new Date(START).toISOString()}</Id><FirstSport>${bikeXml}</FirstSport><NextSport>${transition}${runXml}</NextSport></MultiSportSession></Activities>`,
    );
    const [parent] = parseTcx(text).activities;
    expect(parent.activityType).toBe('multisport');
    expect(parent.children.map((c) => [c.activityType, c.startTime.getTime(), c.endTime.getTime()])).toEqual([
      ['cycling', START, START + 99_000],
      ['transition', START + 100_000, START + 160_000],
      ['running', START + 160_000, START + 259_000],
    ]);
    expect(parent.distanceM).toBe(660);
    expect(values(parent.children[2], 'heart_rate').v).toEqual(run.map((p) => p.heartRateBpm));
  });

  it.each([
    ['an empty document', '', 'empty file'],
    ['broken XML', '<TrainingCenterDatabase><Activities><Activity>', 'malformed TCX'],
    ['a TCX without activities', '<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>', 'holds no activity'],
    ['a GPX document', '<gpx/>', 'not a TCX file'],
  ])('rejects %s with a reason', (_, text, reason) => {
    expect(() => parseTcx(text)).toThrow(UnreadableFileError);
    try {
      parseTcx(text);
    } catch (error) {
      expect((error as UnreadableFileError).reason).toContain(reason);
    }
  });

  it('is what parseFile picks for TCX bytes', () => {
    const text = buildTcx([{ sport: 'Biking', idMs: START, laps: [{ tracks: [syntheticTrack(START, 5)], totalTimeSeconds: 4, distanceM: 12, calories: 1 }] }]);
    expect(parseFile(new TextEncoder().encode(text), 'ride.tcx').format).toBe('tcx');
  });
});
