/**
 * The fake Strava's data: athletes and a seeded, deterministic history of activities with streams,
 * in the shapes of Strava API v3 (SummaryAthlete/DetailedAthlete, SummaryActivity, DetailedActivity,
 * StreamSet). Summaries agree with their streams (distance, elapsed time, heart-rate averages), so a
 * test can compare what the app stored with what the fake holds.
 */
import { seededRandom } from '../http.js';

export interface FakeStravaAthlete {
  id: number;
  username: string;
  firstname: string;
  lastname: string;
  city: string;
  country: string;
  sex: 'M' | 'F';
  weight: number;
  created_at: string;
}

/** The stream types of GET /activities/{id}/streams, in the order Strava lists them. */
export const STRAVA_STREAM_TYPES = ['time', 'distance', 'latlng', 'altitude', 'velocity_smooth', 'heartrate', 'cadence', 'watts', 'temp', 'moving', 'grade_smooth'] as const;
export type StravaStreamType = (typeof STRAVA_STREAM_TYPES)[number];

export type StravaStreamData = Partial<Record<StravaStreamType, unknown[]>>;

export interface FakeStravaActivity {
  id: number;
  athleteId: number;
  /** The DetailedActivity fields (the SummaryActivity is a subset of them). */
  detail: Record<string, unknown>;
  streams: StravaStreamData;
}

export function defaultStravaAthlete(id = 134815): FakeStravaAthlete {
  return { id, username: `fake_athlete_${id}`, firstname: 'Marianne', lastname: 'Teutenberg', city: 'Lausanne', country: 'Switzerland', sex: 'F', weight: 58.2, created_at: '2019-03-04T08:09:10Z' };
}

/** SummaryAthlete (resource_state 2): in the token answer. */
export function summaryAthlete(a: FakeStravaAthlete) {
  return {
    id: a.id,
    username: a.username,
    resource_state: 2,
    firstname: a.firstname,
    lastname: a.lastname,
    bio: null,
    city: a.city,
    state: null,
    country: a.country,
    sex: a.sex,
    premium: true,
    summit: true,
    created_at: a.created_at,
    updated_at: '2026-11-01T10:00:00Z',
    badge_type_id: 1,
    weight: a.weight,
    profile_medium: 'https://example.com/avatar/medium.jpg',
    profile: 'https://example.com/avatar/large.jpg',
    friend: null,
    follower: null,
  };
}

/** DetailedAthlete (resource_state 3): GET /athlete. */
export function detailedAthlete(a: FakeStravaAthlete) {
  return { ...summaryAthlete(a), resource_state: 3, follower_count: 12, friend_count: 21, measurement_preference: 'meters', ftp: 245, clubs: [], bikes: [], shoes: [] };
}

/** The SummaryActivity fields of a DetailedActivity (GET /athlete/activities lists these). */
const SUMMARY_FIELDS = [
  'id', 'resource_state', 'external_id', 'upload_id', 'upload_id_str', 'athlete', 'name', 'distance', 'moving_time', 'elapsed_time', 'total_elevation_gain', 'elev_high', 'elev_low',
  'type', 'sport_type', 'workout_type', 'start_date', 'start_date_local', 'timezone', 'utc_offset', 'location_city', 'location_state', 'location_country',
  'start_latlng', 'end_latlng', 'achievement_count', 'kudos_count', 'comment_count', 'athlete_count', 'photo_count', 'total_photo_count', 'map', 'trainer', 'commute', 'manual',
  'private', 'visibility', 'flagged', 'gear_id', 'from_accepted_tag', 'average_speed', 'max_speed', 'average_cadence', 'average_temp', 'average_watts', 'weighted_average_watts', 'kilojoules',
  'device_watts', 'has_heartrate', 'heartrate_opt_out', 'display_hide_heartrate_option', 'average_heartrate', 'max_heartrate', 'max_watts', 'pr_count', 'has_kudoed', 'suffer_score',
] as const;

export function summaryActivity(activity: FakeStravaActivity): Record<string, unknown> {
  const summary: Record<string, unknown> = Object.fromEntries(SUMMARY_FIELDS.filter((k) => k in activity.detail).map((k) => [k, activity.detail[k]]));
  summary.resource_state = 2;
  const map = activity.detail.map as { id: string; summary_polyline: string };
  summary.map = { id: map.id, summary_polyline: map.summary_polyline, resource_state: 2 };
  return summary;
}

interface SportProfile {
  sport_type: string;
  type: string;
  speed: [number, number];
  minutes: [number, number];
  outdoor: boolean;
  power: boolean;
  cadence: [number, number] | null;
  weight: number;
}

const SPORTS: SportProfile[] = [
  { sport_type: 'Run', type: 'Run', speed: [2.6, 3.8], minutes: [25, 90], outdoor: true, power: false, cadence: [80, 92], weight: 40 },
  { sport_type: 'TrailRun', type: 'Run', speed: [1.8, 2.8], minutes: [45, 180], outdoor: true, power: false, cadence: [74, 88], weight: 8 },
  { sport_type: 'Ride', type: 'Ride', speed: [6, 9.5], minutes: [45, 240], outdoor: true, power: true, cadence: [75, 95], weight: 25 },
  { sport_type: 'VirtualRide', type: 'VirtualRide', speed: [7, 10], minutes: [30, 90], outdoor: false, power: true, cadence: [80, 100], weight: 10 },
  { sport_type: 'Walk', type: 'Walk', speed: [1.1, 1.6], minutes: [20, 80], outdoor: true, power: false, cadence: [50, 60], weight: 10 },
  { sport_type: 'Swim', type: 'Swim', speed: [0.7, 1.1], minutes: [25, 60], outdoor: false, power: false, cadence: null, weight: 7 },
];

/** Options of the seeded generator. */
export interface StravaGeneratorOptions {
  count: number;
  athleteId: number;
  seed?: number;
  /** Start of the newest activity; older ones go back 1–3 days each (default 2026-11-30T06:30:00Z). */
  newestStart?: string;
  /** Seconds between stream samples (default 5, a typical smart-recording interval). */
  streamStepS?: number;
  /** First activity id (ids grow with time, newest highest; default 12000000000). */
  firstId?: number;
}

const pick = (rand: () => number, [lo, hi]: [number, number]) => lo + (hi - lo) * rand();
const POWERS = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
/** Rounds to `digits` decimals (Number(toFixed) is several times slower and this runs per sample). */
const round = (value: number, digits: number) => Math.round(value * POWERS[digits]) / POWERS[digits];

/**
 * N activities, newest first, with streams. The same options always give the same activities
 * (mulberry32 seeded per activity, so activity i does not depend on how many come after it).
 */
export function generateStravaActivities(options: StravaGeneratorOptions): FakeStravaActivity[] {
  const seed = options.seed ?? 26;
  const step = options.streamStepS ?? 5;
  const firstId = options.firstId ?? 12_000_000_000;
  const order = seededRandom(seed);
  let start = Date.parse(options.newestStart ?? '2026-11-30T06:30:00Z');
  const starts: number[] = [];
  for (let i = 0; i < options.count; i += 1) {
    starts.push(start);
    start -= Math.round((1 + 2 * order()) * 86_400) * 1000;
  }
  // Ids grow with the start time, as Strava's do: the oldest activity gets the lowest id.
  return starts.map((startMs, i) => generateActivity(seed * 100_003 + (options.count - i), firstId + (options.count - i) * 7, options.athleteId, startMs, step));
}

function totalWeight() {
  return SPORTS.reduce((sum, s) => sum + s.weight, 0);
}

function chooseSport(rand: () => number): SportProfile {
  let r = rand() * totalWeight();
  for (const sport of SPORTS) {
    r -= sport.weight;
    if (r < 0) return sport;
  }
  return SPORTS[0];
}

export function generateActivity(seed: number, id: number, athleteId: number, startMs: number, step: number): FakeStravaActivity {
  const rand = seededRandom(seed);
  const sport = chooseSport(rand);
  const elapsed = Math.round(pick(rand, sport.minutes) * 60 / step) * step;
  const baseSpeed = pick(rand, sport.speed);
  const hasHeartrate = rand() < 0.9;
  const isPrivate = rand() < 0.1;
  const pauseAt = rand() < 0.3 ? Math.round((elapsed * (0.3 + 0.4 * rand())) / step) * step : -1;
  const pauseLength = pauseAt >= 0 ? Math.round((60 + 240 * rand()) / step) * step : 0;
  const lat0 = 46.52 + rand() * 0.1;
  const lng0 = 6.6 + rand() * 0.1;
  const bearing = rand() * Math.PI * 2;
  const streams: StravaStreamData = { time: [], distance: [], velocity_smooth: [], moving: [], grade_smooth: [] };
  if (sport.outdoor) {
    streams.latlng = [];
    streams.altitude = [];
  }
  if (hasHeartrate) streams.heartrate = [];
  if (sport.cadence) streams.cadence = [];
  if (sport.power) streams.watts = [];
  if (sport.outdoor && rand() < 0.5) streams.temp = [];
  let distance = 0;
  let altitude = 380 + rand() * 200;
  const temp = Math.round(4 + rand() * 22);
  for (let t = 0; t <= elapsed; t += step) {
    const paused = pauseAt >= 0 && t > pauseAt && t <= pauseAt + pauseLength;
    const speed = paused ? 0 : Math.max(0.3, baseSpeed * (1 + 0.15 * Math.sin(t / 300) + 0.05 * (rand() - 0.5)));
    if (t > 0) distance += speed * step;
    const grade = 3 * Math.sin(t / 400);
    altitude += (speed * step * grade) / 100;
    streams.time!.push(t);
    streams.distance!.push(round(distance, 1));
    streams.velocity_smooth!.push(round(speed, 3));
    streams.moving!.push(!paused);
    streams.grade_smooth!.push(round(grade, 1));
    if (streams.latlng) {
      const metres = distance;
      streams.latlng.push([round(lat0 + (Math.cos(bearing + t / 900) * metres) / 111_320, 6), round(lng0 + (Math.sin(bearing + t / 900) * metres) / 76_000, 6)]);
      streams.altitude!.push(round(altitude, 1));
    }
    if (streams.heartrate) streams.heartrate.push(Math.round(paused ? 105 : 128 + 25 * (t / elapsed) + 6 * Math.sin(t / 120)));
    if (streams.cadence && sport.cadence) streams.cadence.push(paused ? 0 : Math.round(pick(rand, sport.cadence)));
    if (streams.watts) streams.watts.push(paused ? 0 : Math.round(160 + 60 * Math.sin(t / 180) + 30 * rand()));
    if (streams.temp) streams.temp.push(temp);
  }
  const time = streams.time as number[];
  const moving = streams.moving as boolean[];
  const movingTime = moving.filter(Boolean).length * step;
  const speeds = streams.velocity_smooth as number[];
  const hr = streams.heartrate as number[] | undefined;
  const watts = streams.watts as number[] | undefined;
  const cadence = streams.cadence as number[] | undefined;
  const alts = streams.altitude as number[] | undefined;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const startDate = new Date(startMs).toISOString().replace('.000Z', 'Z');
  const startLocal = new Date(startMs + 3_600_000).toISOString().replace('.000Z', 'Z');
  const latlng = streams.latlng as Array<[number, number]> | undefined;
  const names: Record<string, string[]> = {
    Run: ['Morning Run', 'Lunch Run', 'Tempo along the lake', 'Easy recovery'],
    TrailRun: ['Trail loop', 'Hill repeats', 'Jura trails'],
    Ride: ['Morning Ride', 'Col du Marchairuz', 'Coffee ride'],
    VirtualRide: ['Zwift - Watopia', 'Trainer intervals'],
    Walk: ['Evening Walk', 'Walk with the dog'],
    Swim: ['Pool swim', 'Lunch swim'],
  };
  const nameList = names[sport.sport_type];
  const detail: Record<string, unknown> = {
    id,
    resource_state: 3,
    external_id: `garmin_push_${id}`,
    upload_id: id * 3 + 1,
    upload_id_str: String(id * 3 + 1),
    athlete: { id: athleteId, resource_state: 1 },
    name: nameList[Math.floor(rand() * nameList.length)],
    distance: round(distance, 1),
    moving_time: movingTime,
    elapsed_time: time[time.length - 1],
    total_elevation_gain: alts ? round(alts.reduce((sum, a, i) => (i > 0 && a > alts[i - 1] ? sum + a - alts[i - 1] : sum), 0), 1) : 0,
    elev_high: alts ? Math.max(...alts) : null,
    elev_low: alts ? Math.min(...alts) : null,
    type: sport.type,
    sport_type: sport.sport_type,
    workout_type: sport.type === 'Run' ? 0 : sport.type === 'Ride' ? 10 : null,
    start_date: startDate,
    start_date_local: startLocal,
    timezone: '(GMT+01:00) Europe/Zurich',
    utc_offset: 3600,
    location_city: null,
    location_state: null,
    location_country: 'Switzerland',
    start_latlng: latlng ? latlng[0] : [],
    end_latlng: latlng ? latlng[latlng.length - 1] : [],
    achievement_count: Math.floor(rand() * 4),
    kudos_count: Math.floor(rand() * 20),
    comment_count: Math.floor(rand() * 3),
    athlete_count: 1,
    photo_count: 0,
    total_photo_count: 0,
    map: { id: `a${id}`, polyline: latlng ? `fake_polyline_${id}` : null, summary_polyline: latlng ? `fake_summary_polyline_${id}` : null, resource_state: 3 },
    trainer: !sport.outdoor && sport.sport_type !== 'Swim',
    commute: false,
    manual: false,
    private: isPrivate,
    visibility: isPrivate ? 'only_me' : 'everyone',
    flagged: false,
    gear_id: sport.type === 'Run' ? 'g1234567' : sport.power ? 'b7654321' : null,
    from_accepted_tag: false,
    average_speed: round(distance / movingTime, 3),
    max_speed: round(Math.max(...speeds), 3),
    has_heartrate: Boolean(hr),
    heartrate_opt_out: false,
    display_hide_heartrate_option: Boolean(hr),
    pr_count: 0,
    has_kudoed: false,
    description: rand() < 0.3 ? 'Felt strong today' : null,
    calories: round((distance / 1000) * (sport.power ? 30 : 65), 1),
    device_name: sport.power ? 'Garmin Edge 1040' : 'Garmin Forerunner 965',
    embed_token: `embed${id}`,
    segment_efforts: [],
    splits_metric: sport.outdoor && sport.type !== 'Ride' ? splits(streams, 1000) : [],
    splits_standard: sport.outdoor && sport.type !== 'Ride' ? splits(streams, 1609.34) : [],
    laps: laps(streams, id, startMs, sport.type === 'Ride' ? 10_000 : 1000),
    best_efforts: [],
    photos: { primary: null, count: 0 },
    hide_from_home: false,
    device_watts: Boolean(watts),
  };
  if (cadence) detail.average_cadence = round(mean(cadence.filter((c) => c > 0)), 1);
  if (streams.temp) detail.average_temp = temp;
  if (hr) {
    detail.average_heartrate = round(mean(hr), 1);
    detail.max_heartrate = Math.max(...hr);
    detail.suffer_score = Math.round((mean(hr) - 100) * (elapsed / 3600) * 1.5);
  }
  if (watts) {
    detail.average_watts = round(mean(watts), 1);
    detail.weighted_average_watts = Math.round(mean(watts) * 1.05);
    detail.max_watts = Math.max(...watts);
    detail.kilojoules = round((mean(watts) * elapsed) / 1000, 1);
  }
  return { id, athleteId, detail, streams };
}

function splits(streams: StravaStreamData, every: number) {
  const time = streams.time as number[];
  const distance = streams.distance as number[];
  const result: Array<Record<string, unknown>> = [];
  let from = 0;
  for (let i = 1; i < time.length; i += 1) {
    if (distance[i] - distance[from] >= every || i === time.length - 1) {
      const elapsed = time[i] - time[from];
      result.push({ distance: round(distance[i] - distance[from], 1), elapsed_time: elapsed, elevation_difference: 0, moving_time: elapsed, split: result.length + 1, average_speed: round((distance[i] - distance[from]) / Math.max(1, elapsed), 2), pace_zone: 0 });
      from = i;
    }
  }
  return result;
}

function laps(streams: StravaStreamData, id: number, startMs: number, every: number) {
  return splits(streams, every).map((split, i, all) => {
    const before = all.slice(0, i).reduce((s, x) => s + (x.elapsed_time as number), 0);
    return {
      id: id * 100 + i + 1,
      resource_state: 2,
      name: `Lap ${i + 1}`,
      lap_index: i + 1,
      split: i + 1,
      start_date: new Date(startMs + before * 1000).toISOString().replace('.000Z', 'Z'),
      elapsed_time: split.elapsed_time,
      moving_time: split.moving_time,
      distance: split.distance,
      average_speed: split.average_speed,
      total_elevation_gain: 0,
    };
  });
}

/**
 * GET /activities/{id}/streams: the requested keys the activity has, plus `distance` (Strava always
 * adds the series it is sampled by), keyed by type or as an array of streams with a `type`.
 */
export function streamSet(activity: FakeStravaActivity, keys: string[], keyByType: boolean, resolution?: string) {
  const wanted = new Set([...keys, 'distance']);
  const present = STRAVA_STREAM_TYPES.filter((type) => wanted.has(type) && activity.streams[type]);
  const stream = (type: StravaStreamType) => {
    const data = activity.streams[type]!;
    return { data, series_type: 'distance', original_size: data.length, resolution: resolution ?? 'high' };
  };
  if (keyByType) return Object.fromEntries(present.map((type) => [type, stream(type)]));
  return present.map((type) => ({ type, ...stream(type) }));
}
