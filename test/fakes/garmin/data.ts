/**
 * The fake Garmin's data, in the shapes of the Garmin Health/Activity API pushes: activity summaries
 * (`activities`), activity details in Garmin's own nesting (`activityDetails`: summary, 1 Hz-style
 * samples, lap starts) and activity files (`activityFiles`: a callback URL to download the FIT).
 * The histories reuse the fake Strava's seeded generator, so both fakes hold realistic, agreeing
 * numbers and the same seed always gives the same activities.
 */
import { Encoder, type Mesg, Profile } from '@garmin/fitsdk';
import { type FakeStravaActivity, generateStravaActivities } from '../strava/data.js';

export interface FakeGarminActivity {
  userId: string;
  activityId: number;
  summaryId: string;
  /** The activity summary fields (no userId: that is added per push item). */
  summary: Record<string, unknown>;
  samples: Array<Record<string, number>>;
  laps: Array<{ startTimeInSeconds: number }>;
}

const ACTIVITY_TYPES: Record<string, string> = {
  Run: 'RUNNING',
  TrailRun: 'TRAIL_RUNNING',
  Ride: 'ROAD_BIKING',
  VirtualRide: 'VIRTUAL_RIDE',
  Walk: 'WALKING',
  Swim: 'LAP_SWIMMING',
};

export interface GarminGeneratorOptions {
  count: number;
  userId: string;
  seed?: number;
  newestStart?: string;
  streamStepS?: number;
}

/** N activities, newest first, deterministic for a seed. */
export function generateGarminActivities(options: GarminGeneratorOptions): FakeGarminActivity[] {
  return generateStravaActivities({ count: options.count, athleteId: 0, seed: options.seed ?? 2626, newestStart: options.newestStart, streamStepS: options.streamStepS, firstId: 21_000_000_000 }).map((a) =>
    fromGenerated(a, options.userId),
  );
}

export function fromGenerated(activity: FakeStravaActivity, userId: string): FakeGarminActivity {
  const d = activity.detail;
  const s = activity.streams;
  const start = Date.parse(d.start_date as string) / 1000;
  const activityType = ACTIVITY_TYPES[d.sport_type as string] ?? 'OTHER';
  const optional = (key: string, value: unknown) => (value === undefined || value === null ? {} : { [key]: value });
  const summary: Record<string, unknown> = {
    activityId: activity.id,
    activityName: d.name,
    activityType,
    startTimeInSeconds: start,
    startTimeOffsetInSeconds: d.utc_offset,
    durationInSeconds: d.elapsed_time,
    distanceInMeters: d.distance,
    activeKilocalories: Math.round(d.calories as number),
    averageSpeedInMetersPerSecond: d.average_speed,
    maxSpeedInMetersPerSecond: d.max_speed,
    ...optional('averageHeartRateInBeatsPerMinute', d.average_heartrate === undefined ? undefined : Math.round(d.average_heartrate as number)),
    ...optional('maxHeartRateInBeatsPerMinute', d.max_heartrate),
    ...optional('averagePowerInWatts', d.average_watts),
    ...(activityType.includes('BIKING') || activityType === 'VIRTUAL_RIDE'
      ? optional('averageBikeCadenceInRoundsPerMinute', d.average_cadence)
      : optional('averageRunCadenceInStepsPerMinute', d.average_cadence === undefined ? undefined : Math.round((d.average_cadence as number) * 2))),
    ...(s.altitude ? { totalElevationGainInMeters: d.total_elevation_gain } : {}),
    deviceName: (d.device_name as string).replace('Garmin ', '').toLowerCase().replace(/\s+/g, ''),
    manual: false,
  };
  const time = s.time as number[];
  const samples = time.map((t, i) => {
    const sample: Record<string, number> = {
      startTimeInSeconds: start + t,
      timerDurationInSeconds: t,
      clockDurationInSeconds: t,
      movingDurationInSeconds: t,
      totalDistanceInMeters: (s.distance as number[])[i],
      speedMetersPerSecond: (s.velocity_smooth as number[])[i],
    };
    if (s.latlng) {
      const [lat, lng] = (s.latlng as Array<[number, number]>)[i];
      sample.latitudeInDegree = lat;
      sample.longitudeInDegree = lng;
      sample.elevationInMeters = (s.altitude as number[])[i];
    }
    // Garmin sends 0 for a sensor the device lacks, in every sample.
    sample.heartRate = s.heartrate ? (s.heartrate[i] as number) : 0;
    sample.powerInWatts = s.watts ? (s.watts[i] as number) : 0;
    if (s.cadence) sample[activityType.includes('BIKING') || activityType === 'VIRTUAL_RIDE' ? 'bikeCadenceInRPM' : 'stepsPerMinute'] = s.cadence[i] as number;
    if (s.temp) sample.airTemperatureCelcius = s.temp[i] as number;
    return sample;
  });
  const laps = ((d.laps as Array<{ start_date: string }>) ?? []).map((lap) => ({ startTimeInSeconds: Date.parse(lap.start_date) / 1000 }));
  return { userId, activityId: activity.id, summaryId: String(activity.id), summary, samples, laps };
}

/** An `activities` push item. */
export function activityItem(a: FakeGarminActivity) {
  return { userId: a.userId, summaryId: a.summaryId, ...a.summary };
}

/** An `activityDetails` push item: Garmin nests the summary and adds samples and laps. */
export function activityDetailsItem(a: FakeGarminActivity) {
  return { userId: a.userId, summaryId: `${a.summaryId}-detail`, activityId: a.activityId, summary: { ...a.summary }, samples: a.samples, laps: a.laps };
}

/** An `activityFiles` push item: where to download the FIT. */
export function activityFileItem(a: FakeGarminActivity, callbackURL: string) {
  return {
    userId: a.userId,
    summaryId: `${a.summaryId}-file`,
    fileType: 'FIT',
    callbackURL,
    startTimeInSeconds: a.summary.startTimeInSeconds,
    activityId: a.activityId,
    activityName: a.summary.activityName,
    manual: false,
  };
}

const FIT_SPORTS: Record<string, [string, string]> = {
  RUNNING: ['running', 'generic'],
  TRAIL_RUNNING: ['running', 'trail'],
  ROAD_BIKING: ['cycling', 'road'],
  VIRTUAL_RIDE: ['cycling', 'virtualActivity'],
  WALKING: ['walking', 'generic'],
  LAP_SWIMMING: ['swimming', 'lapSwimming'],
};

/** FIT local_date_time counts seconds from 1989-12-31T00:00 (local). */
const FIT_EPOCH_S = 631_065_600;
const semicircles = (degrees: number) => Math.round((degrees * 2 ** 31) / 180);

/** The activity as a FIT activity file (file_id, records, lap, session, activity), encoded with Garmin's SDK. */
export function activityFit(a: FakeGarminActivity): Uint8Array {
  const encoder = new Encoder();
  // Fields as the Decoder names them (camelCase, Profile types); the SDK's Mesg type does not list them.
  const write = (mesgNum: number, fields: Record<string, unknown>) => encoder.onMesg(mesgNum as Mesg['mesgNum'] & number, fields as Mesg);
  const start = new Date((a.summary.startTimeInSeconds as number) * 1000);
  const duration = a.summary.durationInSeconds as number;
  const end = new Date(start.getTime() + duration * 1000);
  const [sport, subSport] = FIT_SPORTS[a.summary.activityType as string] ?? ['generic', 'generic'];
  write(Profile.MesgNum.FILE_ID, { type: 'activity', manufacturer: 'garmin', product: 4315, serialNumber: 3_400_000_000 + (a.activityId % 1_000_000), timeCreated: start });
  write(Profile.MesgNum.EVENT, { timestamp: start, event: 'timer', eventType: 'start' });
  for (const sample of a.samples) {
    const record: Record<string, unknown> = { timestamp: new Date(sample.startTimeInSeconds * 1000), distance: sample.totalDistanceInMeters, speed: sample.speedMetersPerSecond };
    if (sample.latitudeInDegree !== undefined) {
      record.positionLat = semicircles(sample.latitudeInDegree);
      record.positionLong = semicircles(sample.longitudeInDegree);
      record.altitude = sample.elevationInMeters;
    }
    if (sample.heartRate) record.heartRate = sample.heartRate;
    if (sample.powerInWatts) record.power = sample.powerInWatts;
    const cadence = sample.bikeCadenceInRPM ?? sample.stepsPerMinute;
    if (cadence !== undefined) record.cadence = cadence;
    if (sample.airTemperatureCelcius !== undefined) record.temperature = sample.airTemperatureCelcius;
    write(Profile.MesgNum.RECORD, record);
  }
  write(Profile.MesgNum.EVENT, { timestamp: end, event: 'timer', eventType: 'stopAll' });
  const totals = { totalElapsedTime: duration, totalTimerTime: duration, totalDistance: a.summary.distanceInMeters, avgHeartRate: a.summary.averageHeartRateInBeatsPerMinute, maxHeartRate: a.summary.maxHeartRateInBeatsPerMinute };
  write(Profile.MesgNum.LAP, { messageIndex: 0, timestamp: end, startTime: start, ...totals, sport, subSport });
  write(Profile.MesgNum.SESSION, { messageIndex: 0, timestamp: end, startTime: start, ...totals, sport, subSport, firstLapIndex: 0, numLaps: 1, totalCalories: a.summary.activeKilocalories });
  write(Profile.MesgNum.ACTIVITY, { timestamp: end, numSessions: 1, localTimestamp: end.getTime() / 1000 + (a.summary.startTimeOffsetInSeconds as number) - FIT_EPOCH_S, totalTimerTime: duration });
  return encoder.close();
}
