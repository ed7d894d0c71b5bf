/**
 * DOM helpers for the GPX and TCX parsers (@xmldom/xmldom). Elements are matched by local
 * name, so a document's namespace prefixes (gpxtpx:, ns3:, none) do not matter.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { UnreadableFileError } from './types.js';

export type { Element };

export function parseXml(text: string, format: string, warnings: string[]): Document {
  if (text.trim() === '') throw new UnreadableFileError('empty file');
  let document: Document;
  let problems = 0;
  try {
    document = new DOMParser({
      locator: false,
      onError: (level, message) => {
        if (level === 'fatalError') throw new UnreadableFileError(`malformed ${format} (XML): ${firstLine(message)}`);
        if (level === 'error') problems++;
      },
    }).parseFromString(text, 'text/xml');
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof UnreadableFileError) throw cause;
    throw new UnreadableFileError(`malformed ${format} (XML): ${firstLine(String((error as Error).message ?? error))}`);
  }
  if (!document.documentElement) throw new UnreadableFileError(`malformed ${format}: no root element`);
  if (problems > 0) warnings.push(`${format}: ${problems} XML errors were repaired by the parser`);
  return document;
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/^\[xmldom [^\]]*\]\s*/, '').slice(0, 200);
}

/** Direct child elements with the given local name. */
export function children(parent: Element, localName: string): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === localName) out.push(node as Element);
  }
  return out;
}

export function child(parent: Element, localName: string): Element | undefined {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === localName) return node as Element;
  }
  return undefined;
}

/** Descendant elements with the given local name, in document order. */
export function descendants(parent: Element, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS('*', localName));
}

export function text(element: Element | undefined): string | undefined {
  const value = element?.textContent?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A decimal number as written (`Number` parsing, so "1e3" and "  42 " work; "undefined", "" do not). */
export function parseNumber(value: string | null | undefined): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

export function numberOf(element: Element | undefined): number | undefined {
  return parseNumber(text(element));
}

/**
 * GPS time's epoch, 1980-01-06: a GPX or TCX point recorded before it holds a placeholder, not a
 * time. GPSBabel writes 1901-12-13T20:45:52Z (a 32-bit time_t's minimum) for every point it has no
 * time for (`Mojstrovka.gpx` of the corpus); taken as real, the track became one instant of 1901.
 */
export const EARLIEST_RECORDED_TIME_MS = Date.UTC(1980, 0, 6);

/** What a warning says a time that parseTime refused was. */
export const UNUSABLE_TIMES = `missing, unreadable, or before ${new Date(EARLIEST_RECORDED_TIME_MS).toISOString().slice(0, 10)}, a placeholder`;

/** A recorded ISO 8601 time; undefined when missing, unparsable or a placeholder (before EARLIEST_RECORDED_TIME_MS). */
export function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= EARLIEST_RECORDED_TIME_MS ? ms : undefined;
}
