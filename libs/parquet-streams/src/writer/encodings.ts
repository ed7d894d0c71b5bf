/**
 * Value encoders of the Parquet writer (docs/data-model.md §10): each writes one page's values into `out`.
 */
import { BitPacker, bitWidth, type ByteWriter } from './byte-writer.js';

export function writePlainDoubles(out: ByteWriter, values: Float64Array, start: number, end: number): void {
  const count = end - start;
  out.ensure(count * 8);
  if (out.offset % 8 === 0) {
    // Aligned: one copy through a Float64Array view (little-endian on every platform Node supports).
    new Float64Array(out.bytes.buffer, out.offset, count).set(values.subarray(start, end));
  } else {
    const { view } = out;
    for (let i = 0; i < count; i++) view.setFloat64(out.offset + i * 8, values[start + i]!, true);
  }
  out.offset += count * 8;
}

export function writeByteStreamSplit(out: ByteWriter, values: Float64Array, start: number, end: number): void {
  const count = end - start;
  out.ensure(count * 8);
  const source = new Uint8Array(values.buffer, values.byteOffset + start * 8, count * 8);
  const { bytes } = out;
  const base = out.offset;
  for (let k = 0; k < 8; k++) {
    const stream = base + k * count;
    for (let i = 0; i < count; i++) bytes[stream + i] = source[i * 8 + k]!;
  }
  out.offset += count * 8;
}

/**
 * RLE/bit-packed hybrid (Parquet's RLE encoding) of `count` values of `width` bits: runs of 8 or more
 * equal values become RLE runs, the rest bit-packed groups of 8 (the last group zero-padded).
 */
export function writeHybrid(out: ByteWriter, values: ArrayLike<number>, count: number, width: number): void {
  const valueBytes = (width + 7) >> 3;
  const runAt = (i: number): boolean => {
    if (i + 8 > count) return false;
    const v = values[i];
    for (let k = 1; k < 8; k++) if (values[i + k] !== v) return false;
    return true;
  };
  let i = 0;
  while (i < count) {
    if (runAt(i)) {
      const v = values[i]!;
      let run = 8;
      while (i + run < count && values[i + run] === v) run++;
      out.varint(run * 2);
      out.ensure(valueBytes);
      for (let b = 0, rest = v; b < valueBytes; b++, rest = Math.floor(rest / 256)) out.bytes[out.offset++] = rest & 0xff;
      i += run;
      continue;
    }
    let groups = 1;
    while (i + groups * 8 < count && !runAt(i + groups * 8)) groups++;
    out.varint(groups * 2 + 1);
    out.ensure(groups * width + 8);
    packGroups(out, values, i, Math.min(count, i + groups * 8), groups * 8, width);
    i += groups * 8;
  }
}

/** Bit-packs values[start, end) LSB first, then zeros up to `slots` values; byte-aligned widths are copied directly. */
export function packGroups(out: ByteWriter, values: ArrayLike<number>, start: number, end: number, slots: number, width: number): void {
  const { bytes } = out;
  let at = out.offset;
  if (width === 8) {
    for (let i = start; i < end; i++) bytes[at++] = values[i]!;
    for (let k = end - start; k < slots; k++) bytes[at++] = 0;
  } else if (width === 16) {
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      bytes[at++] = v & 0xff;
      bytes[at++] = v >>> 8;
    }
    for (let k = end - start; k < slots; k++) {
      bytes[at++] = 0;
      bytes[at++] = 0;
    }
  } else if (width === 1) {
    for (let k = 0; k < slots; k += 8) {
      let byte = 0;
      for (let b = 0; b < 8; b++) {
        const i = start + k + b;
        if (i < end && values[i]) byte |= 1 << b;
      }
      bytes[at++] = byte;
    }
  } else {
    out.offset = at;
    const packer = new BitPacker(out);
    for (let k = 0; k < slots; k++) packer.push(start + k < end ? values[start + k]! : 0, width);
    packer.flush();
    return;
  }
  out.offset = at;
}

/** Block layouts tried for a timestamp column (values per block, miniblocks per block); the smaller result is kept. */
export const DELTA_LAYOUTS = {
  /** The usual one: an irregular gap widens 32 values only. */
  narrow: { block: 128, miniblocks: 4 },
  /** Regular sampling: one block header per 4,096 values, a few bytes for an hour at 1 Hz. */
  wide: { block: 4096, miniblocks: 4 },
} as const;

/** DELTA_BINARY_PACKED of whole numbers held as doubles (|value| < 2^53, deltas too). */
export function writeDeltaBinaryPacked(out: ByteWriter, values: Float64Array, start: number, end: number, layout: { block: number; miniblocks: number }): void {
  const DELTA_BLOCK = layout.block;
  const DELTA_MINIBLOCKS = layout.miniblocks;
  const DELTA_MINIBLOCK = DELTA_BLOCK / DELTA_MINIBLOCKS;
  const count = end - start;
  out.varint(DELTA_BLOCK);
  out.varint(DELTA_MINIBLOCKS);
  out.varint(count);
  out.zigzag(count > 0 ? values[start]! : 0);
  const packer = new BitPacker(out);
  const deltas = new Float64Array(DELTA_BLOCK);
  const widths = new Uint8Array(DELTA_MINIBLOCKS);
  for (let blockStart = start + 1; blockStart < end; blockStart += DELTA_BLOCK) {
    const n = Math.min(DELTA_BLOCK, end - blockStart);
    let minDelta = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const delta = values[blockStart + k]! - values[blockStart + k - 1]!;
      deltas[k] = delta;
      if (delta < minDelta) minDelta = delta;
    }
    const miniblocks = Math.ceil(n / DELTA_MINIBLOCK);
    widths.fill(0);
    for (let m = 0; m < miniblocks; m++) {
      let max = 0;
      for (let k = m * DELTA_MINIBLOCK; k < Math.min(n, (m + 1) * DELTA_MINIBLOCK); k++) {
        const offset = deltas[k]! - minDelta;
        if (offset > max) max = offset;
      }
      widths[m] = bitWidth(max);
    }
    out.zigzag(minDelta);
    out.append(widths);
    for (let m = 0; m < miniblocks; m++) {
      const width = widths[m]!;
      if (width === 0) continue;
      out.ensure(width * 4 + 8);
      for (let k = m * DELTA_MINIBLOCK; k < (m + 1) * DELTA_MINIBLOCK; k++) packer.push(k < n ? deltas[k]! - minDelta : 0, width);
      packer.flush();
    }
  }
}
