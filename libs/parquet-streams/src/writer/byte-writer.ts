/**
 * Byte and bit writers of the Parquet writer (docs/data-model.md §10): a growable little-endian
 * buffer, LSB-first bit packing, and the bit width of a non-negative integer.
 */
/** A growable little-endian byte buffer. */
export class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  offset = 0;

  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  ensure(extra: number): void {
    const needed = this.offset + extra;
    if (needed <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.offset));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.offset++] = value;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  /** ULEB128 of a non-negative safe integer. */
  varint(value: number): void {
    this.ensure(8);
    while (value >= 0x80) {
      this.bytes[this.offset++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.offset++] = value;
  }

  /** Zigzag ULEB128 of a safe integer (Thrift i32/i64, DELTA_BINARY_PACKED header values). */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}

/** LSB-first bit packing of non-negative integers below 2^53, any width up to 53. */
export class BitPacker {
  private acc = 0;
  private bits = 0;

  constructor(private readonly out: ByteWriter) {}

  push(value: number, width: number): void {
    while (width > 16) {
      this.pushSmall(value % 0x10000, 16);
      value = Math.floor(value / 0x10000);
      width -= 16;
    }
    this.pushSmall(value, width);
  }

  private pushSmall(value: number, width: number): void {
    // acc holds < 8 bits between calls, so acc | value << bits stays below 2^24.
    this.acc |= value << this.bits;
    this.bits += width;
    const { out } = this;
    while (this.bits >= 8) {
      out.bytes[out.offset++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  /** Pads the last byte with zero bits. */
  flush(): void {
    if (this.bits > 0) this.out.bytes[this.out.offset++] = this.acc & 0xff;
    this.acc = 0;
    this.bits = 0;
  }
}

export const bitWidth = (max: number): number => (max <= 0 ? 0 : max < 2 ** 31 ? 32 - Math.clz32(max) : Math.ceil(Math.log2(max + 1)));
