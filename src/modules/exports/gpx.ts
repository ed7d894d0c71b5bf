/**
 * GPX 1.1 of one activity's position stream, with Garmin's TrackPointExtension v1 for heart rate and
 * cadence (samples at the same instant as the position fix). Pure: columns in, text chunks out, so
 * a long track is written piece by piece. Values the schemas would refuse are left out, never
 * clamped: TrackPointExtension v1 types hr as 1–255 and cad as 0–254 (whole numbers: a value is
 * rounded first). Coordinates and elevation are written as xsd:decimal (never in exponent notation),
 * and a longitude of exactly 180° as −180° (the same meridian; GPX's longitudeType excludes 180).
 */

export interface PositionColumns {
  timestamps: readonly number[];
  latitude: readonly number[];
  longitude: readonly number[];
  altitudeM?: readonly (number | null)[] | null;
}

export interface ValueColumns {
  timestamps: readonly number[];
  values: readonly (number | null)[];
}

export interface GpxActivity {
  id: string;
  name: string | null;
  activityType: string;
  startTime: Date;
}

const GPX_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<gpx version="1.1" creator="unified-activity-api" xmlns="http://www.topografix.com/GPX/1/1" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" ' +
  'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd ' +
  'http://www.garmin.com/xmlschemas/TrackPointExtension/v1 http://www8.garmin.com/xmlschemas/TrackPointExtensionv1.xsd">\n';

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The samples by instant, rounded to whole numbers, those outside [min, max] left out. */
const byTime = (columns: ValueColumns | undefined, min: number, max: number) => {
  const values = new Map<number, number>();
  if (!columns) return values;
  for (let i = 0; i < columns.timestamps.length; i++) {
    const value = columns.values[i];
    if (value === null || value === undefined || !Number.isFinite(value)) continue;
    const whole = Math.round(value);
    if (whole >= min && whole <= max) values.set(columns.timestamps[i]!, whole);
  }
  return values;
};

/** A number as xsd:decimal: JavaScript writes 1e-7 for 0.0000001, which the type does not allow. */
export function decimal(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  const [mantissa, exponentText] = text.toLowerCase().split('e') as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const [whole, fraction = ''] = (negative ? mantissa.slice(1) : mantissa).split('.') as [string, string?];
  const digits = whole + fraction;
  const point = whole.length + exponent;
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${negative ? '-' : ''}${body}`;
}

const longitude = (value: number) => decimal(value === 180 ? -180 : value);

/** Points per chunk: a chunk is a few hundred KB of text at most. */
const CHUNK_POINTS = 2000;

export function* gpxChunks(activity: GpxActivity, position: PositionColumns, heartRate?: ValueColumns, cadence?: ValueColumns): Generator<string> {
  const hr = byTime(heartRate, 1, 255);
  const cad = byTime(cadence, 0, 254);
  yield GPX_OPEN +
    `<metadata><time>${activity.startTime.toISOString()}</time></metadata>\n` +
    `<trk>${activity.name ? `<name>${escapeXml(activity.name)}</name>` : ''}<type>${escapeXml(activity.activityType)}</type><trkseg>\n`;
  let chunk = '';
  for (let i = 0; i < position.timestamps.length; i++) {
    const time = position.timestamps[i]!;
    const altitude = position.altitudeM?.[i];
    let point = `<trkpt lat="${decimal(position.latitude[i]!)}" lon="${longitude(position.longitude[i]!)}">`;
    if (altitude !== null && altitude !== undefined && Number.isFinite(altitude)) point += `<ele>${decimal(altitude)}</ele>`;
    point += `<time>${new Date(time).toISOString()}</time>`;
    const h = hr.get(time);
    const c = cad.get(time);
    if (h !== undefined || c !== undefined) {
      point += '<extensions><gpxtpx:TrackPointExtension>';
      if (h !== undefined) point += `<gpxtpx:hr>${h}</gpxtpx:hr>`;
      if (c !== undefined) point += `<gpxtpx:cad>${c}</gpxtpx:cad>`;
      point += '</gpxtpx:TrackPointExtension></extensions>';
    }
    chunk += `${point}</trkpt>\n`;
    if ((i + 1) % CHUNK_POINTS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}</trkseg></trk>\n</gpx>\n`;
}
