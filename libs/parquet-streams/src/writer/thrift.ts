/**
 * Thrift compact protocol, only what the Parquet footer and page headers need (docs/data-model.md §10).
 */
import type { ByteWriter } from './byte-writer.js';

const T_TRUE = 1;
const T_FALSE = 2;
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

export class ThriftWriter {
  private readonly lastField: number[] = [0];

  constructor(readonly out: ByteWriter) {}

  private header(id: number, type: number): void {
    const last = this.lastField[this.lastField.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.out.u8((delta << 4) | type);
    else {
      this.out.u8(type);
      this.out.zigzag(id);
    }
    this.lastField[this.lastField.length - 1] = id;
  }

  i32(id: number, value: number): void {
    this.header(id, T_I32);
    this.out.zigzag(value);
  }

  i64(id: number, value: number): void {
    this.header(id, T_I64);
    this.out.zigzag(value);
  }

  bool(id: number, value: boolean): void {
    this.header(id, value ? T_TRUE : T_FALSE);
  }

  binary(id: number, bytes: Uint8Array): void {
    this.header(id, T_BINARY);
    this.out.varint(bytes.length);
    this.out.append(bytes);
  }

  string(id: number, value: string): void {
    this.binary(id, new TextEncoder().encode(value));
  }

  /** A struct field: fields written by `body`, then STOP. */
  struct(id: number, body: () => void): void {
    this.header(id, T_STRUCT);
    this.structBody(body);
  }

  /** A struct without a field header (the top-level struct, or a list element). */
  structBody(body: () => void): void {
    this.lastField.push(0);
    body();
    this.out.u8(0);
    this.lastField.pop();
  }

  private list(id: number, elementType: number, size: number): void {
    this.header(id, T_LIST);
    if (size < 15) this.out.u8((size << 4) | elementType);
    else {
      this.out.u8(0xf0 | elementType);
      this.out.varint(size);
    }
  }

  structList<T>(id: number, items: readonly T[], body: (item: T) => void): void {
    this.list(id, T_STRUCT, items.length);
    for (const item of items) this.structBody(() => body(item));
  }

  i32List(id: number, values: readonly number[]): void {
    this.list(id, T_I32, values.length);
    for (const value of values) this.out.zigzag(value);
  }

  stringList(id: number, values: readonly string[]): void {
    this.list(id, T_BINARY, values.length);
    for (const value of values) {
      const bytes = new TextEncoder().encode(value);
      this.out.varint(bytes.length);
      this.out.append(bytes);
    }
  }
}
