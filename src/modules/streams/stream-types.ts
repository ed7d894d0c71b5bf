/**
 * The fixed set of stream types an activity can carry (DATA-MODEL §7, §9, §10).
 *
 * Units follow the project-wide conventions of DATA-MODEL §9; conversion happens at the
 * edge (ingest, import), so every stream stored or served is already in these units.
 * The ranges are plausibility bounds for ingest validation, not physical limits: a value
 * outside them almost certainly comes from a unit mix-up or a sensor glitch.
 */

import { STREAM_TYPES, type StreamType } from '@unified-activity/contract';
import type { ScalarStreamType } from '@unified-activity/parquet-streams';

// The list is the contract's (clients validate against it too); re-exported for the server. The
// sample shapes are the codec's (libs/parquet-streams), which reads and writes exactly these.
export { STREAM_TYPES, type StreamType };
export {
  isPositionSamples,
  isStreamType,
  SCALAR_STREAM_TYPES,
  type PositionSamples,
  type ScalarSamples,
  type ScalarStreamType,
  type StreamSamples,
} from '@unified-activity/parquet-streams';

export interface ValueRange {
  /** Unit symbol, per DATA-MODEL §9. */
  unit: string;
  /** Inclusive lower plausibility bound. */
  min: number;
  /** Inclusive upper plausibility bound. */
  max: number;
}

export interface StreamTypeDescriptor extends ValueRange {
  description: string;
  /**
   * Sources usually deliver whole numbers for this type. It is only a hint: the codec
   * picks the stored physical type from the actual data, so a fractional value is kept.
   */
  integerHint?: boolean;
}

export type PositionField = 'latitude' | 'longitude' | 'altitudeM' | 'horizontalAccuracyM';

export interface PositionFieldDescriptor extends ValueRange {
  description: string;
  optional: boolean;
}

export interface PositionStreamTypeDescriptor extends StreamTypeDescriptor {
  /** Position samples have several values; each has its own unit and range. */
  fields: Readonly<Record<PositionField, PositionFieldDescriptor>>;
}

const POSITION_FIELDS: Readonly<Record<PositionField, PositionFieldDescriptor>> = {
  latitude: { unit: 'deg', min: -90, max: 90, optional: false, description: 'Latitude, decimal degrees WGS84' },
  longitude: { unit: 'deg', min: -180, max: 180, optional: false, description: 'Longitude, decimal degrees WGS84' },
  altitudeM: { unit: 'm', min: -500, max: 9000, optional: true, description: 'Altitude above mean sea level reported with the fix' },
  horizontalAccuracyM: {
    unit: 'm',
    min: 0,
    max: Number.MAX_VALUE,
    optional: true,
    description: 'Radius of uncertainty of the fix (HealthKit horizontalAccuracy)',
  },
};

export const STREAM_TYPE_DESCRIPTORS: Readonly<
  Record<ScalarStreamType, StreamTypeDescriptor> & { position: PositionStreamTypeDescriptor }
> = {
  heart_rate: { unit: 'bpm', min: 20, max: 260, integerHint: true, description: 'Heart rate, beats per minute' },
  position: {
    // The top-level range spans both coordinates; the per-field ranges are the precise ones.
    unit: 'deg',
    min: -180,
    max: 180,
    description: 'GPS fix: latitude and longitude (WGS84), optional altitude and horizontal accuracy',
    fields: POSITION_FIELDS,
  },
  altitude: { unit: 'm', min: -500, max: 9000, description: 'Altitude above mean sea level (barometric or GPS)' },
  speed: { unit: 'm/s', min: 0, max: 150, description: 'Instantaneous speed, metres per second' },
  power: { unit: 'W', min: 0, max: 5000, integerHint: true, description: 'Mechanical power, watts' },
  cadence: {
    unit: 'rpm',
    min: 0,
    max: 300,
    integerHint: true,
    description: 'Cadence: revolutions per minute (cycling) or steps per minute (running)',
  },
  distance: { unit: 'm', min: 0, max: 1e7, description: 'Cumulative distance since the start of the activity, metres' },
  temperature: { unit: '°C', min: -80, max: 70, description: 'Ambient temperature, degrees Celsius' },
};
