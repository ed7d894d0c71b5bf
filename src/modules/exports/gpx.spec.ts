import { describe, expect, it } from '@jest/globals';
import { decimal, gpxChunks } from './gpx.js';

const activity = { id: 'a', name: 'Run <&> "home"', activityType: 'running', startTime: new Date('2026-05-01T06:00:00Z') };
const t0 = Date.parse('2026-05-01T06:00:00Z');

describe('gpxChunks', () => {
  it('writes GPX 1.1 trkpt children in the schema’s order, with hr and cad where a sample falls at the same instant', () => {
    const gpx = [
      ...gpxChunks(
        activity,
        { timestamps: [t0, t0 + 1000, t0 + 2000], latitude: [47.1, 47.2, 47.3], longitude: [8.1, 8.2, 8.3], altitudeM: [410.5, null, 411] },
        { timestamps: [t0, t0 + 2000], values: [141.6, 300] },
        { timestamps: [t0 + 1000], values: [88] },
      ),
    ].join('');
    expect(gpx).toContain('<gpx version="1.1" creator="unified-activity-api" xmlns="http://www.topografix.com/GPX/1/1"');
    expect(gpx).toContain('<name>Run &lt;&amp;&gt; &quot;home&quot;</name><type>running</type>');
    const points = gpx.match(/<trkpt [^]*?<\/trkpt>/g)!;
    expect(points).toEqual([
      '<trkpt lat="47.1" lon="8.1"><ele>410.5</ele><time>2026-05-01T06:00:00.000Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>142</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>',
      '<trkpt lat="47.2" lon="8.2"><time>2026-05-01T06:00:01.000Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:cad>88</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>',
      // 300 bpm does not fit the schema's unsignedByte: left out, not clamped.
      '<trkpt lat="47.3" lon="8.3"><ele>411</ele><time>2026-05-01T06:00:02.000Z</time></trkpt>',
    ]);
    expect(gpx.trimEnd().endsWith('</trkseg></trk>\n</gpx>')).toBe(true);
  });

  it('leaves out what the schemas refuse: hr outside 1–255 and cad outside 0–254 once rounded; writes decimals without exponents and 180° as −180°', () => {
    const times = [t0, t0 + 1000, t0 + 2000, t0 + 3000];
    const gpx = [
      ...gpxChunks(
        activity,
        { timestamps: times, latitude: [1e-7, -90, 90, 0], longitude: [180, -180, 2e-8, 179.9999999], altitudeM: [1e-9, null, -0, 123.5] },
        { timestamps: times, values: [0, 0.4, 255, 255.5] },
        { timestamps: times, values: [254.6, 254.4, 0, -0.4] },
      ),
    ].join('');
    const points = gpx.match(/<trkpt [^]*?<\/trkpt>/g)!;
    expect(points).toEqual([
      '<trkpt lat="0.0000001" lon="-180"><ele>0.000000001</ele><time>2026-05-01T06:00:00.000Z</time></trkpt>',
      '<trkpt lat="-90" lon="-180"><time>2026-05-01T06:00:01.000Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:cad>254</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>',
      '<trkpt lat="90" lon="0.00000002"><ele>0</ele><time>2026-05-01T06:00:02.000Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>255</gpxtpx:hr><gpxtpx:cad>0</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>',
      '<trkpt lat="0" lon="179.9999999"><ele>123.5</ele><time>2026-05-01T06:00:03.000Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:cad>0</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>',
    ]);
  });

  it('decimal: the same number, in positional notation', () => {
    for (const value of [1e-7, -2.5e-9, 1.234e-12, 5e21, -1.5e25, 0.1, -0, 12345.678, 1e-300]) {
      const text = decimal(value);
      expect(text).toMatch(/^-?\d+(\.\d+)?$/);
      expect(Number(text)).toBe(Object.is(value, -0) ? 0 : value);
    }
  });

  it('hands a long track out in chunks', () => {
    const n = 5000;
    const chunks = [...gpxChunks(activity, { timestamps: Array.from({ length: n }, (_, i) => t0 + i * 1000), latitude: Array(n).fill(1), longitude: Array(n).fill(2) })];
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.join('').match(/<trkpt /g)).toHaveLength(n);
  });
});
