/**
 * The statistic keys the importers and provider mappers may write (DATA-MODEL §5): a closed list,
 * so that a new key is a reviewed change here (and in docs/data-model.md §5), not a string a
 * mapper invents. Each key is snake_case and ends in its unit where it has one; `unit` is the one
 * unit its value is stored in. Statistics sent through the API (`POST /activities`) are not
 * limited to this list.
 */
export const STATISTIC_KEYS = [
  // Power and work
  { key: 'avg_power_w', unit: 'W', meaning: 'Average power' },
  { key: 'max_power_w', unit: 'W', meaning: 'Maximum power' },
  { key: 'normalized_power_w', unit: 'W', meaning: 'Normalized (weighted average) power' },
  { key: 'threshold_power_w', unit: 'W', meaning: 'Functional threshold power the device used' },
  { key: 'total_work_j', unit: 'J', meaning: 'Mechanical work (FIT total_work)' },
  { key: 'work_kj', unit: 'kJ', meaning: 'Mechanical work as Strava reports it (kilojoules)' },
  // Load and effort
  { key: 'training_stress_score', unit: 'score', meaning: 'Training stress score' },
  { key: 'intensity_factor', unit: 'ratio', meaning: 'Intensity factor (normalized power / threshold power)' },
  { key: 'total_training_effect', unit: 'score', meaning: 'Aerobic training effect (0–5)' },
  { key: 'total_anaerobic_training_effect', unit: 'score', meaning: 'Anaerobic training effect (0–5)' },
  { key: 'training_load', unit: 'score', meaning: 'Training load peak (Garmin)' },
  { key: 'relative_effort', unit: 'score', meaning: 'Strava relative effort (suffer score)' },
  { key: 'workout_rpe', unit: 'score', meaning: 'Rated perceived exertion the athlete entered' },
  { key: 'avg_mets', unit: 'kcal/(kg·hr)', meaning: 'Average metabolic equivalent (HKAverageMETs)' },
  // Heart rate, breathing
  { key: 'min_heart_rate_bpm', unit: 'bpm', meaning: 'Minimum heart rate' },
  { key: 'avg_respiration_rate_brpm', unit: 'breaths/min', meaning: 'Average respiration rate' },
  // Cadence and counts
  { key: 'avg_cadence_rpm', unit: 'rpm', meaning: 'Average cadence in revolutions per minute (cycling)' },
  { key: 'max_cadence_rpm', unit: 'rpm', meaning: 'Maximum cadence in revolutions per minute (cycling)' },
  { key: 'avg_cadence_spm', unit: 'steps/min', meaning: 'Average cadence in steps per minute (both feet)' },
  { key: 'max_cadence_spm', unit: 'steps/min', meaning: 'Maximum cadence in steps per minute (both feet)' },
  { key: 'total_steps', unit: 'count', meaning: 'Steps' },
  { key: 'total_strides', unit: 'count', meaning: 'Strides (FIT total_strides)' },
  { key: 'flights_climbed', unit: 'count', meaning: 'Flights of stairs climbed' },
  { key: 'jump_count', unit: 'count', meaning: 'Jumps' },
  // Running dynamics
  { key: 'avg_stride_length_m', unit: 'm', meaning: 'Average stride length (HealthKit RunningStrideLength)' },
  { key: 'avg_step_length_mm', unit: 'mm', meaning: 'Average step length (FIT avg_step_length)' },
  { key: 'avg_vertical_oscillation_mm', unit: 'mm', meaning: 'Average vertical oscillation' },
  { key: 'avg_vertical_ratio_percent', unit: '%', meaning: 'Average vertical ratio' },
  { key: 'avg_ground_contact_time_ms', unit: 'ms', meaning: 'Average ground contact (stance) time' },
  // Swimming
  { key: 'pool_length_m', unit: 'm', meaning: 'Pool (lap) length' },
  { key: 'total_strokes', unit: 'count', meaning: 'Strokes' },
  { key: 'num_lengths', unit: 'count', meaning: 'Pool lengths, rests included' },
  { key: 'num_active_lengths', unit: 'count', meaning: 'Pool lengths swum' },
  { key: 'swolf', unit: 'score', meaning: 'Average SWOLF (strokes + seconds per length)' },
  { key: 'avg_stroke_distance_m', unit: 'm', meaning: 'Average distance per stroke' },
  { key: 'avg_strokes_per_length', unit: 'count', meaning: 'Average strokes per length' },
  // Energy, time, elevation, weather
  { key: 'basal_energy_kcal', unit: 'kcal', meaning: 'Basal energy burned during the workout' },
  { key: 'fat_energy_kcal', unit: 'kcal', meaning: 'Energy from fat (FIT total_fat_calories)' },
  { key: 'timer_time_s', unit: 's', meaning: 'Timer time (the device’s running clock)' },
  { key: 'max_elevation_m', unit: 'm', meaning: 'Highest elevation' },
  { key: 'min_elevation_m', unit: 'm', meaning: 'Lowest elevation' },
  { key: 'avg_temperature_c', unit: '°C', meaning: 'Average temperature (sensor or weather)' },
  { key: 'max_temperature_c', unit: '°C', meaning: 'Maximum temperature' },
  { key: 'min_temperature_c', unit: '°C', meaning: 'Minimum temperature' },
  { key: 'weather_humidity_percent', unit: '%', meaning: 'Relative humidity of the weather during the workout' },
] as const;

export type StatisticKey = (typeof STATISTIC_KEYS)[number]['key'];
export type StatisticUnit = (typeof STATISTIC_KEYS)[number]['unit'];

/** The unit a key's value is stored in. */
export type StatisticUnitOf<K extends StatisticKey> = Extract<(typeof STATISTIC_KEYS)[number], { key: K }>['unit'];

/** One statistic as importers and mappers produce it: a listed key with its own unit. */
export type KnownStatistic = { [K in StatisticKey]: { key: K; unit: StatisticUnitOf<K>; value: number } }[StatisticKey];

const UNITS = new Map<string, string>(STATISTIC_KEYS.map((s) => [s.key, s.unit]));

export const isStatisticKey = (key: string): key is StatisticKey => UNITS.has(key);

/** The listed unit of `key`, or undefined for a key not in the list. */
export const statisticUnit = (key: string): StatisticUnit | undefined => UNITS.get(key) as StatisticUnit | undefined;
