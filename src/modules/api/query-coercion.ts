import type * as z from 'zod';

type AnySchema = z.core.$ZodType;

/** The schema a value is checked against once optional/nullable/default wrappers and pipes are looked through. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    const def = current._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'default' || def.type === 'prefault') && def.innerType) {
      current = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      current = def.in;
    } else {
      return current;
    }
  }
  return current;
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function coerce(schema: AnySchema, value: string): unknown {
  const target = unwrap(schema);
  const def = target._zod.def as { type: string; values?: readonly unknown[]; options?: readonly AnySchema[] };
  switch (def.type) {
    case 'union': {
      // `from=1714543200000` (a number or a date-time): the first alternative that reads the string differently.
      for (const option of def.options ?? []) {
        const coerced = coerce(option, value);
        if (coerced !== value) return coerced;
      }
      return value;
    }
    case 'number':
      return NUMBER.test(value) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'literal':
      return NUMBER.test(value) && def.values?.includes(Number(value)) ? Number(value) : value;
    default:
      return value;
  }
}

/**
 * A query string carries only strings. The contract types query parameters as what they mean
 * (`limit` a number, `includeTotals` a boolean), so RPC clients pass real numbers and booleans and
 * the OpenAPI document says `integer`/`boolean`; for REST, this turns the strings that spell such a
 * value exactly (`"20"`, `"true"`) into it before validation. Anything else stays a string and
 * fails validation as a wrong type (400): no `Number("")` → 0 or `Boolean("false")` → true.
 */
export function coerceQuery(inputSchema: AnySchema | undefined, input: unknown): unknown {
  if (!inputSchema || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const object = unwrap(inputSchema);
  const shape = (object._zod.def as { type: string; shape?: Record<string, AnySchema> }).shape;
  if ((object._zod.def as { type: string }).type !== 'object' || !shape) return input;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    result[key] = field && typeof value === 'string' ? coerce(field, value) : value;
  }
  return result;
}
