/**
 * The dictionary of a DOUBLE column written as RLE_DICTIONARY (docs/data-model.md §10).
 */

export interface Dictionary {
  /** Distinct values, ascending (so that nearby values get nearby indices). */
  values: Float64Array;
  /** Per non-null value, its index in `values`. */
  indices: Uint16Array;
  /** 8 or 16: byte-aligned widths compress far better than the minimal width under GZIP. */
  width: 8 | 16;
}

/**
 * Open-addressing hash set over the 64 bits of doubles (so -0 and 0 stay apart, unlike a Map):
 * assigns each distinct value an id in order of first appearance, giving up beyond `limit`.
 */
export class DoubleIds {
  private readonly keys: Uint32Array;
  private readonly ids: Int32Array;
  private readonly mask: number;
  private readonly words = new Uint32Array(2);
  private readonly word = new Float64Array(this.words.buffer);
  readonly distinct: number[] = [];

  constructor(readonly limit: number) {
    let size = 16;
    while (size < limit * 2) size *= 2;
    this.keys = new Uint32Array(size * 2);
    this.ids = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** The value's id, or -1 once more than `limit` distinct values were seen. */
  id(value: number): number {
    this.word[0] = value;
    const lo = this.words[0]!;
    const hi = this.words[1]!;
    // murmur3's finaliser: doubles differ in their high bits, so those must reach the low ones.
    let h = lo ^ Math.imul(hi ^ (hi >>> 16), 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    let slot = (h ^ (h >>> 16)) & this.mask;
    for (;;) {
      const id = this.ids[slot]!;
      if (id < 0) break;
      if (this.keys[slot * 2] === lo && this.keys[slot * 2 + 1] === hi) return id;
      slot = (slot + 1) & this.mask;
    }
    if (this.distinct.length >= this.limit) return -1;
    const id = this.distinct.length;
    this.ids[slot] = id;
    this.keys[slot * 2] = lo;
    this.keys[slot * 2 + 1] = hi;
    this.distinct.push(value);
    return id;
  }
}

/** The column's dictionary, or null when it has more than `limit` distinct (non-null) values. */
export function buildDictionary(values: Float64Array, optional: boolean, limit = 1 << 16): Dictionary | null {
  const ids = new DoubleIds(Math.max(1, Math.min(limit, values.length, 1 << 16)));
  const raw = new Uint16Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (optional && Number.isNaN(v)) continue;
    const id = ids.id(v);
    if (id < 0) return null;
    raw[count++] = id;
  }
  const distinct = ids.distinct;
  // -0 before 0; any order is valid, ascending only helps compression.
  const order = Array.from(distinct.keys()).sort((a, b) => distinct[a]! - distinct[b]! || (Object.is(distinct[a], -0) ? -1 : 1));
  const rank = new Uint16Array(distinct.length);
  const sorted = new Float64Array(distinct.length);
  order.forEach((id, r) => {
    rank[id] = r;
    sorted[r] = distinct[id]!;
  });
  const indices = raw.subarray(0, count);
  for (let i = 0; i < count; i++) indices[i] = rank[indices[i]!]!;
  return { values: sorted, indices, width: distinct.length <= 256 ? 8 : 16 };
}
