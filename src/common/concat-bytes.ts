/**
 * The bytes of `parts` one after the other, in a Uint8Array that owns its whole ArrayBuffer. Not
 * Buffer.concat: below 4 KiB it answers a slice of Node's shared pool, and a caller handing
 * `.buffer` on (to a Parquet reader, to PGlite) would hand on the whole pool.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
