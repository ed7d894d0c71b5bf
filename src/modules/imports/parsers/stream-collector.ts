/** Samples collected in time order with plausibility filtering, before they become typed streams. */
import {
  STREAM_TYPE_DESCRIPTORS,
  type PositionSamples,
  type ScalarSamples,
  type ScalarStreamType,
  type StreamSamples,
  type StreamType,
} from '../../streams/stream-types.js';
import { withoutRepeatedAltitude } from '../../streams/altitude-once.js';

/** A growable Float64Array: samples are appended without boxing every number in a JS array. */
export class Column {
  data: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  /** A right-sized copy that owns its memory. */
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Samples collected in time order before they become typed arrays. */
export class StreamCollector {
  private readonly scalars = new Map<ScalarStreamType, { t: Column; v: Column; dropped: number }>();
  private position?: { t: Column; lat: Column; lon: Column; alt: Column; acc: Column; hasAlt: boolean; hasAcc: boolean; dropped: number };
  private positionDropped = 0;

  /** @param capacity expected samples per stream (e.g. the record count); only a hint. */
  constructor(private readonly capacity = 1024) {}

  /** Adds one sample; a null/undefined/NaN value is skipped, one outside the plausible range is counted and skipped. */
  add(type: ScalarStreamType, timestampMs: number, value: number | null | undefined): void {
    if (value == null || !Number.isFinite(value)) return;
    let column = this.scalars.get(type);
    if (!column) {
      column = { t: new Column(this.capacity), v: new Column(this.capacity), dropped: 0 };
      this.scalars.set(type, column);
    }
    const { min, max } = STREAM_TYPE_DESCRIPTORS[type];
    if (value < min || value > max) {
      column.dropped++;
      return;
    }
    column.t.push(timestampMs);
    column.v.push(value);
  }

  addPosition(
    timestampMs: number,
    latitude: number | null | undefined,
    longitude: number | null | undefined,
    altitudeM?: number | null,
    horizontalAccuracyM?: number | null,
  ): void {
    if (latitude == null || longitude == null || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return;
    if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
      this.positionDropped++;
      return;
    }
    const c = this.capacity;
    const p = (this.position ??= {
      t: new Column(c),
      lat: new Column(c),
      lon: new Column(c),
      alt: new Column(c),
      acc: new Column(c),
      hasAlt: false,
      hasAcc: false,
      dropped: 0,
    });
    p.t.push(timestampMs);
    p.lat.push(latitude);
    p.lon.push(longitude);
    // An implausible altitude or accuracy is a missing one: the fix itself is still good.
    const altitudeRange = STREAM_TYPE_DESCRIPTORS.position.fields.altitudeM;
    const hasAlt = altitudeM != null && Number.isFinite(altitudeM) && altitudeM >= altitudeRange.min && altitudeM <= altitudeRange.max;
    const hasAcc = horizontalAccuracyM != null && Number.isFinite(horizontalAccuracyM) && horizontalAccuracyM >= 0;
    p.alt.push(hasAlt ? altitudeM! : Number.NaN);
    p.acc.push(hasAcc ? horizontalAccuracyM! : Number.NaN);
    p.hasAlt ||= hasAlt;
    p.hasAcc ||= hasAcc;
  }

  get firstPosition(): { latitude: number; longitude: number } | undefined {
    const p = this.position;
    return p && p.t.length > 0 ? { latitude: p.lat.data[0], longitude: p.lon.data[0] } : undefined;
  }

  /** The typed streams; out-of-range drops are reported into `warnings`. */
  build(warnings: string[], label: string): Partial<Record<StreamType, StreamSamples>> {
    const streams: Partial<Record<StreamType, StreamSamples>> = {};
    for (const [type, column] of this.scalars) {
      if (column.dropped > 0) {
        const { min, max, unit } = STREAM_TYPE_DESCRIPTORS[type];
        warnings.push(`${label}: dropped ${column.dropped} ${type} samples outside ${min}–${max} ${unit}`);
      }
      if (column.t.length === 0) continue;
      const samples: ScalarSamples = { timestamps: column.t.toArray(), values: column.v.toArray() };
      streams[type] = samples;
    }
    if (this.positionDropped > 0) warnings.push(`${label}: dropped ${this.positionDropped} positions outside ±90°/±180°`);
    const p = this.position;
    if (p && p.t.length > 0) {
      const samples: PositionSamples = {
        timestamps: p.t.toArray(),
        latitude: p.lat.toArray(),
        longitude: p.lon.toArray(),
        altitudeM: p.hasAlt ? p.alt.toArray() : null,
        horizontalAccuracyM: p.hasAcc ? p.acc.toArray() : null,
      };
      // Stored once: a fix's altitude that the altitude stream holds at the same instant is not repeated here.
      streams.position = withoutRepeatedAltitude(samples, streams.altitude as ScalarSamples | undefined);
    }
    return streams;
  }
}
