/**
 * Reads the JSON body of a stream upload (`{ timestamps, values }` or the position columns) chunk by
 * chunk, as it arrives, straight into Float64Arrays: no 2,000,000-element JS arrays and no 100 MiB
 * string are ever built, and no step holds the event loop longer than one network chunk.
 *
 * Only the shape every client sends takes this path (a "regular" body): one object whose members are
 * the known columns, each an array of JSON numbers (timestamps may also be short date-time strings,
 * the two optional position columns may hold null). Anything else — another top-level value, an
 * unknown or repeated member, a column that is not an array, an element of the wrong type — makes the
 * body "irregular": the scanner still checks the JSON syntax, and hands back a JSON text equal in
 * meaning to the body (same members and element values, in order, whitespace dropped), which the
 * caller parses with Fastify's default parser so that the contract's validation answers exactly as it
 * does for a small body. Syntax errors are thrown as they are found.
 *
 * Numbers are bit-exact: up to 15 significant digits without an exponent, the value is the exact
 * integer mantissa divided by an exact power of ten (one correctly rounded IEEE division, the value
 * JSON.parse gives); any other number is converted by Number() from its text, which is the same
 * conversion JSON.parse uses.
 */
import { isCleanText, parseDateTime } from '@unified-activity/contract';
import { MAX_SAMPLES } from '../stream-samples.js';

export const COLUMN_NAMES = ['timestamps', 'values', 'latitude', 'longitude', 'altitudeM', 'horizontalAccuracyM'] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

const NULLABLE: ReadonlySet<string> = new Set(['altitudeM', 'horizontalAccuracyM']);
/** The contract's limit on a timestamp string (text({ max: 40 })). */
const MAX_TIMESTAMP_LENGTH = 40;
/** A string of more raw bytes than this decodes to more than 40 UTF-16 units (an escape is ≤ 6 bytes a unit). */
const MAX_TIMESTAMP_RAW_BYTES = 6 * MAX_TIMESTAMP_LENGTH;

/** The body's columns: every element of each, stored up to MAX_SAMPLES (counted beyond). */
export interface ScannedColumns {
  /** Exact-size arrays (the first MAX_SAMPLES elements when a column is longer). */
  arrays: Partial<Record<ColumnName, Float64Array>>;
  /** Elements in each column, also beyond MAX_SAMPLES. */
  lengths: Partial<Record<ColumnName, number>>;
}

export type ScanResult = { kind: 'columns'; columns: ScannedColumns } | { kind: 'irregular'; json: string };

/** Invalid JSON: answered like Fastify's own parse error (400, "The body is not valid JSON"). */
export class JsonSyntaxError extends SyntaxError {
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'SyntaxError';
  }
}

const enum State {
  RootStart,
  ObjectFirstKey,
  ObjectKey,
  Key,
  Colon,
  MemberValue,
  ArrayFirst,
  ArrayElement,
  ArrayAfter,
  ObjectAfter,
  Number,
  ElementString,
  Literal,
  Raw,
  End,
}

const enum NumberPart {
  Sign,
  Zero,
  Integer,
  Dot,
  Fraction,
  E,
  ExponentSign,
  Exponent,
}

const BOM = [0xef, 0xbb, 0xbf];
const isWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;
/** Exact powers of ten (10^0 … 10^22 are exact doubles). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** A growable Float64Array that ends exact-size (so its buffer can be moved to a worker). */
class ColumnBuilder {
  private data: Float64Array;
  length = 0;
  /** Elements that are not numbers of this column (index, raw JSON text): they make the body irregular. */
  readonly exceptions: { index: number; raw: string }[] = [];
  /** Timestamp strings that are no date-time (stored as NaN): the raw text, for an irregular body's text. */
  readonly unparsed = new Map<number, string>();

  constructor(
    readonly name: string,
    readonly nullable: boolean,
    capacity: number,
  ) {
    this.data = new Float64Array(capacity);
  }

  push(value: number): void {
    const index = this.length++;
    if (index >= MAX_SAMPLES) return;
    if (index === this.data.length) {
      const grown = new Float64Array(Math.min(MAX_SAMPLES, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data[index] = value;
  }

  finish(): Float64Array {
    const stored = Math.min(this.length, MAX_SAMPLES);
    if (stored === this.data.length) return this.data;
    // One copy of the used part; the untouched rest of the estimate was never resident.
    return this.data.slice(0, stored);
  }

  /** The column as JSON text (an irregular body only: the contract's validation then reads it). */
  text(): string {
    const parts: string[] = new Array<string>(this.length);
    const data = this.data;
    for (let i = 0; i < this.length; i++) {
      const value = data[i]!;
      parts[i] = Number.isNaN(value) ? (this.unparsed.get(i) ?? 'null') : Object.is(value, -0) ? '-0' : String(value);
    }
    for (const { index, raw } of this.exceptions) parts[index] = raw;
    return `[${parts.join(',')}]`;
  }
}

interface Member {
  rawKey: string;
  column?: ColumnBuilder;
  raw?: string;
}

/** Bytes collected across chunks (a token or a raw value that spans them). */
class ByteParts {
  private parts: Buffer[] = [];
  size = 0;
  add(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.size += to - from;
  }
  take(chunk?: Buffer, from = 0, to = 0): Buffer {
    if (chunk && to > from) this.parts.push(chunk.subarray(from, to));
    const joined = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    return joined;
  }
}

export class StreamColumnsScanner {
  private state = State.RootStart;
  private bytesSeen = 0;
  private bomBytes = 0;
  private readonly members: Member[] = [];
  private irregular = false;
  private rootRaw = false;
  /** The column whose array is being read. */
  private column: ColumnBuilder | undefined;
  private readonly columns = new Map<string, ColumnBuilder>();

  // The token being read (a key, number, string or literal); `tokenStart` is its first byte in the current chunk.
  private tokenStart = 0;
  private readonly token = new ByteParts();
  private escaped = false;
  private plainString = true;

  // Number parsing: the fast path's exact mantissa, or the text for Number().
  private part = NumberPart.Sign;
  private negative = false;
  private mantissa = 0;
  private digits = 0;
  private fractionDigits = 0;
  private slowNumber = false;

  // A raw value (kept as text): depth of brackets, inside a string, its first byte, where it goes when done.
  private rawDepth = 0;
  private rawInString = false;
  private rawEscaped = false;
  private rawScalar = false;
  private rawReturn = State.End;
  private rawForElement = false;

  /**
   * @param sizeHint the body's declared size (content-length): columns start with a capacity no
   *   column of that body can exceed, so a 2,000,000-sample upload fills them without regrowing.
   */
  constructor(private readonly sizeHint?: number) {}

  write(chunk: Buffer): void {
    const length = chunk.length;
    let i = 0;
    const base = this.bytesSeen;
    this.bytesSeen += length;
    this.tokenStart = 0;
    while (i < length) {
      const byte = chunk[i]!;
      switch (this.state) {
        case State.Number: {
          if (this.numberByte(byte)) {
            i++;
            continue;
          }
          this.endNumber(chunk, i);
          continue; // the byte after the number is read in ArrayAfter
        }
        case State.ArrayAfter:
          i++;
          if (isWhitespace(byte)) continue;
          if (byte === 0x2c) this.state = State.ArrayElement;
          else if (byte === 0x5d) this.endArray();
          else this.syntax(byte);
          continue;
        case State.ArrayElement:
        case State.ArrayFirst:
          if (isWhitespace(byte)) {
            i++;
            continue;
          }
          if (byte === 0x5d && this.state === State.ArrayFirst) {
            i++;
            this.endArray();
            continue;
          }
          i = this.startElement(chunk, i, byte);
          continue;
        case State.ElementString:
        case State.Key:
          i = this.stringBytes(chunk, i);
          continue;
        case State.Literal:
          if (byte >= 0x61 && byte <= 0x7a) {
            i++;
            if (this.token.size + (i - this.tokenStart) > 5) this.syntax(byte);
            continue;
          }
          this.endLiteral(chunk, i);
          continue;
        case State.Raw:
          i = this.rawBytes(chunk, i);
          continue;
        case State.RootStart:
          // A byte-order mark is skipped, as Fastify's parser does; half a mark is not JSON.
          if (base + i < 3 && this.bomBytes === base + i && byte === BOM[base + i]) {
            this.bomBytes++;
            i++;
            continue;
          }
          if (this.bomBytes % 3 !== 0) this.syntax(byte);
          if (isWhitespace(byte)) i++;
          else if (byte === 0x7b) {
            this.state = State.ObjectFirstKey;
            i++;
          } else this.startRaw(chunk, i, State.End, false, true);
          continue;
        case State.ObjectFirstKey:
        case State.ObjectKey:
          i++;
          if (isWhitespace(byte)) continue;
          if (byte === 0x22) this.startString(chunk, i, State.Key);
          else if (byte === 0x7d && this.state === State.ObjectFirstKey) this.state = State.End;
          else this.syntax(byte);
          continue;
        case State.Colon:
          i++;
          if (isWhitespace(byte)) continue;
          if (byte === 0x3a) this.state = State.MemberValue;
          else this.syntax(byte);
          continue;
        case State.MemberValue: {
          if (isWhitespace(byte)) {
            i++;
            continue;
          }
          const member = this.members[this.members.length - 1]!;
          const name = member.rawKey;
          if (byte === 0x5b && (COLUMN_NAMES as readonly string[]).includes(name) && !this.columns.has(name)) {
            const column = new ColumnBuilder(name, NULLABLE.has(name), this.initialCapacity());
            this.columns.set(name, column);
            member.column = column;
            this.column = column;
            this.state = State.ArrayFirst;
            i++;
          } else {
            this.irregular = true;
            this.startRaw(chunk, i, State.ObjectAfter, false);
          }
          continue;
        }
        case State.ObjectAfter:
          i++;
          if (isWhitespace(byte)) continue;
          if (byte === 0x2c) this.state = State.ObjectKey;
          else if (byte === 0x7d) this.state = State.End;
          else this.syntax(byte);
          continue;
        case State.End:
          i++;
          if (!isWhitespace(byte)) this.syntax(byte);
          continue;
      }
    }
    // A token still open at the end of the chunk continues in the next one.
    if (this.state === State.Number || this.state === State.ElementString || this.state === State.Key || this.state === State.Literal) {
      this.token.add(chunk, this.tokenStart, length);
    } else if (this.state === State.Raw) {
      this.token.add(chunk, this.tokenStart, length);
    }
  }

  /** The body has ended: its columns, or the text to validate in the regular way. */
  end(): ScanResult {
    if (this.state === State.Raw && this.rawScalar && this.rawReturn === State.End) this.endRaw(Buffer.alloc(0), 0);
    if (this.state !== State.End) throw new JsonSyntaxError('Unexpected end of JSON input');
    if (this.rootRaw) return { kind: 'irregular', json: this.members[0]!.raw! };
    // Longer than any stream may be: answered 413 before the elements' types are looked at (they are not all kept).
    const tooLong = [...this.columns.values()].some((column) => column.length > MAX_SAMPLES);
    const timestamps = this.columns.get('timestamps');
    const regular = tooLong || (!this.irregular && timestamps !== undefined && [...this.columns.values()].every((column) => column.exceptions.length === 0));
    if (!regular) {
      const text = `{${this.members.map((member) => `${JSON.stringify(member.rawKey)}:${member.column ? member.column.text() : member.raw}`).join(',')}}`;
      return { kind: 'irregular', json: text };
    }
    const arrays: ScannedColumns['arrays'] = {};
    const lengths: ScannedColumns['lengths'] = {};
    for (const [name, column] of this.columns) {
      lengths[name as ColumnName] = column.length;
      arrays[name as ColumnName] = column.finish();
    }
    return { kind: 'columns', columns: { arrays, lengths } };
  }

  private initialCapacity(): number {
    // Every sample takes at least two bytes of a column ("1,"), so no column of this body is longer.
    if (this.sizeHint === undefined) return 65_536;
    return Math.max(16, Math.min(MAX_SAMPLES, Math.ceil(this.sizeHint / 2)));
  }

  private syntax(byte: number): never {
    throw new JsonSyntaxError(`Unexpected ${byte < 0x20 || byte > 0x7e ? `byte 0x${byte.toString(16)}` : `'${String.fromCharCode(byte)}'`} in JSON`);
  }

  private endArray(): void {
    this.column = undefined;
    this.state = State.ObjectAfter;
  }

  private startElement(chunk: Buffer, i: number, byte: number): number {
    if (byte === 0x2d || isDigit(byte)) {
      this.state = State.Number;
      this.tokenStart = i;
      this.negative = byte === 0x2d;
      this.part = this.negative ? NumberPart.Sign : byte === 0x30 ? NumberPart.Zero : NumberPart.Integer;
      this.mantissa = this.negative ? 0 : byte - 0x30;
      this.digits = this.negative ? 0 : 1;
      this.fractionDigits = 0;
      this.slowNumber = false;
      return i + 1;
    }
    if (byte === 0x22) {
      this.startString(chunk, i + 1, State.ElementString);
      this.tokenStart = i + 1;
      return i + 1;
    }
    if (byte >= 0x61 && byte <= 0x7a) {
      this.state = State.Literal;
      this.tokenStart = i;
      return i + 1;
    }
    if (byte === 0x5b || byte === 0x7b) {
      this.startRaw(chunk, i, State.ArrayAfter, true);
      return i;
    }
    this.syntax(byte);
  }

  /** One byte of a number; false when the number has ended before it. */
  private numberByte(byte: number): boolean {
    const digit = isDigit(byte);
    switch (this.part) {
      case NumberPart.Sign:
        if (!digit) return false;
        this.part = byte === 0x30 ? NumberPart.Zero : NumberPart.Integer;
        this.addDigit(byte, false);
        return true;
      case NumberPart.Zero:
        if (byte === 0x2e) this.part = NumberPart.Dot;
        else if (byte === 0x65 || byte === 0x45) this.part = NumberPart.E;
        else return false;
        if (this.part === NumberPart.E) this.slowNumber = true;
        return true;
      case NumberPart.Integer:
        if (digit) this.addDigit(byte, false);
        else if (byte === 0x2e) this.part = NumberPart.Dot;
        else if (byte === 0x65 || byte === 0x45) {
          this.part = NumberPart.E;
          this.slowNumber = true;
        } else return false;
        return true;
      case NumberPart.Dot:
        if (!digit) return false;
        this.part = NumberPart.Fraction;
        this.addDigit(byte, true);
        return true;
      case NumberPart.Fraction:
        if (digit) this.addDigit(byte, true);
        else if (byte === 0x65 || byte === 0x45) {
          this.part = NumberPart.E;
          this.slowNumber = true;
        } else return false;
        return true;
      case NumberPart.E:
        if (byte === 0x2b || byte === 0x2d) this.part = NumberPart.ExponentSign;
        else if (digit) this.part = NumberPart.Exponent;
        else return false;
        return true;
      case NumberPart.ExponentSign:
        if (!digit) return false;
        this.part = NumberPart.Exponent;
        return true;
      case NumberPart.Exponent:
        return digit;
    }
  }

  private addDigit(byte: number, fraction: boolean): void {
    this.mantissa = this.mantissa * 10 + (byte - 0x30);
    this.digits++;
    if (fraction) this.fractionDigits++;
    if (this.digits > 15) this.slowNumber = true;
  }

  private endNumber(chunk: Buffer, end: number): void {
    // A number must end on a digit: "-", "1.", "1e" and "1e+" are not JSON.
    if (this.part === NumberPart.Sign || this.part === NumberPart.Dot || this.part === NumberPart.E || this.part === NumberPart.ExponentSign) {
      this.syntax(chunk[end]!);
    }
    let value: number;
    if (this.slowNumber) {
      // Most such numbers (17-digit doubles) lie within one chunk: read without a Buffer view.
      const text = this.token.size === 0 ? chunk.toString('latin1', this.tokenStart, end) : this.token.take(chunk, this.tokenStart, end).toString('latin1');
      value = Number(text);
    } else {
      if (this.token.size > 0) this.token.take();
      value = this.fractionDigits === 0 ? this.mantissa : this.mantissa / POWERS_OF_TEN[this.fractionDigits]!;
      if (this.negative) value = -value;
    }
    const column = this.column!;
    // 1e400 parses to Infinity, which the contract's z.number() refuses: left to it.
    if (!Number.isFinite(value)) column.exceptions.push({ index: column.length, raw: this.negative ? '-1e400' : '1e400' });
    column.push(value);
    this.state = State.ArrayAfter;
  }

  private endLiteral(chunk: Buffer, end: number): void {
    const word = this.token.take(chunk, this.tokenStart, end).toString('latin1');
    if (word !== 'null' && word !== 'true' && word !== 'false') this.syntax(chunk[end]!);
    const column = this.column!;
    if (word === 'null' && column.nullable) column.push(Number.NaN);
    else {
      column.exceptions.push({ index: column.length, raw: word });
      column.push(Number.NaN);
    }
    this.state = State.ArrayAfter;
  }

  private startString(_chunk: Buffer, afterQuote: number, state: State.Key | State.ElementString): void {
    this.state = state;
    this.tokenStart = afterQuote;
    this.escaped = false;
    this.plainString = true;
  }

  /** Bytes of a key or string element up to its closing quote. */
  private stringBytes(chunk: Buffer, from: number): number {
    const length = chunk.length;
    for (let i = from; i < length; i++) {
      const byte = chunk[i]!;
      if (this.escaped) {
        this.escaped = false;
        continue;
      }
      if (byte === 0x5c) {
        this.escaped = true;
        this.plainString = false;
      } else if (byte === 0x22) {
        this.endString(this.token.take(chunk, this.tokenStart, i));
        return i + 1;
      } else if (byte < 0x20 || byte >= 0x80) this.plainString = false;
    }
    return length;
  }

  private endString(raw: Buffer): void {
    // Escapes and control characters are JSON.parse's business (it throws on what JSON forbids).
    let text: string;
    if (this.plainString) text = raw.toString('latin1');
    else {
      try {
        text = JSON.parse(`"${raw.toString('utf8')}"`) as string;
      } catch {
        throw new JsonSyntaxError('Bad string in JSON');
      }
    }
    if (this.state === State.Key) {
      if (this.members.some((member) => member.rawKey === text)) this.irregular = true; // JSON.parse keeps the last
      this.members.push({ rawKey: text });
      this.state = State.Colon;
      return;
    }
    const column = this.column!;
    const timestamp =
      column.name === 'timestamps' && raw.length <= MAX_TIMESTAMP_RAW_BYTES && text.length <= MAX_TIMESTAMP_LENGTH && isCleanText(text, false);
    if (!timestamp) {
      column.exceptions.push({ index: column.length, raw: JSON.stringify(text) });
      column.push(Number.NaN);
    } else {
      const epoch = parseDateTime(text) ?? Number.NaN;
      if (Number.isNaN(epoch)) column.unparsed.set(column.length, JSON.stringify(text));
      column.push(epoch);
    }
    this.state = State.ArrayAfter;
  }

  private startRaw(chunk: Buffer, at: number, returnTo: State, forElement: boolean, root = false): void {
    const byte = chunk[at]!;
    this.state = State.Raw;
    this.tokenStart = at;
    this.rawReturn = returnTo;
    this.rawForElement = forElement;
    this.rawDepth = 0;
    this.rawInString = false;
    this.rawEscaped = false;
    this.rawScalar = byte !== 0x7b && byte !== 0x5b && byte !== 0x22;
    if (root) {
      this.rootRaw = true;
      this.members.push({ rawKey: '' });
    }
  }

  /** A value kept as text: brackets are counted (outside strings) until it closes. */
  private rawBytes(chunk: Buffer, from: number): number {
    const length = chunk.length;
    for (let i = from; i < length; i++) {
      const byte = chunk[i]!;
      if (this.rawInString) {
        if (this.rawEscaped) this.rawEscaped = false;
        else if (byte === 0x5c) this.rawEscaped = true;
        else if (byte === 0x22) {
          this.rawInString = false;
          if (this.rawDepth === 0) return this.endRaw(chunk, i + 1);
        }
        continue;
      }
      if (this.rawScalar) {
        if (isWhitespace(byte) || byte === 0x2c || byte === 0x5d || byte === 0x7d) return this.endRaw(chunk, i);
        continue;
      }
      if (byte === 0x22) this.rawInString = true;
      else if (byte === 0x7b || byte === 0x5b) this.rawDepth++;
      else if (byte === 0x7d || byte === 0x5d) {
        this.rawDepth--;
        if (this.rawDepth === 0) return this.endRaw(chunk, i + 1);
      }
    }
    return length;
  }

  private endRaw(chunk: Buffer, end: number): number {
    const text = this.token.take(chunk, this.tokenStart, end).toString('utf8');
    // Checked now, so that a syntax error anywhere is a syntax error (the text is parsed again later).
    try {
      JSON.parse(text);
    } catch {
      throw new JsonSyntaxError('Bad value in JSON');
    }
    if (this.rawForElement) {
      const column = this.column!;
      column.exceptions.push({ index: column.length, raw: text });
      column.push(Number.NaN);
    } else {
      this.members[this.members.length - 1]!.raw = text;
    }
    this.state = this.rawReturn;
    return end;
  }
}
