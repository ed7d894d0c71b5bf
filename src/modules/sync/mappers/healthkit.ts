/**
 * HealthKit: an HKWorkout as the mobile app serializes it (HealthKitWorkoutSchema) → the unified model.
 * The one HealthKit mapping: the Apple Health export reader (imports/parsers/apple-health.ts) turns
 * each `<Workout>` into this payload and maps it here too (docs/data-model.md §5), with the one unit
 * table of units.ts; statistic keys come from the contract's list (STATISTIC_KEYS).
 */
import { fromCanonical, toCanonical, type HealthKitQualifiers } from '../../../../libs/seed-data/activity-type-mapping.js';
import { isTimeZone, type HealthKitWorkout, type StatisticKey, type StatisticUnit } from '@unified-activity/contract';
import type { PositionSamples, ScalarSamples } from '../../streams/stream-types.js';
import { EMPTY_FIELDS, MappingError, type NormalizedActivity, type NormalizedEvent, type NormalizedFields, type NormalizedStatistic, type NormalizedStream } from './normalized.js';
import { tidy, toCelsius, toKcal, toMets, toMetres, toMetresPerSecond, toPercent, toPerMinute, toSeconds, toWatts } from './units.js';

type Path = (string | number)[];
type Quantity = { value: number; unit: string };

export interface HealthKitActivityType {
  activityType: string;
  /** The value exactly as the client sent it (raw value, Swift case or Objective-C name), as a string. */
  sourceActivityType: string;
  /** From HKIndoorWorkout, when present. */
  isIndoor?: boolean;
}

const isQuantity = (value: unknown): value is Quantity =>
  typeof value === 'object' && value !== null && typeof (value as Quantity).value === 'number' && typeof (value as Quantity).unit === 'string';

/** HKSwimmingLocationType as 0/1/2, from a number, a numeric string or a case name. */
function swimmingLocation(value: unknown): HealthKitQualifiers['swimmingLocation'] {
  if (value === 1 || value === '1' || value === 'pool') return 1;
  if (value === 2 || value === '2' || value === 'openWater' || value === 'open_water') return 2;
  return undefined;
}

function indoorFlag(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  return undefined;
}

/**
 * The canonical slug for an HKWorkoutActivityType plus its qualifying metadata (HKIndoorWorkout,
 * HKSwimmingLocationType; both the `HKIndoorWorkout` key HealthKit stores and the
 * `HKMetadataKeyIndoorWorkout` constant name are read). Pure; unknown types become `other`.
 */
export function healthKitActivityType(workoutActivityType: string | number, metadata?: Record<string, unknown> | null): HealthKitActivityType {
  const { known: _known, ...type } = resolveHealthKitActivityType(workoutActivityType, metadata);
  return type;
}

/**
 * `healthKitActivityType` plus whether the catalog knows the type (an unknown one maps to
 * `other`): the one HealthKit type mapping, shared by the sync mapper and the Apple Health
 * export import, which warns about unknown types.
 */
export function resolveHealthKitActivityType(
  workoutActivityType: string | number,
  metadata?: Record<string, unknown> | null,
): HealthKitActivityType & { known: boolean } {
  const indoor = indoorFlag(metadata?.HKIndoorWorkout ?? metadata?.HKMetadataKeyIndoorWorkout);
  const location = swimmingLocation(metadata?.HKSwimmingLocationType ?? metadata?.HKMetadataKeySwimmingLocationType);
  const match = toCanonical('healthkit', workoutActivityType, { indoor, swimmingLocation: location });
  return {
    activityType: match.slug,
    sourceActivityType: String(workoutActivityType),
    ...(indoor === undefined ? {} : { isIndoor: indoor }),
    known: match.known,
  };
}

/**
 * Back to HealthKit: the stored original when there is one (same-provider round trip, exact), else
 * the catalog's outbound value for the slug. Numbers come back as numbers.
 */
export function healthKitProviderType(activityType: string, sourceActivityType: string | null): string | number {
  if (sourceActivityType !== null && sourceActivityType !== '') {
    return /^\d+$/.test(sourceActivityType) ? Number(sourceActivityType) : sourceActivityType;
  }
  return fromCanonical('healthkit', activityType).case;
}

const EVENT_TYPES: Record<string, NormalizedEvent['eventType'] | 'pause_or_resume_request'> = {
  '1': 'pause',
  pause: 'pause',
  '2': 'resume',
  resume: 'resume',
  '3': 'lap',
  lap: 'lap',
  '4': 'marker',
  marker: 'marker',
  '5': 'motion_paused',
  motionpaused: 'motion_paused',
  '6': 'motion_resumed',
  motionresumed: 'motion_resumed',
  '7': 'segment',
  segment: 'segment',
  '8': 'pause_or_resume_request',
  pauseorresumerequest: 'pause_or_resume_request',
};

type Target = [StatisticKey, StatisticUnit];

/** HKQuantityTypeIdentifier (without prefix) → statistic keys (the contract's list, docs/data-model.md §5) per aggregate. */
const STATISTICS: Record<string, { average?: Target; minimum?: Target; maximum?: Target; sum?: Target }> = {
  HeartRate: { minimum: ['min_heart_rate_bpm', 'bpm'] },
  RunningPower: { average: ['avg_power_w', 'W'], maximum: ['max_power_w', 'W'] },
  CyclingPower: { average: ['avg_power_w', 'W'], maximum: ['max_power_w', 'W'] },
  CyclingCadence: { average: ['avg_cadence_rpm', 'rpm'], maximum: ['max_cadence_rpm', 'rpm'] },
  StepCount: { sum: ['total_steps', 'count'] },
  SwimmingStrokeCount: { sum: ['total_strokes', 'count'] },
  FlightsClimbed: { sum: ['flights_climbed', 'count'] },
  RunningStrideLength: { average: ['avg_stride_length_m', 'm'] },
  RunningVerticalOscillation: { average: ['avg_vertical_oscillation_mm', 'mm'] },
  RunningGroundContactTime: { average: ['avg_ground_contact_time_ms', 'ms'] },
  BasalEnergyBurned: { sum: ['basal_energy_kcal', 'kcal'] },
};

function convert(key: string, unit: StatisticUnit, q: Quantity, path: Path): number {
  switch (unit) {
    case 'bpm':
    case 'rpm':
      return toPerMinute(q.value, q.unit, path);
    case 'W':
      return toWatts(q.value, q.unit, path);
    case 'm':
      return toMetres(q.value, q.unit, path);
    case 'mm':
      return toMetres(q.value, q.unit, path) * 1000;
    case 's':
      return toSeconds(q.value, q.unit, path);
    case 'ms':
      return toSeconds(q.value, q.unit, path) * 1000;
    case 'kcal':
      return toKcal(q.value, q.unit, path);
    default:
      if (q.unit !== 'count') throw new MappingError(path, `${key}: expected unit count, got "${q.unit}"`);
      return q.value;
  }
}

interface Totals {
  avgHeartRateBpm: number | null;
  maxHeartRateBpm: number | null;
  activeEnergyKcal: number | null;
  distanceM: number | null;
  avgSpeedMS: number | null;
  maxSpeedMS: number | null;
  statistics: NormalizedStatistic[];
}

const DISTANCE_TYPES = ['DistanceWalkingRunning', 'DistanceCycling', 'DistanceSwimming', 'DistanceWheelchair', 'DistanceDownhillSnowSports', 'DistanceCrossCountrySkiing', 'DistanceRowing', 'DistancePaddleSports', 'DistanceSkatingSports'];

function statistics(items: HealthKitWorkout['statistics'], path: Path): Totals {
  const totals: Totals = { avgHeartRateBpm: null, maxHeartRateBpm: null, activeEnergyKcal: null, distanceM: null, avgSpeedMS: null, maxSpeedMS: null, statistics: [] };
  (items ?? []).forEach((item, index) => {
    const here = [...path, index];
    const type = item.quantityType.replace(/^HKQuantityTypeIdentifier/, '');
    if (type === 'HeartRate') {
      if (item.average) totals.avgHeartRateBpm = toPerMinute(item.average.value, item.average.unit, [...here, 'average', 'unit']);
      if (item.maximum) totals.maxHeartRateBpm = toPerMinute(item.maximum.value, item.maximum.unit, [...here, 'maximum', 'unit']);
    }
    if (type === 'ActiveEnergyBurned' && item.sum) totals.activeEnergyKcal = toKcal(item.sum.value, item.sum.unit, [...here, 'sum', 'unit']);
    if (DISTANCE_TYPES.includes(type) && item.sum) totals.distanceM = toMetres(item.sum.value, item.sum.unit, [...here, 'sum', 'unit']);
    if (/Speed$/.test(type)) {
      if (item.average) totals.avgSpeedMS = toMetresPerSecond(item.average.value, item.average.unit, [...here, 'average', 'unit']);
      if (item.maximum) totals.maxSpeedMS = toMetresPerSecond(item.maximum.value, item.maximum.unit, [...here, 'maximum', 'unit']);
    }
    const keys = STATISTICS[type];
    if (!keys) return; // kept in sourceData
    for (const aggregate of ['average', 'minimum', 'maximum', 'sum'] as const) {
      const target = keys[aggregate];
      const q = item[aggregate];
      if (!target || !q) continue;
      const [key, unit] = target;
      totals.statistics.push({ key, unit, value: tidy(convert(key, unit, q, [...here, aggregate, 'unit'])) });
    }
  });
  return totals;
}

function metadataStatistics(metadata: Record<string, unknown>, path: Path): { fields: Partial<NormalizedFields>; statistics: NormalizedStatistic[] } {
  const fields: Partial<NormalizedFields> = {};
  const out: NormalizedStatistic[] = [];
  const quantity = (key: string) => (isQuantity(metadata[key]) ? (metadata[key] as Quantity) : undefined);
  const elevation = quantity('HKElevationAscended');
  if (elevation) fields.elevationGainM = tidy(toMetres(elevation.value, elevation.unit, [...path, 'HKElevationAscended', 'unit']));
  const descended = quantity('HKElevationDescended');
  if (descended) fields.elevationLossM = tidy(toMetres(descended.value, descended.unit, [...path, 'HKElevationDescended', 'unit']));
  const avgSpeed = quantity('HKAverageSpeed');
  if (avgSpeed) fields.avgSpeedMS = tidy(toMetresPerSecond(avgSpeed.value, avgSpeed.unit, [...path, 'HKAverageSpeed', 'unit']));
  const maxSpeed = quantity('HKMaximumSpeed');
  if (maxSpeed) fields.maxSpeedMS = tidy(toMetresPerSecond(maxSpeed.value, maxSpeed.unit, [...path, 'HKMaximumSpeed', 'unit']));
  const lap = quantity('HKLapLength');
  if (lap) out.push({ key: 'pool_length_m', unit: 'm', value: tidy(toMetres(lap.value, lap.unit, [...path, 'HKLapLength', 'unit'])) });
  const temperature = quantity('HKWeatherTemperature');
  if (temperature) {
    out.push({ key: 'avg_temperature_c', unit: '°C', value: tidy(toCelsius(temperature.value, temperature.unit, [...path, 'HKWeatherTemperature', 'unit'])) });
  }
  const humidity = quantity('HKWeatherHumidity');
  if (humidity) {
    out.push({ key: 'weather_humidity_percent', unit: '%', value: tidy(toPercent(humidity.value, humidity.unit, [...path, 'HKWeatherHumidity', 'unit'])) });
  }
  const mets = quantity('HKAverageMETs');
  if (mets) out.push({ key: 'avg_mets', unit: 'kcal/(kg·hr)', value: toMets(mets.value, mets.unit, [...path, 'HKAverageMETs', 'unit']) });
  return { fields, statistics: out };
}

function mergeStatistics(...lists: NormalizedStatistic[][]): NormalizedStatistic[] {
  const byKey = new Map<string, NormalizedStatistic>();
  for (const list of lists) for (const s of list) byKey.set(s.key, s);
  return [...byKey.values()];
}

function timeZoneOf(metadata: Record<string, unknown>, path: Path): string | null {
  const zone = metadata.HKTimeZone;
  if (zone === undefined || zone === null) return null;
  if (typeof zone !== 'string' || !isTimeZone(zone)) throw new MappingError([...path, 'HKTimeZone'], 'must be an IANA time zone such as Europe/Berlin');
  return zone;
}

function checkWindow(startTime: Date, endTime: Date, path: Path): void {
  if (endTime < startTime) throw new MappingError([...path, 'endDate'], 'must not be before startDate');
}

function events(items: HealthKitWorkout['workoutEvents'], path: Path): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  (items ?? []).forEach((item, index) => {
    const kind = EVENT_TYPES[String(item.type).replace(/^HKWorkoutEventType/, '').toLowerCase()];
    if (!kind) throw new MappingError([...path, index, 'type'], `unknown HKWorkoutEventType "${item.type}"`);
    // A request to pause or resume is not itself a pause; it stays in sourceData only.
    if (kind === 'pause_or_resume_request') return;
    const endTime = item.endDate && item.endDate.getTime() !== item.startDate.getTime() ? item.endDate : null;
    out.push({ eventType: kind, startTime: item.startDate, endTime, metadata: item.metadata ?? null });
  });
  return out;
}

function leg(item: NonNullable<HealthKitWorkout['workoutActivities']>[number], path: Path): NormalizedFields {
  checkWindow(item.startDate, item.endDate, path);
  const configuration = item.workoutConfiguration;
  const metadata = item.metadata ?? {};
  const indoorByLocation = configuration.locationType === 2 || configuration.locationType === 'indoor' ? true : configuration.locationType === 3 || configuration.locationType === 'outdoor' ? false : undefined;
  const type = healthKitActivityType(configuration.activityType, {
    HKIndoorWorkout: metadata.HKIndoorWorkout ?? indoorByLocation,
    HKSwimmingLocationType: metadata.HKSwimmingLocationType ?? configuration.swimmingLocationType,
  });
  const totals = statistics(item.statistics, [...path, 'statistics']);
  const fromMetadata = metadataStatistics(metadata, [...path, 'metadata']);
  const lapLength: NormalizedStatistic[] = configuration.lapLength
    ? [{ key: 'pool_length_m', unit: 'm', value: tidy(toMetres(configuration.lapLength.value, configuration.lapLength.unit, [...path, 'workoutConfiguration', 'lapLength', 'unit'])) }]
    : [];
  return {
    ...EMPTY_FIELDS,
    activityType: type.activityType,
    sourceActivityType: type.sourceActivityType,
    isIndoor: type.isIndoor ?? null,
    startTime: item.startDate,
    endTime: item.endDate,
    durationS: item.duration ?? (item.endDate.getTime() - item.startDate.getTime()) / 1000,
    avgHeartRateBpm: totals.avgHeartRateBpm,
    maxHeartRateBpm: totals.maxHeartRateBpm,
    activeEnergyKcal: totals.activeEnergyKcal === null ? null : tidy(totals.activeEnergyKcal),
    distanceM: totals.distanceM === null ? null : tidy(totals.distanceM),
    avgSpeedMS: fromMetadata.fields.avgSpeedMS ?? totals.avgSpeedMS,
    maxSpeedMS: fromMetadata.fields.maxSpeedMS ?? totals.maxSpeedMS,
    elevationGainM: fromMetadata.fields.elevationGainM ?? null,
    elevationLossM: fromMetadata.fields.elevationLossM ?? null,
    statistics: mergeStatistics(totals.statistics, fromMetadata.statistics, lapLength),
    events: events(item.workoutEvents, [...path, 'workoutEvents']),
  };
}

function route(items: HealthKitWorkout['route']): NormalizedStream[] {
  if (!items || items.length === 0) return [];
  const samples: PositionSamples = {
    timestamps: Float64Array.from(items, (p) => p.timestamp.getTime()),
    latitude: Float64Array.from(items, (p) => p.latitude),
    longitude: Float64Array.from(items, (p) => p.longitude),
    altitudeM: items.some((p) => typeof p.altitude === 'number') ? Float64Array.from(items, (p) => p.altitude ?? Number.NaN) : null,
    // CoreLocation reports a negative accuracy for an invalid fix.
    horizontalAccuracyM: items.some((p) => typeof p.horizontalAccuracy === 'number')
      ? Float64Array.from(items, (p) => (typeof p.horizontalAccuracy === 'number' && p.horizontalAccuracy >= 0 ? p.horizontalAccuracy : Number.NaN))
      : null,
  };
  return [{ type: 'position', samples, path: ['route'] }];
}

function heartRate(items: HealthKitWorkout['heartRateSamples'], path: Path): NormalizedStream[] {
  if (!items || items.length === 0) return [];
  const sorted = items.map((s, index) => ({ s, index })).sort((a, b) => a.s.startDate.getTime() - b.s.startDate.getTime());
  const samples: ScalarSamples = {
    timestamps: Float64Array.from(sorted, ({ s }) => s.startDate.getTime()),
    values: Float64Array.from(sorted, ({ s, index }) => toPerMinute(s.value, s.unit ?? 'count/min', [...path, index, 'unit'])),
  };
  return [{ type: 'heart_rate', samples, path }];
}

export function mapHealthKitWorkout(workout: HealthKitWorkout): NormalizedActivity {
  checkWindow(workout.startDate, workout.endDate, []);
  const metadata = workout.metadata ?? {};
  const type = healthKitActivityType(workout.workoutActivityType, metadata);
  const totals = statistics(workout.statistics, ['statistics']);
  const fromMetadata = metadataStatistics(metadata, ['metadata']);
  const energy = workout.totalEnergyBurned ? toKcal(workout.totalEnergyBurned.value, workout.totalEnergyBurned.unit, ['totalEnergyBurned', 'unit']) : totals.activeEnergyKcal;
  const distance = workout.totalDistance ? toMetres(workout.totalDistance.value, workout.totalDistance.unit, ['totalDistance', 'unit']) : totals.distanceM;
  const strokes: NormalizedStatistic[] = workout.totalSwimmingStrokeCount ? [{ key: 'total_strokes', unit: 'count', value: workout.totalSwimmingStrokeCount.value }] : [];
  const flights: NormalizedStatistic[] = workout.totalFlightsClimbed ? [{ key: 'flights_climbed', unit: 'count', value: workout.totalFlightsClimbed.value }] : [];
  const brand = typeof metadata.HKWorkoutBrandName === 'string' ? metadata.HKWorkoutBrandName : null;
  const device = workout.device?.name ?? workout.sourceRevision?.source?.name ?? null;
  return {
    ...EMPTY_FIELDS,
    externalId: workout.uuid,
    parentExternalId: null,
    activityType: type.activityType,
    sourceActivityType: type.sourceActivityType,
    isIndoor: type.isIndoor ?? null,
    name: brand,
    startTime: workout.startDate,
    endTime: workout.endDate,
    timeZone: timeZoneOf(metadata, ['metadata']),
    durationS: workout.duration ?? (workout.endDate.getTime() - workout.startDate.getTime()) / 1000,
    distanceM: distance === null ? null : tidy(distance),
    activeEnergyKcal: energy === null ? null : tidy(energy),
    avgHeartRateBpm: totals.avgHeartRateBpm,
    maxHeartRateBpm: totals.maxHeartRateBpm,
    avgSpeedMS: fromMetadata.fields.avgSpeedMS ?? totals.avgSpeedMS,
    maxSpeedMS: fromMetadata.fields.maxSpeedMS ?? totals.maxSpeedMS,
    elevationGainM: fromMetadata.fields.elevationGainM ?? null,
    elevationLossM: fromMetadata.fields.elevationLossM ?? null,
    deviceName: device,
    statistics: mergeStatistics(totals.statistics, strokes, flights, fromMetadata.statistics),
    events: events(workout.workoutEvents, ['workoutEvents']),
    children: (workout.workoutActivities ?? []).map((item, index) => leg(item, ['workoutActivities', index])),
    streams: [...route(workout.route), ...heartRate(workout.heartRateSamples, ['heartRateSamples'])],
  };
}
