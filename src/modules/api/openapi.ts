import { OpenAPIGenerator } from '@orpc/openapi';
import { ZodToJsonSchemaConverter } from '@orpc/zod/zod4';
import { contract } from '../../contract/index.js';
import * as z from 'zod';
import { BODY_ERROR_STATUSES, ErrorSchema, STANDARD_ERROR_STATUSES } from '../../contract/common.js';
import { PROVIDER_PAYLOAD_SCHEMAS } from '../../contract/provider-payloads.js';
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

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/**
 * The OpenAPI 3.1 document: generated from the oRPC contract, with the security schemes, the one
 * error shape on every operation, and better-auth's own description of its routes merged in.
 */
export async function generateOpenApiDocument(auth: Auth): Promise<JsonObject> {
  const generator = new OpenAPIGenerator({ schemaConverters: [new ZodToJsonSchemaConverter()] });
  const document = (await generator.generate(contract, {
    info: {
      title: 'Unified Activity API',
      version: '1.0.0',
      description:
        'Workouts from HealthKit, Strava, Garmin, Health Connect, files and manual entry in one lossless model. ' +
        'Sign up or sign in under Auth, copy the token from the `set-auth-token` response header, and use it as the Bearer token.',
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
    ],
  })) as unknown as JsonObject & { paths: Record<string, Record<string, JsonObject>>; components?: JsonObject };

  for (const operations of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const responses = (operation.responses ??= {}) as Record<string, unknown>;
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      for (const [status, description] of Object.entries(STANDARD_ERROR_STATUSES)) {
        if (isPublic && (status === '401' || status === '429')) continue;
        if (method === 'get' && BODY_ERROR_STATUSES.includes(status)) continue;
        responses[status] = errorResponse(description);
      }
    }
  }

  const authDocument = (await auth.api.generateOpenAPISchema()) as unknown as {
    paths: Record<string, Record<string, JsonObject & { responses?: Record<string, unknown> }>>;
    components?: { schemas?: Record<string, unknown> };
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
          Number(status) >= 400 ? [status, errorResponse((response as { description?: string }).description ?? 'Error')] : [status, response],
        ),
      );
      // The auth route answers validation problems (400, 422) and, for sign-up, an existing email (409) itself.
      const statuses: (keyof typeof STANDARD_ERROR_STATUSES)[] = [400, 413, 415, 422, 503, ...(path === '/sign-up/email' ? [409 as const] : [])];
      for (const status of statuses) responses[status] ??= errorResponse(STANDARD_ERROR_STATUSES[status]);
      rewritten[method] = {
        ...operation,
        summary,
        responses,
        tags: ['Auth'],
        ...(path.startsWith('/sign-') && path !== '/sign-out' ? { security: [] } : {}),
      };
    }
    document.paths[`/auth${path}`] = rewritten;
  }

  const components = (document.components ??= {}) as JsonObject;
  // The auth operations refer to better-auth's own User and Session schemas.
  const { User, Session } = authDocument.components?.schemas ?? {};
  components.schemas = { ...((components.schemas as JsonObject) ?? {}), User, Session, Error: ERROR_SCHEMA, ...providerPayloadSchemas() };
  components.securitySchemes = {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      description: 'The session token from the `set-auth-token` header of sign-up or sign-in',
    },
    cookieAuth: { type: 'apiKey', in: 'cookie', name: 'better-auth.session_token', description: 'Browser session cookie' },
  };
  return collapseNativeDateUnions(document);
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
