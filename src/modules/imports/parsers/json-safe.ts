/** Source data kept as JSON (`source_data`): values a parser reads made safe to store. */

/** A JSON-safe copy: Dates → ISO strings, bigint → string, typed arrays → arrays, NaN/∞ → null. */
export function jsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (isDate(value)) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = jsonSafe(v);
    return out;
  }
  return null;
}

/** Works across realms (Jest's VM context), unlike `instanceof Date`. */
export function isDate(value: unknown): value is Date {
  if (value instanceof Date) return true;
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Date]';
}
