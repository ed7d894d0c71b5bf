/**
 * GPX 1.1 of one activity's position stream, with Garmin's TrackPointExtension v1 for heart rate and
 * cadence (samples at the same instant as the position fix). Pure: columns in, text chunks out, so
 * a long track is written piece by piece. The schema types hr and cad as unsignedByte: a value is
 * written rounded to a whole number when it lies in 0–255 and left out otherwise (never clamped).
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

const byTime = (columns: ValueColumns | undefined) => {
  const values = new Map<number, number>();
  if (!columns) return values;
  for (let i = 0; i < columns.timestamps.length; i++) {
    const value = columns.values[i];
    if (value !== null && value !== undefined && Number.isFinite(value) && value >= 0 && value <= 255) values.set(columns.timestamps[i]!, Math.round(value));
  }
  return values;
};

/** Points per chunk: a chunk is a few hundred KB of text at most. */
const CHUNK_POINTS = 2000;

export function* gpxChunks(activity: GpxActivity, position: PositionColumns, heartRate?: ValueColumns, cadence?: ValueColumns): Generator<string> {
  const hr = byTime(heartRate);
  const cad = byTime(cadence);
  yield GPX_OPEN +
    `<metadata><time>${activity.startTime.toISOString()}</time></metadata>\n` +
    `<trk>${activity.name ? `<name>${escapeXml(activity.name)}</name>` : ''}<type>${escapeXml(activity.activityType)}</type><trkseg>\n`;
  let chunk = '';
  for (let i = 0; i < position.timestamps.length; i++) {
    const time = position.timestamps[i]!;
    const altitude = position.altitudeM?.[i];
    let point = `<trkpt lat="${position.latitude[i]}" lon="${position.longitude[i]}">`;
    if (altitude !== null && altitude !== undefined) point += `<ele>${altitude}</ele>`;
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
