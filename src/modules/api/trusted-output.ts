import { fallbackContractConfig } from '@orpc/contract';
import { StandardOpenAPICodec, StandardOpenAPIMatcher, type StandardOpenAPICodecOptions } from '@orpc/openapi/standard';
import { StandardBracketNotationSerializer, StandardOpenAPIJsonSerializer, StandardOpenAPISerializer } from '@orpc/openapi-client/standard';
import { Procedure, type AnyProcedure, type Context, type Router } from '@orpc/server';
import { FastifyHandler, type FastifyHandlerOptions } from '@orpc/server/fastify';
import { StandardHandler, type StandardHandlerOptions } from '@orpc/server/standard';
import type { StandardResponse } from '@orpc/standard-server';

/**
 * The mark is the handler function: oRPC copies procedures (os.router, and the matcher joins each
 * with its contract's route and meta), and the handler is what every copy keeps.
 */
const trustedHandlers = new WeakSet<object>();

/**
 * Marks a procedure whose output our own typed code builds field by field from public values only
 * (a mapper that names every public field, queries that select only public columns), so the server
 * can skip the two per-request walks oRPC makes over every output — the zod output validation and
 * the OpenAPI serializer's copy of the whole tree — which cost more CPU than the rest of a list
 * request together (docs/benchmarks.md, "Where the per-request CPU went").
 *
 * What the skipped checks would have caught is caught elsewhere: implement(contract) types each
 * handler's return value against the contract's output type at compile time, and
 * src/database/contract-conformance.ts checks each column against its public field; the one thing
 * types do not stop, an extra (private) key, is kept out by the mappers and asserted by
 * test/e2e/private-columns.e2e.spec.ts. The contract (and the OpenAPI document generated from it)
 * keeps its output schemas; only the server's procedure drops its copy.
 *
 * The JSON is what the serializer walk and JSON.stringify write for such values (toJsonValue: a
 * Date becomes its ISO string, an invalid one null; NaN and undefined array items null; undefined
 * fields are left out).
 */
export function trustedOutput<T extends AnyProcedure>(procedure: T): T {
  const definition = procedure['~orpc'];
  trustedHandlers.add(definition.handler);
  return new Procedure({ ...definition, outputSchema: undefined }) as unknown as T;
}

export const hasTrustedOutput = (procedure: AnyProcedure): boolean => trustedHandlers.has(procedure['~orpc'].handler);

/**
 * A copy of a trusted output that JSON.stringify writes on its fast path: Dates become ISO strings
 * here (JSON.stringify would call each Date's toJSON on its slow path, costing more than the whole
 * walk), undefined array items null; everything else is a JSON value already (numbers, strings,
 * booleans, null, plain objects and arrays — sourceData is parsed JSON). A `__proto__` key of a
 * payload stays an own key, as it was stored (the spread copies it as one; oRPC's walk drops it).
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) items[i] = value[i] === undefined ? null : toJsonValue(value[i]);
    return items;
  }
  // A spread copies the object's shape in one step; only its object-valued fields are visited again.
  const object: Record<string, unknown> = { ...value };
  for (const key in object) {
    const field = object[key];
    if (typeof field === 'object' && field !== null) object[key] = toJsonValue(field);
  }
  return object;
}

/** The OpenAPI codec, except that a trusted procedure's output goes to JSON.stringify as it is. */
class TrustedOutputCodec extends StandardOpenAPICodec {
  override encode(output: unknown, procedure: AnyProcedure): StandardResponse {
    const route = procedure['~orpc'].route;
    if (
      hasTrustedOutput(procedure) &&
      typeof output === 'object' &&
      output !== null &&
      !(output instanceof ReadableStream) &&
      fallbackContractConfig('defaultOutputStructure', route.outputStructure) === 'compact'
    ) {
      return { status: fallbackContractConfig('defaultSuccessStatus', route.successStatus), headers: {}, body: toJsonValue(output) };
    }
    return super.encode(output, procedure);
  }
}

/**
 * oRPC's OpenAPIHandler for Fastify (the same matcher, serializer and codec it builds), with the
 * trusted-output codec above.
 */
export function createRestHandler<T extends Context>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as OpenAPIHandler's own signature: procedures' contexts vary
  router: Router<any, T>,
  options: StandardHandlerOptions<T> & StandardOpenAPICodecOptions & FastifyHandlerOptions<T>,
) {
  const serializer = new StandardOpenAPISerializer(new StandardOpenAPIJsonSerializer(), new StandardBracketNotationSerializer());
  const codec = new TrustedOutputCodec(serializer, { customErrorResponseBodyEncoder: options.customErrorResponseBodyEncoder });
  return new FastifyHandler<T>(new StandardHandler<T>(router, new StandardOpenAPIMatcher(), codec, options), options);
}
