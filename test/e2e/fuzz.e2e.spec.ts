/**
 * Property-based fuzzing of every operation of the published OpenAPI document (issue 9).
 *
 * For each operation, fast-check generates requests from the operation's own JSON Schemas (path
 * and query parameters, JSON body) and mutates them: wrong types, boundary and huge numbers, NUL
 * and lone surrogates, 5,000 levels of nesting, out-of-range and impossible dates, unknown fields,
 * missing fields and credentials. Every answer must be a 2xx or a documented 4xx — never a 5xx —
 * and its body must validate (ajv, JSON Schema 2020-12) against the documented response schema.
 * The seed is fixed, so a run is reproducible; the whole run stays within about two minutes.
 * FUZZ_SEED, FUZZ_RUNS (per operation) and FUZZ_BUDGET_S explore further by hand, e.g.
 * `FUZZ_SEED=7 FUZZ_RUNS=2000 FUZZ_BUDGET_S=900 npm test -- test/e2e/fuzz.e2e.spec.ts`; CI runs the defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { createActivity } from '../factories/activities.js';
import { signUp, type SignedUpUser } from '../factories/api.js';
import { createTestApp, type TestApp } from '../setup/app.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_901);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 300);
/** Stop generating new requests after this long, whatever is left (CI machines vary). */
const TIME_BUDGET_MS = Number(process.env.FUZZ_BUDGET_S ?? 100) * 1000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  operation: {
    operationId?: string;
    parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
    requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
    responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
    security?: unknown[];
  };
}
interface FuzzRequest {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  /** What was done to the valid request, for the failure report. */
  mutation: string;
  contentType: 'json' | 'binary' | 'none';
  auth: boolean;
}

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

let t: TestApp;
let user: SignedUpUser;
let document: { paths: Record<string, Record<string, Operation['operation']>>; components?: Record<string, unknown> };
const known = { activityId: '', athleteId: '' };

beforeAll(async () => {
  t = await createTestApp();
  user = await signUp(t, 'Fuzz');
  known.athleteId = user.athleteId;
  const activity = await createActivity(t, user, { name: 'seed', source: 'strava', externalId: 'seed-1' });
  known.activityId = activity.id;
  await t
    .http()
    .put(`/api/v1/activities/${activity.id}/streams/heart_rate`)
    .set(user.auth)
    .send({ timestamps: [Date.parse('2026-05-01T06:00:00Z'), Date.parse('2026-05-01T06:00:01Z')], values: [120, 121] })
    .expect(200);
  const response = await t.http().get('/api/openapi.json').expect(200);
  document = response.body;
});
afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------------------------------------
// Generation from the document's JSON Schemas

function resolve(schema: unknown): Schema {
  let current = schema as Schema;
  for (let depth = 0; depth < 20 && current && typeof current.$ref === 'string'; depth++) {
    const path = (current.$ref as string).replace(/^#\//, '').split('/');
    current = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document) as Schema;
  }
  return current ?? {};
}

const ISO_IN_RANGE = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
/** Mostly dates near the seed activity, so some time windows and stream samples are valid. */
const ISO_DATE_TIME = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 7_200_000 }).map((ms) => new Date(Date.parse('2026-05-01T05:30:00Z') + ms).toISOString()) },
  { weight: 1, arbitrary: ISO_IN_RANGE },
);

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 40, 40);
  switch (schema.format) {
    case 'uuid':
      return fc.oneof(fc.constantFrom(known.activityId, known.athleteId), fc.uuid());
    case 'date-time':
      return ISO_DATE_TIME;
    case 'date':
      return ISO_IN_RANGE.map((iso) => iso.slice(0, 10));
    case 'email':
      return fc.emailAddress();
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

function numberArbitrary(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : -1e6;
  const max = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : 1e6;
  const low = Math.max(min, -1e9);
  const high = Math.min(max, 1e9);
  return integer
    ? fc.integer({ min: Math.ceil(low), max: Math.floor(high) })
    : fc.oneof(fc.integer({ min: Math.ceil(low), max: Math.floor(high) }), fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true }));
}

/** A value the schema accepts (as far as JSON Schema can say: cross-field rules may still refuse it). */
function valid(raw: unknown, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  if (depth > 6) return fc.constant(null);
  if (schema === (true as unknown) || Object.keys(schema).every((key) => ['description', 'title', 'examples', 'default'].includes(key))) {
    return fc.jsonValue({ maxDepth: 2 });
  }
  const candidates: fc.Arbitrary<unknown>[] = [];
  if (Array.isArray(schema.examples) && schema.examples.length > 0) candidates.push(fc.constantFrom(...(schema.examples as unknown[])));
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (alternatives) {
    const usable = alternatives.filter((alternative) => !('not' in resolve(alternative)));
    return usable.length > 0 ? fc.oneof(...usable.map((alternative) => valid(alternative, depth + 1))) : fc.constant(undefined);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return valid(schema.allOf[0], depth + 1);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length === 0 && schema.properties) types.push('object');
  for (const type of types) {
    if (type === 'string') candidates.push(stringArbitrary(schema));
    else if (type === 'integer') candidates.push(numberArbitrary(schema, true));
    else if (type === 'number') candidates.push(numberArbitrary(schema, false));
    else if (type === 'boolean') candidates.push(fc.boolean());
    else if (type === 'null' || schema.nullable === true) candidates.push(fc.constant(null));
    else if (type === 'array') {
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = Math.max(minLength, Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 3, 3));
      candidates.push(fc.array(valid(schema.items ?? {}, depth + 1), { minLength, maxLength }));
    } else if (type === 'object') {
      const properties = (schema.properties ?? {}) as Record<string, unknown>;
      const required = ((schema.required ?? []) as string[]).filter((key) => key in properties);
      const shape = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, valid(value, depth + 1)]));
      candidates.push(fc.record(shape, { requiredKeys: required }));
    }
  }
  if (schema.nullable === true) candidates.push(fc.constant(null));
  return candidates.length > 0 ? fc.oneof(...candidates) : fc.jsonValue({ maxDepth: 2 });
}

// ---------------------------------------------------------------------------------------------
// Mutations

const nested = (levels: number, leaf: Json = 1): Json => {
  let value: Json = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

/**
 * JSON text spliced in verbatim when the request is serialised: 5,000 levels of nesting cannot be
 * built or stringified as values here (Jest's stack is smaller than the server's).
 */
interface RawJson {
  __rawJson: string;
}
const raw = (text: string): RawJson => ({ __rawJson: text });
const isRaw = (value: unknown): value is RawJson => typeof value === 'object' && value !== null && '__rawJson' in value;
const DEEP_OBJECT = raw('{"a":'.repeat(5000) + '1' + '}'.repeat(5000));
const DEEP_ARRAY = raw('['.repeat(5000) + ']'.repeat(5000));

/** JSON.stringify that splices RawJson values in. */
function serialise(value: unknown): string {
  const spliced: string[] = [];
  const text = JSON.stringify(value, (_key, inner: unknown) => {
    if (!isRaw(inner)) return inner;
    spliced.push(inner.__rawJson);
    return `__raw_${spliced.length - 1}__`;
  });
  return (text ?? 'null').replace(/"__raw_(\d+)__"/g, (_, index: string) => spliced[Number(index)]!);
}

/** Values that broke something somewhere once (issue 9) or typically do. */
const NASTY: unknown[] = [
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53 + 1,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  null,
  '',
  '1',
  'true',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\u001B[31m',
  'line\nbreak',
  'x'.repeat(10_001),
  '+099999-01-01T10:00:00Z',
  '0000-01-01T00:00:00Z',
  '2026-02-30T10:00:00Z',
  '2026-05-01T10:00:00',
  'May 1 2026 10:00',
  '1899-12-31T23:59:59Z',
  'a"b',
  "'; drop table activities; --",
  '{a,"b"}',
  '%00',
  '../../etc/passwd',
  '00000000-0000-0000-0000-000000000000',
  [],
  [null],
  {},
  { '\u0000': 1 },
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
  DEEP_OBJECT,
  DEEP_ARRAY,
  nested(70),
];

type Mutation = 'none' | 'field' | 'unknown-field' | 'drop-field' | 'whole-body' | 'query' | 'path' | 'unknown-query' | 'no-auth' | 'binary';

const MUTATIONS: { weight: number; arbitrary: fc.Arbitrary<Mutation> }[] = [
  { weight: 4, arbitrary: fc.constant('none') },
  { weight: 4, arbitrary: fc.constant('field') },
  { weight: 1, arbitrary: fc.constant('unknown-field') },
  { weight: 1, arbitrary: fc.constant('drop-field') },
  { weight: 1, arbitrary: fc.constant('whole-body') },
  { weight: 2, arbitrary: fc.constant('query') },
  { weight: 1, arbitrary: fc.constant('path') },
  { weight: 1, arbitrary: fc.constant('unknown-query') },
  { weight: 1, arbitrary: fc.constant('no-auth') },
  { weight: 1, arbitrary: fc.constant('binary') },
];

/** Every place in a JSON value a mutation can hit: [parent, key] pairs. */
function slots(value: unknown, limit = 200): [Record<string | number, unknown>, string | number][] {
  const found: [Record<string | number, unknown>, string | number][] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0 && found.length < limit) {
    const current = stack.pop();
    if (!current || typeof current !== 'object' || isRaw(current)) continue;
    for (const key of Object.keys(current)) {
      const index = Array.isArray(current) ? Number(key) : key;
      found.push([current as Record<string | number, unknown>, index]);
      stack.push((current as Record<string, unknown>)[key]);
    }
  }
  return found;
}

function mutate(request: FuzzRequest, mutation: Mutation, pick: number, nasty: unknown, hasBody: boolean): FuzzRequest {
  const copy: FuzzRequest = {
    ...request,
    path: { ...request.path },
    query: { ...request.query },
    body: request.body === undefined ? undefined : structuredClone(request.body),
    mutation,
  };
  const describeNasty = typeof nasty === 'string' ? JSON.stringify(nasty.slice(0, 40)) : Array.isArray(nasty) || (nasty && typeof nasty === 'object') ? 'structure' : String(nasty);
  const at = <T>(items: T[]) => items[pick % items.length];
  switch (mutation) {
    case 'field': {
      const slot = at(slots(copy.body));
      if (slot) {
        slot[0][slot[1]] = nasty;
        copy.mutation = `field ${String(slot[1])} = ${describeNasty}`;
      }
      break;
    }
    case 'unknown-field': {
      const objects = [copy.body, ...slots(copy.body).map(([parent, key]) => parent[key])].filter((v) => v && typeof v === 'object' && !Array.isArray(v));
      const target = at(objects) as Record<string, unknown> | undefined;
      if (target) target[`unknown_${pick % 7}`] = nasty;
      break;
    }
    case 'drop-field': {
      const slot = at(slots(copy.body).filter(([parent]) => !Array.isArray(parent)));
      if (slot) {
        delete slot[0][slot[1]];
        copy.mutation = `drop ${String(slot[1])}`;
      }
      break;
    }
    case 'whole-body':
      if (hasBody) copy.body = nasty;
      copy.mutation = `body = ${describeNasty}`;
      break;
    case 'query': {
      const key = at(Object.keys(copy.query));
      if (key) copy.query[key] = nasty;
      copy.mutation = `query ${key} = ${describeNasty}`;
      break;
    }
    case 'path': {
      const key = at(Object.keys(copy.path));
      if (key) copy.path[key] = nasty;
      copy.mutation = `path ${key} = ${describeNasty}`;
      break;
    }
    case 'unknown-query':
      copy.query[`unknown${pick % 5}`] = nasty;
      break;
    case 'no-auth':
      copy.auth = false;
      break;
    case 'binary':
      if (hasBody) {
        copy.contentType = 'binary';
        copy.body = Buffer.from(Array.from({ length: (pick % 64) + 1 }, (_, i) => (i * 37 + pick) % 256));
        if (pick % 3 === 0) copy.body = Buffer.concat([Buffer.from('PAR1'), copy.body as Buffer, Buffer.from('PAR1')]);
      }
      break;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Sending and checking

const operations = (): Operation[] =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );

function requestArbitrary(op: Operation): fc.Arbitrary<FuzzRequest> {
  const parameters = op.operation.parameters ?? [];
  const byLocation = (location: string) => {
    const params = parameters.filter((parameter) => parameter.in === location);
    const shape = Object.fromEntries(params.map((parameter) => [parameter.name, valid(parameter.schema ?? {})]));
    return fc.record(shape, { requiredKeys: params.filter((parameter) => parameter.required || location === 'path').map((parameter) => parameter.name) });
  };
  const bodySchema = op.operation.requestBody?.content?.['application/json']?.schema;
  const body = bodySchema ? valid(bodySchema) : fc.constant(undefined);
  const hasBody = op.operation.requestBody !== undefined;
  return fc
    .record({
      path: byLocation('path'),
      query: byLocation('query'),
      body,
      mutation: fc.oneof(...MUTATIONS),
      pick: fc.nat(),
      nasty: fc.constantFrom(...NASTY.keys()),
    })
    .map(({ path, query, body: generated, mutation, pick, nasty }) =>
      mutate(
        { path, query, body: generated, mutation: 'none', contentType: hasBody ? 'json' : 'none', auth: true },
        mutation,
        pick,
        NASTY[nasty],
        hasBody,
      ),
    );
}

/** Percent-encodes like a client would; a lone surrogate becomes the invalid UTF-8 a careless client sends. */
function encode(value: unknown): string {
  const text = typeof value === 'string' ? value : serialise(value);
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[\uD800-\uDFFF]/g, '%ED%A0%80').replace(/[^A-Za-z0-9%_.~-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
}

interface Failure {
  operation: string;
  request: string;
  status: number;
  problem: string;
  body: string;
}

describe('fuzzing every operation of the OpenAPI document', () => {
  it('never answers 5xx, only documented statuses, and every body matches its documented schema', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
    addFormats(ajv);
    // Response schemas refer to #/components/...: make them resolvable from a standalone schema.
    const rebase = (schema: unknown): unknown =>
      JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"openapi.json#/'));
    ajv.addSchema({ $id: 'openapi.json', components: rebase(document.components ?? {}) } as never);
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    const validatorFor = (key: string, schema: Schema) => {
      let validator = validators.get(key);
      if (!validator) validators.set(key, (validator = ajv.compile(rebase(schema) as Schema)));
      return validator;
    };

    const fastify = t.app.getHttpAdapter().getInstance();
    const all = operations();
    expect(all.length).toBeGreaterThanOrEqual(20);
    const started = Date.now();
    const failures: Failure[] = [];
    const statusCounts = new Map<number, number>();
    let sent = 0;

    for (const [index, op] of all.entries()) {
      const name = `${op.method.toUpperCase()} ${op.path}`;
      const samples = fc.sample(requestArbitrary(op), { seed: SEED + index, numRuns: RUNS_PER_OPERATION });
      for (const request of samples) {
        if (Date.now() - started > TIME_BUDGET_MS) break;
        const isAuthRoute = op.path.startsWith('/auth/');
        // An empty segment addresses another route (`/activity-types/` is the list), and so do `.` and
        // `..`, which every URL parser removes before the request is sent (RFC 3986, 5.2.4): keep the segment.
        for (const [key, value] of Object.entries(request.path)) if (value === '' || value === undefined || value === '.' || value === '..') request.path[key] = '-';
        // Deleting the seeded records would only turn the rest of the run into 404s.
        if (op.method === 'delete') {
          for (const [key, value] of Object.entries(request.path)) {
            if (value === known.activityId || value === known.athleteId) request.path[key] = randomUUID();
          }
        }
        const url =
          '/api' +
          op.path.replace(/\{([^}]+)\}/g, (_, key: string) => (request.path[key] === undefined ? '' : encode(request.path[key]))) +
          (Object.keys(request.query).length > 0
            ? '?' +
              Object.entries(request.query)
                .filter(([, value]) => value !== undefined)
                .map(([key, value]) => `${encode(key)}=${encode(value)}`)
                .join('&')
            : '');
        const headers: Record<string, string> = {};
        // Never sign the fuzzing user out; auth routes are called anonymously.
        if (request.auth && !isAuthRoute) headers.authorization = `Bearer ${user.token}`;
        let payload: string | Buffer | undefined;
        if (request.contentType === 'json' && request.body !== undefined) {
          headers['content-type'] = 'application/json';
          payload = serialise(request.body);
        } else if (request.contentType === 'binary') {
          headers['content-type'] = request.path.type ? 'application/vnd.apache.parquet' : 'application/octet-stream';
          payload = request.body as Buffer;
        }
        const response = await fastify.inject({ method: op.method.toUpperCase() as 'GET', url, headers, payload });
        sent++;
        statusCounts.set(response.statusCode, (statusCounts.get(response.statusCode) ?? 0) + 1);
        const report = (problem: string) =>
          failures.push({
            operation: name,
            request: `${request.mutation} ${url.slice(0, 200)} ${typeof payload === 'string' ? payload.slice(0, 300) : ''}`,
            status: response.statusCode,
            problem,
            body: response.body.slice(0, 300),
          });

        if (response.statusCode >= 500) {
          report('5xx');
          continue;
        }
        const documented = op.operation.responses?.[String(response.statusCode)] ?? op.operation.responses?.default;
        if (!documented) {
          report('undocumented status');
          continue;
        }
        const contentType = String(response.headers['content-type'] ?? '');
        const schema = documented.content?.['application/json']?.schema;
        if (!schema || !contentType.includes('json') || response.body === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(response.body);
        } catch {
          report('body is not JSON');
          continue;
        }
        const validate = validatorFor(`${name} ${response.statusCode}`, schema);
        if (!validate(parsed)) report(`body does not match the documented schema: ${ajv.errorsText(validate.errors)}`);
      }
    }

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const statuses = [...statusCounts.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ');
    process.stdout.write(
      `\nfuzz: ${sent} requests over ${all.length} operations in ${seconds} s, ${failures.length} failures (seed ${SEED}); statuses ${statuses}\n`,
    );
    // One example per kind of failure (operation, status, problem), with how often it happened.
    const kinds = new Map<string, { count: number; example: Failure }>();
    for (const failure of failures) {
      const key = `${failure.operation} ${failure.status} ${failure.problem.slice(0, 80)}`;
      const kind = kinds.get(key);
      if (kind) kind.count++;
      else kinds.set(key, { count: 1, example: failure });
    }
    for (const [key, { count, example }] of kinds) {
      process.stdout.write(`  ${count}× ${key}\n    ${JSON.stringify({ request: example.request.slice(0, 240), body: example.body.slice(0, 200) })}\n`);
    }
    expect(sent).toBeGreaterThan(all.length * 20);
    expect(failures).toEqual([]);
    // The run must exercise the happy path too, not only refusals.
    expect([...statusCounts.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
  }, TIME_BUDGET_MS + 80_000);
});
