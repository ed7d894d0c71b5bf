import { OpenAPIGenerator } from '@orpc/openapi';
import { ZodToJsonSchemaConverter } from '@orpc/zod/zod4';
import { contract, ErrorSchema, STANDARD_ERROR_STATUSES } from '@unified-activity/contract';
import * as z from 'zod';
import { PROVIDER_PAYLOAD_SCHEMAS } from '@unified-activity/contract';
import type { Auth } from '../auth/auth.js';

type JsonObject = Record<string, unknown>;

/** The contract's error schema, as the JSON Schema every operation's error responses refer to. */
const { $schema: _dialect, ...ERROR_SCHEMA } = z.toJSONSchema(ErrorSchema, { io: 'output' });

/** The better-auth endpoints the API documents (API.md); better-auth's plugin describes them. */
const AUTH_PATHS: Record<string, string> = {
  '/sign-up/email': 'Sign up with email and password (creates the default athlete; the token is in set-auth-token)',
  '/sign-in/email': 'Sign in with email and password (the token is in set-auth-token)',
  '/sign-out': 'Sign out (revokes the token or cookie)',
  '/get-session': 'The current session and user',
};

/** Error statuses the auth route answers itself on top of better-auth's own (auth-route.ts). */
const AUTH_ERROR_STATUSES = [400, 413, 415, 422, 503] as const;
/** Sign-up's 409, which the auth route writes from better-auth's USER_ALREADY_EXISTS. */
const SIGN_UP_CONFLICT = 'An account with this email exists';

/**
 * Request examples that are valid exactly as sent: the docs pages (Scalar, Swagger UI) pre-fill a
 * request from them, and without one Scalar fills every optional string with "" (an invalid slug,
 * timestamp...). `athleteId` must be replaced by one of the caller's athletes (GET /v1/athletes).
 */
const REQUEST_EXAMPLES: Record<string, unknown> = {
  createActivity: {
    athleteId: '00000000-0000-4000-8000-000000000000',
    activityType: 'trail_running',
    name: 'Morning trail run',
    startTime: '2026-05-01T06:00:00Z',
    endTime: '2026-05-01T07:00:00Z',
    distanceM: 10000,
    durationS: 3600,
  },
  updateActivity: { name: 'Evening trail run' },
  createAthlete: { displayName: 'Ada', timeZone: 'Europe/Berlin' },
  updateAthlete: { displayName: 'Ada Lovelace' },
  uploadStream: { timestamps: [1777615200000, 1777615201000, 1777615202000], values: [120, 122, 125] },
  signUpWithEmailAndPassword: { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' },
  signInEmail: { email: 'ada@example.com', password: 'correct horse battery' },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

type Operation = JsonObject & {
  operationId?: string;
  requestBody?: JsonObject & { content?: Record<string, JsonObject> };
  responses?: Record<string, JsonObject & { content?: Record<string, JsonObject> }>;
};
type Document = JsonObject & { paths: Record<string, Record<string, Operation>>; components?: JsonObject & { schemas?: Record<string, unknown> } };

const SCHEMA_REF = '#/components/schemas/';

/** The component name of an error code without a named data schema: BAD_REQUEST → BadRequestError, INTERNAL_SERVER_ERROR → InternalServerError. */
export const errorComponentName = (code: string) => {
  const words = code
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
  return words.endsWith('Error') ? words : `${words}Error`;
};

interface ErrorBody {
  codes: Set<string>;
  /** The converted data schema: inline, or a $ref to the component of a named data schema. */
  data: JsonObject;
  dataRequired: boolean;
}

/**
 * The error responses of the contract's `.errors()` declarations as our wire body — `{ code, message }`
 * with the data fields at the top level (errors.ts writes it so) — instead of oRPC's
 * `{ defined, code, status, message, data }` envelope. Each declared error is a named component: its
 * data schema's id (`ActivityExistsError`), else one per code (`NotFoundError`); several errors of one
 * status are a oneOf. `bodySchema` is oRPC's customErrorResponseBodySchema; `addComponents` writes the
 * components it named once the document (with the data components) exists.
 */
class ErrorBodies {
  private readonly bodies = new Map<string, ErrorBody>();

  readonly bodySchema = (definedErrors: [code: string, defaultMessage: string, dataRequired: boolean, dataSchema: JsonObject][]): JsonObject => {
    const refs = definedErrors.map(([code, , dataRequired, data]) => ({ $ref: `${SCHEMA_REF}${this.name(code, data, dataRequired)}` }));
    return refs.length === 1 ? refs[0]! : { oneOf: refs };
  };

  addComponents(document: Document): void {
    const schemas = ((document.components ??= {}).schemas ??= {}) as Record<string, JsonObject>;
    for (const [name, { codes, data, dataRequired }] of this.bodies) {
      const ref = typeof data.$ref === 'string' ? data.$ref.slice(SCHEMA_REF.length) : undefined;
      const fields = (ref ? schemas[ref] : data) as JsonObject & { properties?: JsonObject; required?: string[] };
      schemas[name] = {
        type: 'object',
        ...(fields?.description ? { description: fields.description } : {}),
        properties: { code: { type: 'string', enum: [...codes] }, message: { type: 'string', description: 'Human-readable explanation' }, ...fields?.properties },
        required: ['code', 'message', ...(dataRequired ? (fields?.required ?? []) : [])],
      };
    }
  }

  private name(code: string, data: JsonObject, dataRequired: boolean): string {
    const name = typeof data.$ref === 'string' ? data.$ref.slice(SCHEMA_REF.length) : errorComponentName(code);
    const known = this.bodies.get(name);
    if (!known) this.bodies.set(name, { codes: new Set([code]), data, dataRequired });
    else if (JSON.stringify(known.data) !== JSON.stringify(data) || known.dataRequired !== dataRequired) {
      throw new Error(`The error ${code} is declared with different data in two places; name its data schema with .meta({ id })`);
    } else known.codes.add(code);
    return name;
  }
}

/** Each error response says what its declarations mean (their messages), not just the status number. */
function describeErrorResponses(document: Document): void {
  for (const group of Object.values(contract)) {
    for (const procedure of Object.values(group)) {
      const { route, errorMap } = procedure['~orpc'];
      const operation = route.path && route.method ? document.paths[route.path]?.[route.method.toLowerCase()] : undefined;
      const byStatus = new Map<number, string[]>();
      for (const config of Object.values(errorMap as Record<string, { status?: number; message?: string } | undefined>)) {
        if (!config?.status || !config.message) continue;
        byStatus.set(config.status, [...(byStatus.get(config.status) ?? []), config.message]);
      }
      for (const [status, messages] of byStatus) {
        const response = operation?.responses?.[String(status)];
        if (response) response.description = [...new Set(messages)].join('; or ');
      }
    }
  }
}

/**
 * Every schema of the contract named with `.meta({ id })`, as oRPC common schemas: each becomes a
 * component and every use of it a `$ref`. A schema whose input and output forms differ (a date is a
 * string going in and a Date coming out) is offered in both forms; the form that is never used is
 * dropped afterwards, and an `Input` suffix only remains where both are used.
 */
async function namedSchemas(): Promise<NonNullable<Parameters<OpenAPIGenerator['generate']>[1]>['commonSchemas']> {
  const converter = new ZodToJsonSchemaConverter();
  const common: Record<string, { schema: z.ZodType; strategy: 'input' | 'output' }> = {};
  for (const [id, schema] of z.globalRegistry._idmap) {
    const [, input] = await converter.convert(schema, { strategy: 'input' });
    const [, output] = await converter.convert(schema, { strategy: 'output' });
    common[id] = { schema: schema as z.ZodType, strategy: 'output' };
    if (JSON.stringify(input) !== JSON.stringify(output)) common[`${id}Input`] = { schema: schema as z.ZodType, strategy: 'input' };
  }
  return common;
}

/**
 * oRPC lifts path parameters out of a named input (ActivityUpdate without its `id`) and inlines the
 * rest as the body; that body is still the named schema to a client, so it becomes that component.
 */
function nameSplitBodies(document: Document): void {
  const components = ((document.components ??= {}).schemas ??= {}) as Record<string, unknown>;
  for (const group of Object.values(contract)) {
    for (const procedure of Object.values(group)) {
      const { route, inputSchema } = procedure['~orpc'];
      const id = inputSchema ? z.globalRegistry.get(inputSchema as z.ZodType)?.id : undefined;
      const path = route.path?.replace(/\{([^}]+)\}/g, '{$1}');
      const json = id && path && route.method ? document.paths[path]?.[route.method.toLowerCase()]?.requestBody?.content?.['application/json'] : undefined;
      if (!id || !json || !json.schema || (json.schema as JsonObject).$ref !== undefined) continue;
      // The component was the whole input (with the path parameters); a client only ever sends the body.
      components[id] = json.schema;
      json.schema = { $ref: `${SCHEMA_REF}${id}` };
    }
  }
}

/**
 * The batch body: a named SyncBatch whose items refer to the provider payload schemas, so that
 * generated clients get the HealthKit, Strava, Garmin and Health Connect shapes (the server picks
 * the one of the path's source and answers 422 naming the item index when an item does not fit).
 */
function referenceProviderPayloads(document: Document): void {
  const body = document.paths['/v1/athletes/{id}/sync/{source}/batches']?.post?.requestBody?.content?.['application/json'];
  const schema = body?.schema as (JsonObject & { properties?: Record<string, JsonObject> }) | undefined;
  if (!body || !schema?.properties?.activities) return;
  const names = Object.values(PROVIDER_PAYLOAD_SCHEMAS).map((payload) => (z.globalRegistry.get(payload) as { id?: string } | undefined)?.id);
  schema.properties.activities = { ...schema.properties.activities, items: { anyOf: names.map((name) => ({ $ref: `${SCHEMA_REF}${name}` })) } };
  ((document.components ??= {}).schemas ??= {} as never)['SyncBatch'] = schema;
  body.schema = { $ref: `${SCHEMA_REF}SyncBatch` };
}

/** Drops components nothing refers to, and names a lone input form without its `Input` suffix. */
function tidyComponents(document: Document): Document {
  const schemas = (document.components?.schemas ?? {}) as Record<string, unknown>;
  let text = JSON.stringify(document);
  const used = (name: string) => text.includes(`"${SCHEMA_REF}${name}"`);
  // Referenced from anywhere but its own definition (repeat: a removed schema may be the last user of another).
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of Object.keys(schemas)) {
      const { [name]: own, ...others } = schemas;
      const rest = JSON.stringify({ ...document, components: { ...document.components, schemas: others } });
      if (!rest.includes(`"${SCHEMA_REF}${name}"`) && own !== undefined && name !== 'Error' && name !== 'User' && name !== 'Session') {
        delete schemas[name];
        changed = true;
      }
    }
    text = JSON.stringify(document);
  }
  for (const name of Object.keys(schemas)) {
    const base = name.replace(/Input$/, '');
    if (base !== name && !(base in schemas) && used(name)) {
      text = text.replaceAll(`"${SCHEMA_REF}${name}"`, `"${SCHEMA_REF}${base}"`);
      const parsed = JSON.parse(text) as Document;
      const renamed = parsed.components!.schemas as Record<string, unknown>;
      renamed[base] = renamed[name];
      delete renamed[name];
      document = parsed;
      text = JSON.stringify(document);
    }
  }
  const sorted = document.components!.schemas as Record<string, unknown>;
  document.components!.schemas = Object.fromEntries(Object.keys(sorted).sort().map((key) => [key, sorted[key]]));
  return document;
}

/**
 * A file in a request or response body, however deep (the `files` of a multipart body): a string of
 * `format: binary`, the one spelling hey-api, orval and openapi-typescript's transform hook all type
 * as a Blob. oRPC writes 3.1's `contentMediaType` instead, which hey-api 0.99 types as `string` (the
 * import files were `Array<string>`); the real media type is the content's key.
 */
function declareBinaryContent(content: Record<string, JsonObject> | undefined): void {
  if (!content) return;
  for (const media of Object.values(content)) {
    if (media.schema !== undefined) media.schema = binaryFiles(media.schema);
  }
}

function binaryFiles(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(binaryFiles);
  if (typeof schema !== 'object' || schema === null) return schema;
  const converted = Object.fromEntries(Object.entries(schema).map(([key, child]) => [key, binaryFiles(child)])) as JsonObject;
  if (converted.type !== 'string' || typeof converted.contentMediaType !== 'string') return converted;
  const { contentMediaType: _mediaType, ...file } = converted;
  return { ...file, format: 'binary' };
}

/** OpenAPI 3.0's `nullable: true` (better-auth's dialect) as 3.1's `type: [t, 'null']`. */
function toOpenApi31(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toOpenApi31);
  if (typeof value !== 'object' || value === null) return value;
  const { nullable, ...rest } = value as JsonObject;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, child]) => [key, toOpenApi31(child)]));
  if (nullable === true) {
    if (typeof converted.type === 'string') converted.type = [converted.type, 'null'];
    else if (converted.$ref !== undefined) return { anyOf: [converted, { type: 'null' }] };
  }
  return converted;
}

/** `anyOf` with a branch that matches anything matches anything (oRPC cuts z.json()'s recursion so). */
function dropVacuousAnyOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropVacuousAnyOf);
  if (typeof value !== 'object' || value === null) return value;
  const converted = Object.fromEntries(Object.entries(value).map(([key, child]) => [key, dropVacuousAnyOf(child)])) as JsonObject;
  const branches = converted.anyOf;
  if (Array.isArray(branches) && branches.some((branch) => typeof branch === 'object' && branch !== null && Object.keys(branch).length === 0)) {
    delete converted.anyOf;
  }
  return converted;
}

/**
 * The OpenAPI 3.1 document: generated from the oRPC contract, with the security schemes, the one
 * error shape on every operation, and better-auth's own description of its routes merged in.
 */
export async function generateOpenApiDocument(auth: Auth): Promise<JsonObject> {
  const generator = new OpenAPIGenerator({ schemaConverters: [new ZodToJsonSchemaConverter()] });
  const errorBodies = new ErrorBodies();
  const document = (await generator.generate(contract, {
    commonSchemas: await namedSchemas(),
    customErrorResponseBodySchema: errorBodies.bodySchema as never,
    info: {
      title: 'Unified Activity API',
      version: '1.0.0',
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Workouts from HealthKit, Strava, Garmin, Health Connect, files and manual entry in one lossless model. ' +
        'Sign up or sign in under Auth, copy the token from the `set-auth-token` response header, and use it as the Bearer token. ' +
        'Explore with [Scalar](/docs) or [Swagger UI](/docs/swagger).',
    },
    // Relative, so the committed document is the same for every deployment.
    servers: [{ url: '/api', description: 'This server' }],
    security: [{ bearerAuth: [] }, { cookieAuth: [] }],
    tags: [
      { name: 'Auth', description: 'Sign-up, sign-in and sessions (better-auth)' },
      { name: 'Athletes', description: 'The people whose activities are recorded; a user owns one or more' },
      { name: 'Activity types', description: 'The canonical activity-type catalog and its provider mappings' },
      { name: 'Activities', description: 'Workouts in the unified model: sessions, statistics, events, timeline' },
      { name: 'Streams', description: 'Time series of an activity (heart rate, GPS, power, ...) stored as Parquet' },
      { name: 'Sync', description: 'Sync states and batch ingest of HealthKit, Strava, Garmin and Health Connect payloads in their own shapes' },
      { name: 'Connections', description: "Connect an athlete's Strava or Garmin account: OAuth, sealed tokens, disconnecting" },
      { name: 'Changes', description: 'What changed since a cursor (tombstones included), to stay in sync without re-reading everything' },
      { name: 'Webhooks', description: 'Outbound webhooks: the change feed POSTed to your endpoints, signed per Standard Webhooks' },
      { name: 'Provider webhooks', description: 'Inbound: what Strava and Garmin push to this server (no session; each checks what its provider sends)' },
    ],
  })) as unknown as Document;

  errorBodies.addComponents(document);
  describeErrorResponses(document);
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      const responses = (operation.responses ??= {});
      for (const [status, response] of Object.entries(responses)) {
        // A 204 has no body; oRPC describes z.void() as a schema nothing matches.
        if (status === '204') delete response.content;
        declareBinaryContent(response.content);
      }
      declareBinaryContent(operation.requestBody?.content);
      addRequestExample(operation);
    }
  }

  const authDocument = toOpenApi31(await auth.api.generateOpenAPISchema()) as {
    paths: Record<string, Record<string, Operation>>;
    components?: { schemas?: Record<string, JsonObject & { properties?: Record<string, JsonObject> }> };
  };
  for (const [path, summary] of Object.entries(AUTH_PATHS)) {
    const operations = authDocument.paths[path];
    if (!operations) continue;
    const rewritten: Record<string, JsonObject> = {};
    for (const [method, operation] of Object.entries(operations)) {
      // better-auth lists POST /get-session too, but answers it 405 unless deferSessionRefresh is on.
      if (path === '/get-session' && method !== 'get') continue;
      // better-auth documents its errors as { message }; the API answers them in the one error shape.
      const responses = Object.fromEntries(
        Object.entries(operation.responses ?? {}).map(([status, response]) =>
          Number(status) >= 400
            ? [status, errorResponse(typeof response === 'string' ? response : ((response as { description?: string }).description ?? 'Error'))]
            : [status, response as JsonObject],
        ),
      );
      // The auth route answers validation problems (400, 422), an unreachable database (503) and, for sign-up, an existing email (409) itself.
      for (const status of AUTH_ERROR_STATUSES) responses[status] ??= errorResponse(STANDARD_ERROR_STATUSES[status]);
      if (path === '/sign-up/email') responses[409] = errorResponse(SIGN_UP_CONFLICT);
      const { parameters, ...rest } = operation;
      const withBody: Operation = {
        ...rest,
        // better-auth lists an empty parameter array; a body, where there is one, is always required.
        ...(Array.isArray(parameters) && parameters.length > 0 ? { parameters } : {}),
        ...(operation.requestBody ? { requestBody: { ...operation.requestBody, required: true } } : {}),
        summary,
        responses,
        tags: ['Auth'],
        ...(path.startsWith('/sign-') && path !== '/sign-out' ? { security: [] } : {}),
      };
      addRequestExample(withBody);
      rewritten[method] = withBody;
    }
    document.paths[`/auth${path}`] = rewritten;
  }

  const components = (document.components ??= {}) as JsonObject;
  // The auth operations refer to better-auth's own User and Session schemas; the image is null when unset.
  const { User, Session } = authDocument.components?.schemas ?? {};
  if (User?.properties?.image) User.properties.image = { ...User.properties.image, type: ['string', 'null'] };
  components.schemas = { ...((components.schemas as JsonObject) ?? {}), User, Session, Error: ERROR_SCHEMA, ...providerPayloadSchemas() };
  components.securitySchemes = {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      description: 'The session token from the `set-auth-token` header of sign-up or sign-in',
    },
    cookieAuth: { type: 'apiKey', in: 'cookie', name: 'better-auth.session_token', description: 'Browser session cookie' },
  };
  nameSplitBodies(document);
  referenceProviderPayloads(document);
  return collapseNativeDateUnions(tidyComponents(dropVacuousAnyOf(document) as Document));
}

/**
 * Date-time inputs accept an ISO string (REST) or a Date (RPC); on the wire both are the same
 * `date-time` string, so `anyOf: [date-time, date-time + x-native-type]` is documented as one string
 * (generators would otherwise name a union of two identical strings).
 */
function collapseNativeDateUnions<T>(node: T): T {
  if (Array.isArray(node)) return node.map(collapseNativeDateUnions) as T;
  if (!node || typeof node !== 'object') return node;
  const entries = Object.entries(node as JsonObject).map(([key, value]) => [key, collapseNativeDateUnions(value)] as const);
  const object = Object.fromEntries(entries) as JsonObject;
  const branches = object.anyOf;
  if (Array.isArray(branches) && branches.length > 1) {
    const plain = branches.map((branch) => {
      const { 'x-native-type': _native, ...rest } = branch as JsonObject;
      return JSON.stringify(rest);
    });
    if (plain.every((branch) => branch === plain[0]) && plain[0]!.includes('"date-time"')) {
      const { anyOf: _anyOf, ...rest } = object;
      return { ...(JSON.parse(plain[0]!) as JsonObject), ...rest } as T;
    }
  }
  return object as T;
}

/**
 * The provider payload shapes of batch ingest, as named schemas. The batch route takes loose objects
 * (the item schema depends on the path's source, and a wrong item is a 422 naming its index), so
 * the generator does not see them; SyncBatch's description points here.
 */
function providerPayloadSchemas(): JsonObject {
  const out: JsonObject = {};
  for (const schema of Object.values(PROVIDER_PAYLOAD_SCHEMAS)) {
    // Nested named schemas (HealthKitQuantity) become components too: $defs refs are rewritten to point there.
    const generated = JSON.parse(JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })).replaceAll('#/$defs/', '#/components/schemas/')) as JsonObject & {
      $defs?: JsonObject;
    };
    const { $schema: _dialect, $defs, ...json } = generated;
    const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id ?? 'ProviderPayload';
    out[id] = json;
    for (const [name, definition] of Object.entries($defs ?? {})) out[name] = definition;
  }
  return out;
}

function addRequestExample(operation: Operation): void {
  const example = REQUEST_EXAMPLES[operation.operationId ?? ''];
  const json = operation.requestBody?.content?.['application/json'];
  if (example !== undefined && json) json.example = example;
}

