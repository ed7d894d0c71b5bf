/**
 * Downsampling for charts and maps ("a target point count", DATA-MODEL §10).
 *
 * Scalar streams use Largest-Triangle-Three-Buckets, which keeps the visual shape of a
 * series, then make sure the global minimum and maximum survive: a chart of heart rate
 * that hides the peak is wrong, however smooth. Positions use Ramer–Douglas–Peucker on
 * locally projected metres, which bounds how far the drawn track strays from the real one.
 */
import {
  isPositionSamples,
  type PositionSamples,
  type ScalarSamples,
  type StreamSamples,
  type StreamType,
} from './stream-types.js';

const EARTH_RADIUS_M = 6_371_008.8;
const DEG_TO_RAD = Math.PI / 180;

function assertMaxPoints(maxPoints: number): void {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new RangeError(`maxPoints must be an integer of at least 2, got ${maxPoints}`);
  }
}

function allIndices(count: number): Uint32Array {
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = i;
  return indices;
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013). Returns ascending sample indices,
 * at most maxPoints of them, always including the first and the last sample.
 */
export function lttb(timestamps: ArrayLike<number>, values: ArrayLike<number>, maxPoints: number): Uint32Array {
  assertMaxPoints(maxPoints);
  const count = timestamps.length;
  if (values.length !== count) throw new RangeError('timestamps and values differ in length');
  if (count <= maxPoints) return allIndices(count);
  if (maxPoints === 2) return Uint32Array.of(0, count - 1);

  // Offsetting x keeps the triangle areas precise; epoch milliseconds are ~1.7e12.
  const t0 = timestamps[0];
  const selected = new Uint32Array(maxPoints);
  const bucketSize = (count - 2) / (maxPoints - 2);
  let a = 0;
  selected[0] = 0;
  for (let bucket = 0; bucket < maxPoints - 2; bucket++) {
    const nextStart = Math.floor((bucket + 1) * bucketSize) + 1;
    const nextEnd = Math.min(Math.floor((bucket + 2) * bucketSize) + 1, count);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += timestamps[j] - t0;
      avgY += values[j];
    }
    const nextLength = nextEnd - nextStart;
    avgX /= nextLength;
    avgY /= nextLength;

    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.floor((bucket + 1) * bucketSize) + 1;
    const ax = timestamps[a] - t0;
    const ay = values[a];
    let bestArea = -1;
    let best = start;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (values[j] - ay) - (ax - (timestamps[j] - t0)) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    selected[bucket + 1] = best;
    a = best;
  }
  selected[maxPoints - 1] = count - 1;
  return selected;
}

/**
 * LTTB, then the global minimum and maximum forced in: each missing extreme replaces the
 * nearest selected interior sample (normally the one LTTB picked from the same bucket).
 * The count never grows and the order stays chronological. All four of first, last,
 * minimum and maximum are guaranteed from maxPoints = 4 on; below that, first and last win.
 */
export function lttbWithExtremes(timestamps: ArrayLike<number>, values: ArrayLike<number>, maxPoints: number): Uint32Array {
  const selected = lttb(timestamps, values, maxPoints);
  const count = timestamps.length;
  if (selected.length === count || count === 0) return selected;

  let minIndex = -1;
  let maxIndex = -1;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (minIndex < 0 || v < values[minIndex]) minIndex = i;
    if (maxIndex < 0 || v > values[maxIndex]) maxIndex = i;
  }
  if (minIndex < 0) return selected;

  const chosen = Array.from(selected);
  const protectedIndices = new Set<number>([0, count - 1]);
  for (const extreme of [maxIndex, minIndex]) {
    const target = values[extreme];
    const already = chosen.find((index) => values[index] === target);
    if (already !== undefined) {
      protectedIndices.add(already);
      continue;
    }
    let victim = -1;
    for (let k = 0; k < chosen.length; k++) {
      const candidate = chosen[k];
      if (protectedIndices.has(candidate)) continue;
      if (victim < 0 || Math.abs(candidate - extreme) < Math.abs(chosen[victim] - extreme)) victim = k;
    }
    if (victim < 0) continue;
    chosen[victim] = extreme;
    protectedIndices.add(extreme);
  }
  return Uint32Array.from(chosen).sort();
}

export interface TrackSimplification {
  /** Ascending sample indices, first and last included. */
  indices: Uint32Array;
  /** No dropped fix lies farther than this from the simplified track, in metres. */
  toleranceM: number;
}

/**
 * Ramer–Douglas–Peucker reduced to at most maxPoints fixes, with the smallest tolerance
 * that fits the budget. Every fix gets the tolerance below which RDP would keep it (its
 * own deviation, capped by that of the split above it); RDP(ε) keeps exactly the fixes
 * whose value exceeds ε, so sorting those values yields the tolerance directly, without
 * a search. Distances are point-to-segment, so out-and-back tracks are handled.
 */
export function simplifyTrack(
  latitude: ArrayLike<number>,
  longitude: ArrayLike<number>,
  maxPoints: number,
): TrackSimplification {
  assertMaxPoints(maxPoints);
  const count = latitude.length;
  if (longitude.length !== count) throw new RangeError('latitude and longitude differ in length');
  if (count <= maxPoints) return { indices: allIndices(count), toleranceM: 0 };

  const { x, y } = projectToMetres(latitude, longitude);
  const significance = new Float64Array(count).fill(Number.POSITIVE_INFINITY);
  // An explicit stack: recursion would overflow on tracks with millions of fixes.
  const stack: Array<[number, number, number]> = [[0, count - 1, Number.POSITIVE_INFINITY]];
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    const [first, last, cap] = top;
    if (last - first < 2) continue;
    let farthest = first + 1;
    let farthestSquared = -1;
    for (let i = first + 1; i < last; i++) {
      const d = segmentDistanceSquared(x[i], y[i], x[first], y[first], x[last], y[last]);
      if (d > farthestSquared) {
        farthestSquared = d;
        farthest = i;
      }
    }
    const value = Math.min(Math.sqrt(farthestSquared), cap);
    significance[farthest] = value;
    stack.push([first, farthest, value], [farthest, last, value]);
  }

  const interior = significance.slice(1, count - 1).sort();
  // interior is ascending; the (maxPoints - 1)-th largest is the tightest tolerance that fits.
  const toleranceM = interior[interior.length - (maxPoints - 1)];
  const indices: number[] = [0];
  for (let i = 1; i < count - 1; i++) if (significance[i] > toleranceM) indices.push(i);
  indices.push(count - 1);
  return { indices: Uint32Array.from(indices), toleranceM };
}

/** Local equirectangular projection; longitudes are unwrapped across the antimeridian. */
export function projectToMetres(latitude: ArrayLike<number>, longitude: ArrayLike<number>): { x: Float64Array; y: Float64Array } {
  const count = latitude.length;
  const x = new Float64Array(count);
  const y = new Float64Array(count);
  if (count === 0) return { x, y };
  let latSum = 0;
  for (let i = 0; i < count; i++) latSum += latitude[i];
  const cosLat = Math.cos((latSum / count) * DEG_TO_RAD);
  let unwrapped = longitude[0];
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      let step = longitude[i] - longitude[i - 1];
      if (step > 180) step -= 360;
      else if (step < -180) step += 360;
      unwrapped += step;
    }
    x[i] = EARTH_RADIUS_M * unwrapped * DEG_TO_RAD * cosLat;
    y[i] = EARTH_RADIUS_M * latitude[i] * DEG_TO_RAD;
  }
  return { x, y };
}

/** Squared distance from point p to the segment a–b (the square root is taken once per split). */
function segmentDistanceSquared(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  let t = lengthSquared === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / lengthSquared;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = px - (ax + t * dx);
  const ey = py - (ay + t * dy);
  return ex * ex + ey * ey;
}

function pick(values: Float64Array, indices: Uint32Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]];
  return out;
}

/**
 * At most maxPoints samples of the stream, in time order, first and last included; for
 * scalar streams also the global minimum and maximum. A stream that already fits is
 * returned unchanged (the same object).
 */
export function downsampleStream(type: StreamType, samples: StreamSamples, maxPoints: number): StreamSamples {
  assertMaxPoints(maxPoints);
  if ((type === 'position') !== isPositionSamples(samples)) {
    throw new TypeError(`samples do not match the ${type} stream type`);
  }
  if (samples.timestamps.length <= maxPoints) return samples;
  if (isPositionSamples(samples)) {
    const { indices } = simplifyTrack(samples.latitude, samples.longitude, maxPoints);
    const simplified: PositionSamples = {
      timestamps: pick(samples.timestamps, indices),
      latitude: pick(samples.latitude, indices),
      longitude: pick(samples.longitude, indices),
      altitudeM: samples.altitudeM === null ? null : pick(samples.altitudeM, indices),
      horizontalAccuracyM: samples.horizontalAccuracyM === null ? null : pick(samples.horizontalAccuracyM, indices),
    };
    return simplified;
  }
  const indices = lttbWithExtremes(samples.timestamps, samples.values, maxPoints);
  const reduced: ScalarSamples = { timestamps: pick(samples.timestamps, indices), values: pick(samples.values, indices) };
  return reduced;
}
