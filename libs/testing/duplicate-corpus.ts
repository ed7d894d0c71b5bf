/**
 * A seeded corpus of one athlete's workouts as they really arrive from several sources (issue 25):
 * three years of a Garmin athlete whose watch and bike computer push to Garmin Connect, which
 * forwards every workout to Strava (and, in the last year, to Health Connect); who drops some FIT
 * files in by hand (and the odd GPX export); who wears an Apple Watch on many runs; plus the
 * workouts that are NOT copies of one another although they look alike (the hard negatives).
 *
 * Every item carries the id of the real-world workout it records (`workoutId`, the ground truth),
 * and its payload in the shape the API accepts: a sync batch item of its provider
 * (`POST /api/v1/athletes/{id}/sync/{source}/batches`, field `activities`) or a body of
 * `POST /api/v1/activities` (without `athleteId`). FIT and GPX files are sent as creates with
 * source `file` and the figures the import would have read from them (the file's sha256 as the
 * external id, `fit:running/generic` as the source type): importing thousands of real files is what
 * `bench:import` measures, not what deduplication needs.
 *
 * How the copies differ from the workout (what the detection must tolerate):
 * - Garmin push: the watch's own figures; a FIT file of it: the same figures.
 * - Strava: the same start to the second and the same elapsed time, distance ±1 %, its own type
 *   names (`Run`, `Ride`, `TrailRun`); 2 % are uploaded twice (a re-upload gets a new Strava id).
 *   Half the winter trainer rides reach Strava from Zwift instead, as `VirtualRide`: start ±90 s,
 *   up to 3 % shorter, and the virtual world's distance, ±15 % of the bike computer's.
 * - Apple Watch (HealthKit) on runs: started by hand ±40 s from the Garmin, 5 % shorter, distance ±2 %
 *   (±12 % on a treadmill, where both watches estimate it from the wrist), average heart rate ±3 bpm.
 * - Health Connect (Garmin Connect's Android sync, the last year): the same start and end, the
 *   distance, no heart rate.
 * - GPX export: the same start and end, distance ±0.3 %, no heart rate.
 *
 * Hard negatives (never the same workout): a 10-minute warm-up and the race that starts 12 minutes
 * after it; a commute ride and a run that overlaps its last 20 %; a walk the phone detects while the
 * bike computer records a ride; a brick session (multisport parent, bike and run legs; Strava gets
 * the legs as two activities, which ARE copies of the legs).
 */
import { createHash } from 'node:crypto';
import type { ActivitySource, SyncSource } from '@unified-activity/contract';
import { rng } from './seeded-random.js';

/** What the workout is, for the reports: the regular schedule or one of the hard negatives. */
export type WorkoutTag =
  | 'regular'
  | 'warmup'
  | 'race'
  | 'commute_ride'
  | 'overlapping_run'
  | 'watch_ride'
  | 'phone_walk'
  | 'brick'
  | 'brick_leg';

export type Recorder = 'garmin_watch' | 'garmin_edge' | 'apple_watch' | 'phone' | 'by_hand';

/** A real-world workout: the ground truth every copy is compared with. */
export interface Workout {
  id: string;
  /** Canonical activity-type slug. */
  activityType: string;
  startMs: number;
  durationS: number;
  distanceM: number | null;
  avgHeartRateBpm: number | null;
  maxHeartRateBpm: number | null;
  activeEnergyKcal: number;
  isIndoor: boolean;
  recordedBy: Recorder;
  tag: WorkoutTag;
  /** The session's workout id, for a leg of a brick. */
  parentId: string | null;
}

export type CopyKind = 'garmin' | 'strava' | 'strava_reupload' | 'healthkit' | 'health_connect' | 'fit_file' | 'gpx_file' | 'manual';

/** A body of POST /api/v1/activities without `athleteId` (the bench adds it). */
export interface CreateBody {
  activityType: string;
  sourceActivityType: string | null;
  source: ActivitySource;
  externalId: string;
  name: string;
  startTime: string;
  endTime: string;
  timeZone: string;
  durationS: number;
  distanceM: number | null;
  avgHeartRateBpm: number | null;
  maxHeartRateBpm: number | null;
  activeEnergyKcal: number | null;
  isIndoor: boolean;
  deviceName: string | null;
}

export type Delivery =
  /** One item of a sync batch body's `activities` for `source`. */
  | { kind: 'sync'; source: SyncSource; payload: Record<string, unknown> }
  | { kind: 'create'; body: CreateBody };

/** One copy of a workout as it arrives. */
export interface CorpusItem {
  workoutId: string;
  copy: CopyKind;
  /** The activity's `source` and `externalId` once stored: how a listed activity is traced back to its item. */
  source: ActivitySource;
  externalId: string;
  /** When the source delivers it (the bench sends items in this order, a week of arrivals at a time). */
  arrivesAtMs: number;
  delivery: Delivery;
}

export interface DuplicateCorpus {
  seed: number;
  timeZone: string;
  workouts: Workout[];
  /** In arrival order. */
  items: CorpusItem[];
}

export interface DuplicateCorpusOptions {
  seed?: number;
  /** Whole years of training from `start` (default 3). */
  years?: number;
  /** A Monday, 00:00 UTC (default 2023-01-02). */
  start?: Date;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const TIME_ZONE = 'Europe/Zurich';

/** Sport → how each source names it. */
interface Sport {
  activityType: string;
  garmin: string;
  strava: { sportType: string; trainer?: boolean };
  healthkit: { type: number; indoor?: boolean; swimmingLocation?: number };
  healthConnect: number;
  fit: string;
  /** m/s range, or null for no distance. */
  speed: [number, number] | null;
  heartRate: [number, number];
  kcalPerMinute: number;
  indoor: boolean;
}

const SPORTS = {
  run: { activityType: 'running', garmin: 'RUNNING', strava: { sportType: 'Run' }, healthkit: { type: 37 }, healthConnect: 56, fit: 'fit:running/generic', speed: [2.7, 3.4], heartRate: [138, 162], kcalPerMinute: 12, indoor: false },
  treadmill: { activityType: 'treadmill_running', garmin: 'TREADMILL_RUNNING', strava: { sportType: 'Run', trainer: true }, healthkit: { type: 37, indoor: true }, healthConnect: 57, fit: 'fit:running/treadmill', speed: [2.8, 3.4], heartRate: [140, 165], kcalPerMinute: 12, indoor: true },
  trailRun: { activityType: 'trail_running', garmin: 'TRAIL_RUNNING', strava: { sportType: 'TrailRun' }, healthkit: { type: 37 }, healthConnect: 56, fit: 'fit:running/trail', speed: [2.2, 2.9], heartRate: [140, 160], kcalPerMinute: 12, indoor: false },
  ride: { activityType: 'road_cycling', garmin: 'ROAD_BIKING', strava: { sportType: 'Ride' }, healthkit: { type: 13 }, healthConnect: 8, fit: 'fit:cycling/road', speed: [7, 9.2], heartRate: [122, 148], kcalPerMinute: 10, indoor: false },
  trainer: { activityType: 'indoor_cycling', garmin: 'INDOOR_CYCLING', strava: { sportType: 'Ride', trainer: true }, healthkit: { type: 13, indoor: true }, healthConnect: 9, fit: 'fit:cycling/indoor_cycling', speed: [8, 9.5], heartRate: [128, 152], kcalPerMinute: 11, indoor: true },
  swim: { activityType: 'pool_swimming', garmin: 'LAP_SWIMMING', strava: { sportType: 'Swim' }, healthkit: { type: 46, swimmingLocation: 1 }, healthConnect: 74, fit: 'fit:swimming/lap_swimming', speed: [0.75, 0.95], heartRate: [118, 140], kcalPerMinute: 9, indoor: true },
  strength: { activityType: 'strength_training', garmin: 'STRENGTH_TRAINING', strava: { sportType: 'WeightTraining' }, healthkit: { type: 50 }, healthConnect: 70, fit: 'fit:training/strength_training', speed: null, heartRate: [98, 122], kcalPerMinute: 6, indoor: true },
  walk: { activityType: 'walking', garmin: 'WALKING', strava: { sportType: 'Walk' }, healthkit: { type: 52 }, healthConnect: 79, fit: 'fit:walking/generic', speed: [1.2, 1.6], heartRate: [88, 108], kcalPerMinute: 4, indoor: false },
  yoga: { activityType: 'yoga', garmin: 'YOGA', strava: { sportType: 'Yoga' }, healthkit: { type: 57 }, healthConnect: 83, fit: 'fit:training/yoga', speed: null, heartRate: [78, 96], kcalPerMinute: 3, indoor: true },
  tennis: { activityType: 'tennis', garmin: 'TENNIS', strava: { sportType: 'Tennis' }, healthkit: { type: 48 }, healthConnect: 76, fit: 'fit:tennis/generic', speed: null, heartRate: [120, 145], kcalPerMinute: 8, indoor: false },
  multisport: { activityType: 'multisport', garmin: 'MULTI_SPORT', strava: { sportType: 'Workout' }, healthkit: { type: 82 }, healthConnect: 0, fit: 'fit:multisport/generic', speed: null, heartRate: [135, 155], kcalPerMinute: 11, indoor: false },
} satisfies Record<string, Sport>;
type SportName = keyof typeof SPORTS;

const sportOf = new Map<string, SportName>(Object.entries(SPORTS).map(([name, sport]) => [sport.activityType, name as SportName]));

/** Zurich's offset from UTC, close enough for a corpus: summer time from April to October. */
const zurichOffsetS = (utcMs: number) => {
  const month = new Date(utcMs).getUTCMonth();
  return month >= 3 && month <= 9 ? 7200 : 3600;
};
const offsetText = (seconds: number) => `+${String(seconds / 3600).padStart(2, '0')}:00`;
const iso = (ms: number) => new Date(ms).toISOString();
const isoSeconds = (ms: number) => new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const round1 = (value: number) => Math.round(value * 10) / 10;

/** The generator's state: the random stream and the counters that make ids unique and stable. */
class Builder {
  readonly random: () => number;
  readonly workouts: Workout[] = [];
  readonly items: CorpusItem[] = [];
  private workoutCount = 0;
  private externalCount = 0;

  constructor(seed: number) {
    this.random = rng(seed);
  }

  uniform(min: number, max: number) {
    return min + this.random() * (max - min);
  }

  int(min: number, max: number) {
    return Math.floor(this.uniform(min, max + 1));
  }

  chance(p: number) {
    return this.random() < p;
  }

  /** A fresh external id number: monotone, so ids look like a provider's. */
  nextExternal() {
    this.externalCount += 1 + this.int(0, 40);
    return this.externalCount;
  }

  hex(length: number) {
    return createHash('sha256').update(`${this.random()}:${this.externalCount++}`).digest('hex').slice(0, length);
  }

  uuid() {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
  }

  /** A workout at local wall-clock time `localMs` (a UTC instant read as Zurich time). */
  workout(sportName: SportName, localMs: number, minutes: number, recordedBy: Recorder, tag: WorkoutTag = 'regular', parentId: string | null = null): Workout {
    const sport: Sport = SPORTS[sportName];
    const startMs = Math.round((localMs - zurichOffsetS(localMs) * 1000) / 1000) * 1000;
    const durationS = Math.round(minutes * 60);
    const speed = sport.speed ? this.uniform(...sport.speed) : null;
    const avg = Math.round(this.uniform(...sport.heartRate));
    const id = parentId ? `${parentId}.${sportName}` : `w${String(++this.workoutCount).padStart(4, '0')}`;
    const workout: Workout = {
      id,
      activityType: sport.activityType,
      startMs,
      durationS,
      distanceM: speed === null ? null : round1(speed * durationS * 0.97),
      avgHeartRateBpm: avg,
      maxHeartRateBpm: avg + this.int(12, 28),
      activeEnergyKcal: Math.round(sport.kcalPerMinute * minutes * this.uniform(0.9, 1.1)),
      isIndoor: sport.indoor,
      recordedBy,
      tag,
      parentId,
    };
    this.workouts.push(workout);
    return workout;
  }

  add(workout: Workout, copy: CopyKind, arrivesAtMs: number, delivery: Delivery) {
    const source: ActivitySource = delivery.kind === 'sync' ? delivery.source : delivery.body.source;
    const externalId = delivery.kind === 'sync' ? syncExternalId(delivery) : delivery.body.externalId;
    this.items.push({ workoutId: workout.id, copy, source, externalId, arrivesAtMs: Math.round(arrivesAtMs), delivery });
  }

  // -- the copies ------------------------------------------------------------------------------

  garmin(w: Workout, options: { summaryId?: string; isParent?: boolean; parentSummaryId?: string; arrivesAtMs?: number } = {}) {
    const sport: Sport = SPORTS[sportOf.get(w.activityType)!];
    const summaryId = options.summaryId ?? String(10_000_000_000 + this.nextExternal());
    const payload: Record<string, unknown> = {
      summaryId,
      activityId: Number(summaryId.replace(/\D/g, '')) || undefined,
      activityType: sport.garmin,
      activityName: `${nameOf(w)}`,
      startTimeInSeconds: w.startMs / 1000,
      startTimeOffsetInSeconds: zurichOffsetS(w.startMs),
      durationInSeconds: w.durationS,
      ...(w.distanceM !== null ? { distanceInMeters: w.distanceM, averageSpeedInMetersPerSecond: round1((w.distanceM / w.durationS) * 100) / 100 } : {}),
      activeKilocalories: w.activeEnergyKcal,
      averageHeartRateInBeatsPerMinute: w.avgHeartRateBpm,
      maxHeartRateInBeatsPerMinute: w.maxHeartRateBpm,
      deviceName: w.recordedBy === 'garmin_edge' ? 'edge1040' : 'forerunner965',
      manual: false,
      ...(options.isParent ? { isParent: true } : {}),
      ...(options.parentSummaryId ? { parentSummaryId: options.parentSummaryId } : {}),
    };
    this.add(w, 'garmin', options.arrivesAtMs ?? endOf(w) + this.uniform(2, 10) * MINUTE, { kind: 'sync', source: 'garmin', payload });
    return summaryId;
  }

  strava(w: Workout, copy: 'strava' | 'strava_reupload' = 'strava', options: { sportType?: string; arrivesAtMs?: number } = {}) {
    const sport: Sport = SPORTS[sportOf.get(w.activityType)!];
    const id = 9_000_000_000 + this.nextExternal();
    const sportType = options.sportType ?? sport.strava.sportType;
    // A VirtualRide is Zwift's own upload: it starts when the rider starts pedalling, and its distance is the virtual world's.
    const zwift = sportType === 'VirtualRide';
    const startMs = zwift ? w.startMs + Math.round(this.uniform(-90, 90)) * 1000 : w.startMs;
    const elapsed = zwift ? Math.round(w.durationS * this.uniform(0.97, 1)) : w.durationS;
    const distance = w.distanceM === null ? 0 : round1(w.distanceM * (zwift ? this.uniform(0.85, 1.15) : this.uniform(0.99, 1.01)));
    const movingTime = Math.round(elapsed * this.uniform(0.93, 1));
    const payload: Record<string, unknown> = {
      id,
      name: nameOf(w),
      sport_type: sportType,
      type: sportType === 'TrailRun' ? 'Run' : sportType === 'VirtualRide' ? 'VirtualRide' : sportType,
      trainer: sport.strava.trainer ?? false,
      distance,
      moving_time: movingTime,
      elapsed_time: elapsed,
      total_elevation_gain: sport.indoor ? 0 : round1(this.uniform(0, 12) * (w.durationS / 600)),
      average_speed: distance > 0 ? Math.round((distance / movingTime) * 1000) / 1000 : 0,
      ...(w.avgHeartRateBpm !== null ? { has_heartrate: true, average_heartrate: round1(w.avgHeartRateBpm + this.uniform(-0.5, 0.5)), max_heartrate: w.maxHeartRateBpm } : { has_heartrate: false }),
      calories: w.activeEnergyKcal,
      start_date: isoSeconds(startMs),
      start_date_local: isoSeconds(startMs + zurichOffsetS(startMs) * 1000),
      timezone: `(GMT${offsetText(zurichOffsetS(w.startMs))}) ${TIME_ZONE}`,
      device_name: zwift ? 'Zwift' : w.recordedBy === 'apple_watch' ? 'Apple Watch Series 9' : w.recordedBy === 'garmin_edge' ? 'Garmin Edge 1040' : 'Garmin Forerunner 965',
      manual: false,
    };
    const delay = copy === 'strava_reupload' ? this.uniform(2, 20) * DAY : this.uniform(5, 40) * MINUTE;
    this.add(w, copy, options.arrivesAtMs ?? endOf(w) + delay, { kind: 'sync', source: 'strava', payload });
  }

  /** An Apple Watch workout. `exact`: it is the original recording (no jitter against the truth). */
  healthKit(w: Workout, exact = false) {
    const sport: Sport = SPORTS[sportOf.get(w.activityType)!];
    const startMs = exact ? w.startMs : w.startMs + Math.round(this.uniform(-40, 40)) * 1000;
    const durationS = exact ? w.durationS : Math.round(w.durationS * this.uniform(0.94, 0.96));
    // On a treadmill both watches estimate the distance from the wrist: they disagree by up to 12 %.
    const spread = sport.indoor ? 0.12 : 0.02;
    const distance = w.distanceM === null ? null : exact ? w.distanceM : round1(w.distanceM * this.uniform(1 - spread, 1 + spread));
    const avg = w.avgHeartRateBpm === null ? null : exact ? w.avgHeartRateBpm : w.avgHeartRateBpm + this.int(-3, 3);
    const payload: Record<string, unknown> = {
      uuid: this.uuid(),
      workoutActivityType: sport.healthkit.type,
      startDate: iso(startMs),
      endDate: iso(startMs + durationS * 1000),
      duration: durationS,
      totalEnergyBurned: { value: Math.round(w.activeEnergyKcal * (exact ? 1 : this.uniform(0.9, 1.1))), unit: 'kcal' },
      ...(distance !== null ? { totalDistance: { value: distance, unit: 'm' } } : {}),
      ...(avg !== null
        ? { statistics: [{ quantityType: 'HKQuantityTypeIdentifierHeartRate', average: { value: avg, unit: 'count/min' }, maximum: { value: avg + this.int(12, 28), unit: 'count/min' } }] }
        : {}),
      metadata: {
        HKTimeZone: TIME_ZONE,
        HKIndoorWorkout: sport.healthkit.indoor ?? sport.indoor,
        ...(sport.healthkit.swimmingLocation ? { HKSwimmingLocationType: sport.healthkit.swimmingLocation, HKLapLength: { value: 25, unit: 'm' } } : {}),
      },
      sourceRevision: { source: { name: 'Apple Watch', bundleIdentifier: 'com.apple.health.7B1E3C2A' }, version: '10.4', productType: 'Watch7,1' },
      device: { name: 'Apple Watch', manufacturer: 'Apple Inc.', model: 'Watch', hardwareVersion: 'Watch7,1', softwareVersion: '10.4' },
    };
    this.add(w, 'healthkit', endOf(w) + this.uniform(10, 300) * MINUTE, { kind: 'sync', source: 'healthkit', payload });
  }

  /** A Health Connect session: Garmin Connect's copy (`from: 'garmin'`) or the phone's own recording. */
  healthConnect(w: Workout, from: 'garmin' | 'phone') {
    const sport: Sport = SPORTS[sportOf.get(w.activityType)!];
    const offset = offsetText(zurichOffsetS(w.startMs));
    const payload: Record<string, unknown> = {
      startTime: iso(w.startMs),
      endTime: iso(endOf(w)),
      startZoneOffset: offset,
      endZoneOffset: offset,
      exerciseType: sport.healthConnect,
      title: nameOf(w),
      metadata: {
        id: this.uuid().toLowerCase(),
        dataOrigin: { packageName: from === 'garmin' ? 'com.garmin.android.apps.connectmobile' : 'com.google.android.apps.fitness' },
        device: from === 'garmin' ? { manufacturer: 'Garmin', model: 'Forerunner 965', type: 1 } : { manufacturer: 'Google', model: 'Pixel 8', type: 2 },
        recordingMethod: from === 'garmin' ? 1 : 2,
        lastModifiedTime: iso(endOf(w) + 6 * HOUR),
      },
      ...(w.distanceM !== null ? { totalDistance: { inMeters: w.distanceM } } : {}),
      totalEnergyBurned: { inKilocalories: w.activeEnergyKcal },
    };
    const arrives = from === 'garmin' ? endOf(w) + this.uniform(8, 30) * HOUR : endOf(w) + this.uniform(1, 12) * HOUR;
    this.add(w, 'health_connect', arrives, { kind: 'sync', source: 'health_connect', payload });
  }

  /** A file the athlete imports: the FIT of a Garmin recording (its own figures) or a GPX export of it. */
  file(w: Workout, format: 'fit' | 'gpx') {
    const sport: Sport = SPORTS[sportOf.get(w.activityType)!];
    const fit = format === 'fit';
    const body: CreateBody = {
      activityType: w.activityType,
      sourceActivityType: fit ? sport.fit : null,
      source: 'file',
      externalId: this.hex(64),
      name: nameOf(w),
      startTime: iso(w.startMs),
      endTime: iso(endOf(w)),
      timeZone: TIME_ZONE,
      durationS: w.durationS,
      distanceM: w.distanceM === null ? null : fit ? w.distanceM : round1(w.distanceM * this.uniform(0.997, 1.003)),
      avgHeartRateBpm: fit ? w.avgHeartRateBpm : null,
      maxHeartRateBpm: fit ? w.maxHeartRateBpm : null,
      activeEnergyKcal: fit ? w.activeEnergyKcal : null,
      isIndoor: w.isIndoor,
      deviceName: fit ? (w.recordedBy === 'garmin_edge' ? 'Edge 1040' : 'Forerunner 965') : null,
    };
    // Files are dropped in now and then: on a Sunday evening a few weeks later.
    const arrives = nextSunday(endOf(w) + this.int(0, 3) * WEEK) + 20 * HOUR;
    this.add(w, fit ? 'fit_file' : 'gpx_file', arrives, { kind: 'create', body });
  }

  manual(w: Workout) {
    const body: CreateBody = {
      activityType: w.activityType,
      sourceActivityType: null,
      source: 'manual',
      externalId: `manual-${this.hex(12)}`,
      name: nameOf(w),
      startTime: iso(w.startMs),
      endTime: iso(endOf(w)),
      timeZone: TIME_ZONE,
      durationS: w.durationS,
      distanceM: null,
      avgHeartRateBpm: null,
      maxHeartRateBpm: null,
      activeEnergyKcal: null,
      isIndoor: w.isIndoor,
      deviceName: null,
    };
    this.add(w, 'manual', endOf(w) + this.uniform(1, 48) * HOUR, { kind: 'create', body });
  }
}

const endOf = (w: Workout) => w.startMs + w.durationS * 1000;
const nextSunday = (ms: number) => {
  const day = Math.floor(ms / DAY) * DAY;
  const weekday = new Date(day).getUTCDay();
  return day + ((7 - weekday) % 7) * DAY;
};

function nameOf(w: Workout) {
  const names: Record<string, string> = {
    running: 'Run',
    treadmill_running: 'Treadmill run',
    trail_running: 'Trail run',
    road_cycling: 'Ride',
    indoor_cycling: 'Indoor ride',
    pool_swimming: 'Pool swim',
    strength_training: 'Strength',
    walking: 'Walk',
    yoga: 'Yoga',
    tennis: 'Tennis',
    multisport: 'Brick',
  };
  const label = { warmup: 'Warm-up', race: 'Race', commute_ride: 'Commute', phone_walk: 'Walk' } as Partial<Record<WorkoutTag, string>>;
  return label[w.tag] ?? names[w.activityType] ?? w.activityType;
}

function syncExternalId(delivery: Extract<Delivery, { kind: 'sync' }>) {
  const p = delivery.payload;
  switch (delivery.source) {
    case 'garmin':
      return String(p.summaryId);
    case 'strava':
      return String(p.id);
    case 'healthkit':
      return String(p.uuid);
    case 'health_connect':
      return String((p.metadata as { id: string }).id);
  }
}

/** The copies a Garmin recording gets: Garmin, Strava, now and then a FIT (or GPX) file, Health Connect in the last year. */
function garminCopies(b: Builder, w: Workout, lastYearFrom: number, options: { appleWatch?: boolean; stravaType?: string } = {}) {
  b.garmin(w);
  if (b.chance(0.97)) b.strava(w, 'strava', options.stravaType ? { sportType: options.stravaType } : {});
  if (b.chance(0.02)) b.strava(w, 'strava_reupload', options.stravaType ? { sportType: options.stravaType } : {});
  if (b.chance(0.3)) b.file(w, 'fit');
  if (b.chance(0.03)) b.file(w, 'gpx');
  if (options.appleWatch) b.healthKit(w);
  if (w.startMs >= lastYearFrom && b.chance(0.7)) b.healthConnect(w, 'garmin');
}

/** A day's local midnight (as a UTC instant read as wall-clock time) plus hours. */
const at = (dayMs: number, hours: number) => dayMs + hours * HOUR;

/**
 * Builds the corpus. The same seed gives the same corpus, byte for byte (ids, payloads, order).
 */
export function duplicateCorpus(options: DuplicateCorpusOptions = {}): DuplicateCorpus {
  const seed = options.seed ?? 25;
  const years = options.years ?? 3;
  const start = (options.start ?? new Date('2023-01-02T00:00:00Z')).getTime();
  const weeks = years * 52;
  const lastYearFrom = start + (weeks - 52) * WEEK;
  const b = new Builder(seed);
  const winter = (dayMs: number) => {
    const month = new Date(dayMs).getUTCMonth();
    return month <= 1 || month >= 10;
  };

  for (let week = 0; week < weeks; week++) {
    const monday = start + week * WEEK;
    const day = (index: number) => monday + index * DAY;
    // The Apple Watch is worn on runs in stretches: the middle year mostly, otherwise now and then.
    const appleWatchRate = week >= 52 && week < 104 ? 0.7 : 0.25;
    const hardNegative = week % 13;

    // Monday: strength.
    if (b.chance(0.6)) garminCopies(b, b.workout('strength', at(day(0), 18.5), b.uniform(40, 60), 'garmin_watch'), lastYearFrom);
    // Tuesday: intervals; tennis entered by hand some evenings.
    if (b.chance(0.85)) {
      const sport = winter(day(1)) && b.chance(0.6) ? 'treadmill' : 'run';
      garminCopies(b, b.workout(sport, at(day(1), 6.5), b.uniform(40, 60), 'garmin_watch'), lastYearFrom, { appleWatch: b.chance(appleWatchRate) });
    }
    if (b.chance(0.2)) b.manual(b.workout('tennis', at(day(1), 19), b.uniform(60, 90), 'by_hand'));
    // Wednesday: a ride after work, on the trainer in winter (Zwift: Strava calls it VirtualRide).
    if (b.chance(0.7)) {
      if (winter(day(2))) {
        const w = b.workout('trainer', at(day(2), 18), b.uniform(45, 75), 'garmin_edge');
        garminCopies(b, w, lastYearFrom, b.chance(0.5) ? { stravaType: 'VirtualRide' } : {});
      } else {
        garminCopies(b, b.workout('ride', at(day(2), 18), b.uniform(60, 100), 'garmin_edge'), lastYearFrom);
      }
    }
    // Thursday: a steady run, or a commute ride with a run that overlaps its last 20 % (hard negative).
    if (hardNegative === 4) {
      const ride = b.workout('ride', at(day(3), 17), 30, 'garmin_edge', 'commute_ride');
      garminCopies(b, ride, lastYearFrom);
      const run = b.workout('run', at(day(3), 17.4), b.uniform(30, 45), 'apple_watch', 'overlapping_run');
      b.healthKit(run, true);
      b.strava(run);
    } else if (b.chance(0.8)) {
      garminCopies(b, b.workout('run', at(day(3), 6.5), b.uniform(45, 65), 'garmin_watch'), lastYearFrom, { appleWatch: b.chance(appleWatchRate) });
    }
    // Friday: a pool swim at lunch, yoga in the evening on the Apple Watch (which forwards some to Strava).
    if (b.chance(0.45)) garminCopies(b, b.workout('swim', at(day(4), 12.25), b.uniform(35, 55), 'garmin_watch'), lastYearFrom);
    if (b.chance(0.4)) {
      const yoga = b.workout('yoga', at(day(4), 20), b.uniform(30, 60), 'apple_watch');
      b.healthKit(yoga, true);
      if (b.chance(0.3)) b.strava(yoga);
    }
    // Saturday: the long ride (trainer in winter); a brick or a ride with the phone detecting a walk (hard negatives).
    if (hardNegative === 7) {
      brick(b, at(day(5), 8));
    } else if (hardNegative === 10) {
      const ride = b.workout('ride', at(day(5), 9), b.uniform(60, 90), 'garmin_edge', 'watch_ride');
      garminCopies(b, ride, lastYearFrom);
      const walk = b.workout('walk', ride.startMs + zurichOffsetS(ride.startMs) * 1000 + b.uniform(0, 3) * MINUTE, ride.durationS / 60 - b.uniform(0, 5), 'phone', 'phone_walk');
      walk.distanceM = round1(b.uniform(2500, 5000));
      walk.avgHeartRateBpm = null;
      walk.maxHeartRateBpm = null;
      b.healthConnect(walk, 'phone');
    } else if (b.chance(0.85)) {
      const indoors = winter(day(5)) && b.chance(0.7);
      const w = indoors ? b.workout('trainer', at(day(5), 8.5), b.uniform(60, 100), 'garmin_edge') : b.workout('ride', at(day(5), 8), b.uniform(120, 240), 'garmin_edge');
      garminCopies(b, w, lastYearFrom, indoors && b.chance(0.5) ? { stravaType: 'VirtualRide' } : {});
    }
    // Sunday: the long run (a trail run a third of the time), or race day (hard negative); a walk in the afternoon.
    if (hardNegative === 12) {
      const warmup = b.workout('run', at(day(6), 9), 10, 'garmin_watch', 'warmup');
      const race = b.workout('run', at(day(6), 9.2), b.uniform(40, 95), 'garmin_watch', 'race');
      const appleWatch = b.chance(0.5);
      garminCopies(b, warmup, lastYearFrom, { appleWatch });
      garminCopies(b, race, lastYearFrom, { appleWatch });
    } else if (b.chance(0.85)) {
      const trail = b.chance(1 / 3);
      garminCopies(b, b.workout(trail ? 'trailRun' : 'run', at(day(6), 8.5), b.uniform(75, 120), 'garmin_watch'), lastYearFrom, { appleWatch: b.chance(appleWatchRate) });
    }
    if (b.chance(0.4)) garminCopies(b, b.workout('walk', at(day(6), 15), b.uniform(45, 90), 'garmin_watch'), lastYearFrom);
  }

  const items = b.items
    .map((item, order) => ({ item, order }))
    .sort((x, y) => x.item.arrivesAtMs - y.item.arrivesAtMs || x.order - y.order)
    .map(({ item }) => item);
  return { seed, timeZone: TIME_ZONE, workouts: b.workouts, items };
}

/**
 * A brick: a Garmin multisport session (the parent) with a bike leg and, after a two-minute
 * transition, a run leg. Garmin pushes the three together; Strava gets the legs as a Ride and a Run.
 */
function brick(b: Builder, localMs: number) {
  const bikeMinutes = b.uniform(60, 90);
  const runMinutes = b.uniform(20, 30);
  const session = b.workout('multisport', localMs, bikeMinutes + 2 + runMinutes, 'garmin_watch', 'brick');
  const bike = b.workout('ride', localMs, bikeMinutes, 'garmin_watch', 'brick_leg', session.id);
  const run = b.workout('run', localMs + (bikeMinutes + 2) * MINUTE, runMinutes, 'garmin_watch', 'brick_leg', session.id);
  session.distanceM = round1((bike.distanceM ?? 0) + (run.distanceM ?? 0));
  const arrives = endOf(session) + 5 * MINUTE;
  const parentId = b.garmin(session, { isParent: true, arrivesAtMs: arrives });
  b.garmin(bike, { parentSummaryId: parentId, arrivesAtMs: arrives });
  b.garmin(run, { parentSummaryId: parentId, arrivesAtMs: arrives });
  b.strava(bike);
  b.strava(run);
}

/** Counts for reports and tests. */
export function corpusCounts(corpus: DuplicateCorpus) {
  const count = <T extends string>(values: T[]) => values.reduce<Record<string, number>>((acc, v) => ((acc[v] = (acc[v] ?? 0) + 1), acc), {});
  return {
    workouts: corpus.workouts.length,
    items: corpus.items.length,
    byCopy: count(corpus.items.map((i) => i.copy)),
    bySource: count(corpus.items.map((i) => i.source)),
    byTag: count(corpus.workouts.map((w) => w.tag)),
  };
}
