import { OpenAPIGenerator } from '@orpc/openapi';
import { ZodToJsonSchemaConverter } from '@orpc/zod/zod4';
import { contract, ErrorSchema, STANDARD_ERROR_STATUSES } from '@unified-activity/contract';
import * as z from 'zod';
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
    ],
  })) as unknown as JsonObject & { paths: Record<string, Record<string, JsonObject>>; components?: JsonObject };

  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      const responses = (operation.responses ??= {}) as Record<string, unknown>;
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      for (const [status, description] of Object.entries(STANDARD_ERROR_STATUSES)) {
        if (isPublic && (status === '401' || status === '429')) continue;
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
      // better-auth documents its errors as { message }; the API answers them in the one error shape.
      const responses = Object.fromEntries(
        Object.entries(operation.responses ?? {}).map(([status, response]) =>
          Number(status) >= 400 ? [status, errorResponse((response as { description?: string }).description ?? 'Error')] : [status, response],
        ),
      );
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
  components.schemas = { ...((components.schemas as JsonObject) ?? {}), User, Session, Error: ERROR_SCHEMA };
  components.securitySchemes = {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      description: 'The session token from the `set-auth-token` header of sign-up or sign-in',
    },
    cookieAuth: { type: 'apiKey', in: 'cookie', name: 'better-auth.session_token', description: 'Browser session cookie' },
  };
  return document;
}
