import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestApp, type TestApp } from '../setup/app.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  security?: Record<string, string[]>[];
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, Record<string, unknown>> };
  [key: string]: unknown;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const COMMITTED = join(process.cwd(), 'docs', 'openapi.json');
const REGENERATE = 'run `npm run openapi:generate` and commit docs/openapi.json';

function operations(document: OpenApiDocument): { path: string; method: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, operation]) => ({ path, method, operation })),
  );
}

const methodsOf = (document: OpenApiDocument, path: string): string[] =>
  Object.keys(document.paths[path] ?? {})
    .filter((method) => HTTP_METHODS.has(method))
    .sort();

describe('GET /api/openapi.json', () => {
  let t: TestApp;
  let document: OpenApiDocument;

  beforeAll(async () => {
    t = await createTestApp();
    const response = await t.http().get('/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    document = response.body as OpenApiDocument;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    if (!result.valid) console.error('OpenAPI validation errors:\n' + JSON.stringify(result.errors, null, 2));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(document.servers).toEqual([expect.objectContaining({ url: '/api' })]);
  });

  it('declares the bearer and cookie security schemes', () => {
    const schemes = document.components?.securitySchemes ?? {};
    expect(schemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.cookieAuth).toMatchObject({ type: 'apiKey', in: 'cookie' });
    expect(typeof schemes.cookieAuth?.name).toBe('string');
  });

  it('gives every operation a unique operationId and at least one tag', () => {
    const all = operations(document);
    expect(all.length).toBeGreaterThanOrEqual(11);
    const missing = all.filter(({ operation }) => typeof operation.operationId !== 'string' || operation.operationId === '');
    expect(missing.map(({ method, path }) => `${method.toUpperCase()} ${path}`)).toEqual([]);
    const untagged = all.filter(({ operation }) => !Array.isArray(operation.tags) || operation.tags.length === 0);
    expect(untagged.map(({ method, path }) => `${method.toUpperCase()} ${path}`)).toEqual([]);
    const ids = all.map(({ operation }) => operation.operationId);
    const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
    expect(duplicates).toEqual([]);
  });

  it('documents the athletes and activity-types paths of API.md with their methods', () => {
    expect(methodsOf(document, '/v1/athletes')).toEqual(['get', 'post']);
    expect(methodsOf(document, '/v1/athletes/{id}')).toEqual(['delete', 'get', 'patch']);
    expect(methodsOf(document, '/v1/activity-types')).toEqual(['get']);
    expect(methodsOf(document, '/v1/activity-types/{slug}')).toEqual(['get']);
    // Success statuses of API.md: create answers 201, delete 204.
    expect(Object.keys(document.paths['/v1/athletes']!.post!.responses ?? {})).toContain('201');
    expect(Object.keys(document.paths['/v1/athletes/{id}']!.delete!.responses ?? {})).toContain('204');
    // The catalog is public; athletes need credentials (their own or the document-level requirement).
    expect(document.paths['/v1/activity-types']!.get!.security).toEqual([]);
    expect(document.security).toEqual(expect.arrayContaining([{ bearerAuth: [] }, { cookieAuth: [] }]));
    for (const [path, item] of Object.entries(document.paths).filter(([path]) => path.startsWith('/v1/athletes'))) {
      for (const [method, operation] of Object.entries(item)) {
        const security = operation.security ?? document.security;
        expect({ operation: `${method.toUpperCase()} ${path}`, security }).toEqual({
          operation: `${method.toUpperCase()} ${path}`,
          security: expect.arrayContaining([{ bearerAuth: [] }]),
        });
        expect(Object.keys(operation.responses ?? {})).toContain('401');
      }
    }
  });

  it('documents the better-auth paths', () => {
    expect(methodsOf(document, '/auth/sign-up/email')).toContain('post');
    expect(methodsOf(document, '/auth/sign-in/email')).toContain('post');
    expect(methodsOf(document, '/auth/sign-out')).toContain('post');
    expect(methodsOf(document, '/auth/get-session')).toContain('get');
    for (const path of ['/auth/sign-up/email', '/auth/sign-in/email']) {
      expect(document.paths[path]!.post!.security).toEqual([]);
    }
  });

  it('equals the committed docs/openapi.json', () => {
    if (!existsSync(COMMITTED)) throw new Error(`docs/openapi.json is missing: ${REGENERATE}`);
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as unknown;
    try {
      expect(document).toStrictEqual(committed);
    } catch (error) {
      throw new Error(`The served OpenAPI document differs from docs/openapi.json: ${REGENERATE}\n\n${(error as Error).message}`, {
        cause: error,
      });
    }
  });
});
