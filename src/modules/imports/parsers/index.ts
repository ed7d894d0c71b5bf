/**
 * The import parsers: bytes → normalized activities (pure, no I/O). `parseFile` dispatches on
 * the sniffed format; Apple Health's export.xml is streamed by `parseAppleHealthExport`.
 */
import { parseFit } from './fit.js';
import { parseGpx } from './gpx.js';
import { parseTcx } from './tcx.js';
import { detectFormat, UnreadableFileError, type ParseResult } from './types.js';

export { parseFit } from './fit.js';
export { parseGpx } from './gpx.js';
export { parseTcx } from './tcx.js';
export { parseAppleHealthExport } from './apple-health.js';
export * from './types.js';

/**
 * Parses one FIT, GPX or TCX file (already gunzipped/unzipped). Throws UnreadableFileError
 * with the reason when the file cannot be read at all; an Apple Health export.xml must go
 * through `parseAppleHealthExport` (it is streamed, and needs its route files).
 */
export function parseFile(bytes: Uint8Array, fileName?: string): ParseResult {
  if (bytes.length === 0) throw new UnreadableFileError('empty file');
  const format = detectFormat(bytes, fileName);
  switch (format) {
    case 'fit':
      return parseFit(bytes);
    case 'gpx':
      return parseGpx(decodeText(bytes));
    case 'tcx':
      return parseTcx(decodeText(bytes));
    case 'apple_health_xml':
      throw new UnreadableFileError('an Apple Health export.xml is imported as an export (export.zip or export.xml), not as a single file');
    default:
      throw new UnreadableFileError('not a FIT, GPX, TCX or Apple Health file');
  }
}

/** XML text in the encoding its byte-order mark names (UTF-8 otherwise). */
export function decodeText(bytes: Uint8Array): string {
  let encoding = 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = 'utf-16le';
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = 'utf-16be';
  return new TextDecoder(encoding).decode(bytes).replace(/^\uFEFF/, '');
}
