/**
 * One item's exact bytes inside an archived batch body (docs/data-model.md §6): the body is kept
 * whole, and an activity records its archive key and its item's position over the body's item
 * fields (`sourceArchiveIndex`, counted in SYNC_ITEM_FIELDS order). The item is cut out of the
 * bytes as they arrived, never re-serialised, so its key order, number spelling and whitespace
 * are the client's.
 *
 * A byte scanner is enough and exact: JSON's structural characters are ASCII, and every byte of a
 * multi-byte UTF-8 character is ≥ 0x80, so none of them can be mistaken for one.
 */
import { SYNC_ITEM_FIELDS } from '@unified-activity/contract';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export class ArchivedBodyError extends Error {}

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

function skipSpace(bytes: Uint8Array, at: number): number {
  while (at < bytes.length && isSpace(bytes[at])) at++;
  return at;
}

/** From the opening quote to just past the closing one. */
function skipString(bytes: Uint8Array, at: number): number {
  for (let i = at + 1; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) i++;
    else if (bytes[i] === QUOTE) return i + 1;
  }
  throw new ArchivedBodyError('unterminated string');
}

/** From a value's first byte to just past its last one. */
function skipValue(bytes: Uint8Array, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return skipString(bytes, at);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let i = at; i < bytes.length; ) {
      const byte = bytes[i];
      if (byte === QUOTE) {
        i = skipString(bytes, i);
        continue;
      }
      if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new ArchivedBodyError('unterminated object or array');
  }
  // A number, true, false or null: up to the next delimiter.
  let i = at;
  while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== COMMA && bytes[i] !== CLOSE_OBJECT && bytes[i] !== CLOSE_ARRAY) i++;
  if (i === at) throw new ArchivedBodyError(`unexpected byte at ${at}`);
  return i;
}

function expect(bytes: Uint8Array, at: number, byte: number): number {
  if (bytes[at] !== byte) throw new ArchivedBodyError(`expected ${String.fromCharCode(byte)} at ${at}`);
  return at + 1;
}

/** [start, end) of each element of the array starting at `at`. */
function elementSpans(bytes: Uint8Array, at: number): [number, number][] {
  const spans: [number, number][] = [];
  let i = skipSpace(bytes, expect(bytes, at, OPEN_ARRAY));
  if (bytes[i] === CLOSE_ARRAY) return spans;
  for (;;) {
    const end = skipValue(bytes, i);
    spans.push([i, end]);
    i = skipSpace(bytes, end);
    if (bytes[i] === CLOSE_ARRAY) return spans;
    i = skipSpace(bytes, expect(bytes, i, COMMA));
  }
}

/**
 * The bytes of the item at `ordinal` (its position over the body's item fields, in SYNC_ITEM_FIELDS
 * order), or undefined when the body holds fewer items. A key that appears twice counts once, as
 * its last occurrence (what the JSON parser that read the batch kept).
 */
export function archivedItem(bytes: Uint8Array, ordinal: number): Uint8Array | undefined {
  const fields = new Set<string>(SYNC_ITEM_FIELDS);
  const arrays = new Map<string, [number, number][]>();
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  i = skipSpace(bytes, expect(bytes, skipSpace(bytes, i), OPEN_OBJECT));
  if (bytes[i] !== CLOSE_OBJECT) {
    for (;;) {
      const keyEnd = skipString(bytes, expect(bytes, i, QUOTE) - 1);
      const key = JSON.parse(new TextDecoder().decode(bytes.subarray(i, keyEnd))) as string;
      const valueAt = skipSpace(bytes, expect(bytes, skipSpace(bytes, keyEnd), COLON));
      const valueEnd = skipValue(bytes, valueAt);
      if (fields.has(key) && bytes[valueAt] === OPEN_ARRAY) arrays.set(key, elementSpans(bytes, valueAt));
      else arrays.delete(key);
      i = skipSpace(bytes, valueEnd);
      if (bytes[i] === CLOSE_OBJECT) break;
      i = skipSpace(bytes, expect(bytes, i, COMMA));
    }
  }
  let remaining = ordinal;
  for (const field of SYNC_ITEM_FIELDS) {
    const spans = arrays.get(field);
    if (!spans) continue;
    if (remaining < spans.length) {
      const [start, end] = spans[remaining]!;
      return bytes.subarray(start, end);
    }
    remaining -= spans.length;
  }
  return undefined;
}
