/**
 * A seeded synthetic GPS walk at 2.5–4 m/s with ~0.1 m of receiver noise in full double precision
 * (the low mantissa bits are as random as a real fix's), shared by the codec tests and the codec
 * benchmark. `withAccuracy` also draws a horizontal accuracy per fix; it changes the random
 * sequence, so each caller keeps the data its recorded numbers were measured on.
 */
export function gpsTrack(count: number, random: () => number, options: { withAccuracy?: boolean } = {}) {
  const latitude = new Float64Array(count);
  const longitude = new Float64Array(count);
  const altitudeM = new Float64Array(count);
  const horizontalAccuracyM = new Float64Array(count);
  let lat = 47.376887;
  let lng = 8.541694;
  let heading = 0.3;
  let alt = 412.5;
  for (let i = 0; i < count; i++) {
    heading += (random() - 0.5) * 0.2;
    const metres = 2.5 + random() * 1.5;
    lat += (metres * Math.cos(heading)) / 111_320;
    lng += (metres * Math.sin(heading)) / (111_320 * Math.cos((lat * Math.PI) / 180));
    alt += (random() - 0.5) * 0.8;
    latitude[i] = lat + (random() - 0.5) * 2e-6;
    longitude[i] = lng + (random() - 0.5) * 2e-6;
    altitudeM[i] = alt;
    if (options.withAccuracy) horizontalAccuracyM[i] = 3 + random() * 12;
  }
  return { latitude, longitude, altitudeM, horizontalAccuracyM };
}
