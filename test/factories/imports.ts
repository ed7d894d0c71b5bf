import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import type { SignedUpUser } from './api.js';
import type { TestApp } from '../setup/app.js';
import type { SampleRecord } from '../fixtures/imports/apple-health-builder.js';

/** POST /athletes/{id}/imports with the given files (multipart field `files`). */
export function upload(t: TestApp, user: SignedUpUser, files: { name: string; bytes: Uint8Array }[], query = '', athleteId = user.athleteId) {
  let request = t.http().post(`/api/v1/athletes/${athleteId}/imports${query}`).set(user.auth);
  for (const file of files) request = request.attach('files', Buffer.from(file.bytes), file.name);
  return request;
}

export const gzip = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));
export const zip = (entries: Record<string, Uint8Array>) => zipSync(entries);
export const utf8 = (text: string) => new TextEncoder().encode(text);

const isoAt = (start: Date, seconds: number) => new Date(start.getTime() + seconds * 1000).toISOString();

export interface TrackPoint {
  seconds: number;
  latitude: number;
  longitude: number;
  elevationM: number;
  heartRateBpm: number;
  distanceM: number;
}

/** A smooth track of n points, one per second, with values that survive decimal text exactly. */
export function trackPoints(count: number, seed = 0): TrackPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    seconds: i,
    latitude: Number((47.37 + (i + seed) * 0.00003).toFixed(7)),
    longitude: Number((8.54 + (i + seed) * 0.00002).toFixed(7)),
    elevationM: Number((410 + Math.sin(i / 10) * 5).toFixed(1)),
    heartRateBpm: 120 + (i % 30),
    distanceM: Number((i * 3.1).toFixed(1)),
  }));
}

export function gpxDocument(start: Date, points: TrackPoint[], name = 'Morning Run'): string {
  const pts = points
    .map(
      (p) =>
        `<trkpt lat="${p.latitude}" lon="${p.longitude}"><ele>${p.elevationM}</ele><time>${isoAt(start, p.seconds)}</time>` +
        `<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>${p.heartRateBpm}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<metadata><time>${start.toISOString()}</time></metadata>
<trk><name>${name}</name><type>running</type><trkseg>
${pts}
</trkseg></trk></gpx>`;
}

export function tcxDocument(start: Date, points: TrackPoint[]): string {
  const pts = points
    .map(
      (p) =>
        `<Trackpoint><Time>${isoAt(start, p.seconds)}</Time><Position><LatitudeDegrees>${p.latitude}</LatitudeDegrees>` +
        `<LongitudeDegrees>${p.longitude}</LongitudeDegrees></Position><AltitudeMeters>${p.elevationM}</AltitudeMeters>` +
        `<DistanceMeters>${p.distanceM}</DistanceMeters><HeartRateBpm><Value>${p.heartRateBpm}</Value></HeartRateBpm></Trackpoint>`,
    )
    .join('\n');
  const last = points.at(-1)!;
  return `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="Running"><Id>${start.toISOString()}</Id>
<Lap StartTime="${start.toISOString()}"><TotalTimeSeconds>${last.seconds}</TotalTimeSeconds><DistanceMeters>${last.distanceM}</DistanceMeters>
<Calories>50</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>
<Track>
${pts}
</Track></Lap></Activity></Activities></TrainingCenterDatabase>`;
}

/** Apple's export date format: "2024-05-01 07:00:00 +0200". */
function appleDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}

/** A sample record of the export, as the parser spec's builder describes it. */
export type AppleSampleRecord = SampleRecord;

/**
 * The sample records of `appleHealthExport`: one heart rate at the run's start, and with
 * `samples`, the watch's heart rate every 10 s across the run (starting before it, ending after
 * it), a strap app's heart rate overlapping it, running power; after the workouts in the file, the
 * walk's heart rate (from the watch; the walk was recorded on the phone) and the walk's distance
 * from the phone and from the watch, and heart rate between the workouts.
 */
export function appleSampleRecords(start: Date, samples = false): AppleSampleRecord[] {
  const s = start.getTime();
  const out: AppleSampleRecord[] = [
    { type: 'HeartRate', sourceName: 'Apple Watch', unit: 'count/min', startMs: s, endMs: s, value: '120', placement: 'before' },
  ];
  if (!samples) return out;
  const series = (type: string, sourceName: string, unit: string, fromMs: number, toMs: number, stepMs: number, lengthMs: number, value: (i: number) => string, placement: AppleSampleRecord['placement']) => {
    for (let i = 0, t = fromMs; t <= toMs; i++, t += stepMs) out.push({ type, sourceName, unit, startMs: t, endMs: t + lengthMs, value: value(i), placement });
  };
  const end = s + 1800_000;
  series('HeartRate', 'Apple Watch', 'count/min', s - 25_000, end + 25_000, 10_000, 0, (i) => String(130 + (i % 30)), 'before');
  series('HeartRate', 'Polar Flow', 'count/min', s + 60_000, s + 120_000, 2000, 0, (i) => `${150 + (i % 7)}.5`, 'before');
  series('RunningPower', 'Apple Watch', 'W', s + 20_000, end, 20_000, 0, (i) => String(240 + (i % 25)), 'before');
  series('HeartRate', 'Apple Watch', 'count/min', end + 3_600_000, end + 7_200_000, 60_000, 0, () => '64', 'before');
  const walkStart = s + 86_400_000;
  const walkEnd = walkStart + 1200_000;
  series('HeartRate', 'Apple Watch', 'count/min', walkStart - 15_000, walkEnd + 15_000, 15_000, 0, (i) => String(95 + (i % 20)), 'after');
  series('DistanceWalkingRunning', 'iPhone', 'm', walkStart, walkEnd - 60_000, 60_000, 60_000, (i) => `${72 + (i % 5)}.25`, 'after');
  series('DistanceWalkingRunning', 'Apple Watch', 'km', walkStart, walkEnd - 30_000, 30_000, 30_000, () => '0.037', 'after');
  return out.map((r) => ({ ...r, type: `HKQuantityTypeIdentifier${r.type}` }));
}

/** A small Apple Health export.zip: one run with a route, one walk without (and with `samples`, their sample records). */
export function appleHealthExport(start: Date, route: TrackPoint[], options: { samples?: boolean } = {}) {
  const end = new Date(start.getTime() + 1800_000);
  const walkStart = new Date(start.getTime() + 86_400_000);
  const walkEnd = new Date(walkStart.getTime() + 1200_000);
  const records = appleSampleRecords(start, options.samples);
  const recordsAt = (placement: AppleSampleRecord['placement']) =>
    records
      .filter((r) => r.placement === placement)
      .map((r) => ` <Record type="${r.type}" sourceName="${r.sourceName}" unit="${r.unit}" startDate="${appleDate(new Date(r.startMs))}" endDate="${appleDate(new Date(r.endMs))}" value="${r.value}"/>\n`)
      .join('');
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
]>
<HealthData locale="en_US">
 <ExportDate value="${appleDate(new Date(start.getTime() + 5 * 86_400_000))}"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01"/>
${recordsAt('before')} <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="Apple Watch" sourceVersion="10.0" creationDate="${appleDate(end)}" startDate="${appleDate(start)}" endDate="${appleDate(end)}">
  <MetadataEntry key="HKIndoorWorkout" value="0"/>
  <WorkoutEvent type="HKWorkoutEventTypePause" date="${appleDate(new Date(start.getTime() + 600_000))}" duration="0" durationUnit="min"/>
  <WorkoutEvent type="HKWorkoutEventTypeResume" date="${appleDate(new Date(start.getTime() + 660_000))}" duration="0" durationUnit="min"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="${appleDate(start)}" endDate="${appleDate(end)}" sum="5.1" unit="km"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="${appleDate(start)}" endDate="${appleDate(end)}" sum="320" unit="kcal"/>
  <WorkoutRoute sourceName="Apple Watch" creationDate="${appleDate(end)}" startDate="${appleDate(start)}" endDate="${appleDate(end)}">
   <FileReference path="/workout-routes/route_run.gpx"/>
  </WorkoutRoute>
 </Workout>
 <Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="20" durationUnit="min" sourceName="iPhone" creationDate="${appleDate(walkEnd)}" startDate="${appleDate(walkStart)}" endDate="${appleDate(walkEnd)}">
  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="${appleDate(walkStart)}" endDate="${appleDate(walkEnd)}" sum="1.5" unit="km"/>
 </Workout>
${recordsAt('after')}</HealthData>
`;
  const routeGpx = gpxDocument(start, route, 'Route');
  return {
    xml,
    zip: zip({ 'apple_health_export/export.xml': utf8(xml), 'apple_health_export/workout-routes/route_run.gpx': utf8(routeGpx) }),
  };
}
