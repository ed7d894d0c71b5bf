export { rng } from '../../libs/testing/seeded-random.js';

/** Epoch ms from `start`, one per `stepMs` (or a random 1–10 s step, HealthKit-like, when irregular). */
export function timestamps(start: Date, count: number, options: { stepMs?: number; irregular?: () => number } = {}): number[] {
  const out: number[] = [];
  let t = start.getTime();
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += options.irregular ? 1000 + Math.floor(options.irregular() * 9001) : (options.stepMs ?? 1000);
  }
  return out;
}

/** Realistic, non-integral values in a type's range (bit-exactness needs full doubles). */
export function scalarValues(type: string, count: number, random: () => number): number[] {
  const walk = (start: number, step: number, min: number, max: number, round?: (v: number) => number) => {
    let v = start;
    return Array.from({ length: count }, () => {
      v = Math.min(max, Math.max(min, v + (random() - 0.5) * step));
      return round ? round(v) : v;
    });
  };
  switch (type) {
    case 'heart_rate':
      return walk(120, 4, 40, 200, (v) => Math.round(v * 100) / 100);
    case 'altitude':
      return walk(420, 2, -20, 3000);
    case 'speed':
      return walk(3, 0.4, 0, 20);
    case 'power':
      return walk(220, 30, 0, 1200, Math.round);
    case 'cadence':
      return walk(85, 4, 0, 200, Math.round);
    case 'distance': {
      let d = 0;
      return Array.from({ length: count }, () => (d += random() * 4));
    }
    case 'temperature':
      return walk(18.5, 0.2, -10, 40);
    default:
      throw new Error(`no generator for ${type}`);
  }
}

export function track(count: number, random: () => number) {
  let lat = 47.3769;
  let lng = 8.5417;
  let alt = 408;
  const latitude: number[] = [];
  const longitude: number[] = [];
  const altitudeM: number[] = [];
  const horizontalAccuracyM: (number | null)[] = [];
  for (let i = 0; i < count; i++) {
    lat += (random() - 0.3) * 0.00003;
    lng += (random() - 0.4) * 0.00004;
    alt += (random() - 0.5) * 0.6;
    latitude.push(lat);
    longitude.push(lng);
    altitudeM.push(alt);
    horizontalAccuracyM.push(i % 50 === 7 ? null : 3 + random() * 5);
  }
  return { latitude, longitude, altitudeM, horizontalAccuracyM };
}
