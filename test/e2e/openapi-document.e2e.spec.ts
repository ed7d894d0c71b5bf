import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod';
import { contract } from '@unified-activity/contract';
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
const REDOCLY = join(process.cwd(), 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
const run = promisify(execFile);

/** Every value under `value`, with the JSON pointer-ish path leading to it. */
function* walk(value: unknown, path = '#'): Generator<[string, unknown]> {
  yield [path, value];
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) yield* walk(child, `${path}/${key}`);
}
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

  it('lints clean with redocly (recommended rules: no errors, no warnings)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(document));
      const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS'));
      const { stdout, stderr } = await run(process.execPath, [REDOCLY, 'lint', file, '--format=json'], {
        env: { ...childEnv, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        cwd: dir,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
      const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
      if (report.problems.length > 0) console.error(`redocly lint:\n${JSON.stringify(report.problems, null, 2)}\n${stderr}`);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is OpenAPI 3.1 throughout: no 3.0 `nullable` anywhere, and the user image may be null', () => {
    const nullable = [...walk(document)].filter(([path]) => path.endsWith('/nullable')).map(([path]) => path);
    expect(nullable).toEqual([]);
    const schemas = (document.components as { schemas: Record<string, { properties?: Record<string, { type?: unknown }> }> }).schemas;
    expect(schemas.User?.properties?.image?.type).toEqual(['string', 'null']);
  });

  it('has every named schema of the contract as a component, used through $ref', () => {
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    const named = [...z.globalRegistry._idmap.keys()];
    expect(named.length).toBeGreaterThanOrEqual(15);
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(named));
    const refs = new Set([...walk(document)].filter(([path]) => path.endsWith('/$ref')).map(([, ref]) => ref));
    for (const name of [...named, 'Error', 'User']) expect({ name, used: refs.has(`#/components/schemas/${name}`) }).toEqual({ name, used: true });
    const json = (path: string, method: string) =>
      (document.paths[path]![method] as { requestBody?: { content: Record<string, { schema: unknown }> } }).requestBody?.content['application/json']?.schema;
    expect(json('/v1/activities', 'post')).toEqual({ $ref: '#/components/schemas/ActivityCreate' });
    expect(json('/v1/activities/{id}', 'patch')).toEqual({ $ref: '#/components/schemas/ActivityUpdate' });
  });

  it('declares one request media type per operation, files as binary, 204s without a body, and the extra statuses', () => {
    type BodyOperation = Operation & { requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> } };
    const body = (path: string, method: string) => (document.paths[path]![method] as BodyOperation).requestBody!;
    // One media type each: a generator then builds one typed body and serialises it that way.
    const withBodies = operations(document).filter(({ operation }) => (operation as BodyOperation).requestBody !== undefined);
    expect(withBodies.length).toBeGreaterThanOrEqual(10);
    for (const { path, method, operation } of withBodies) {
      const mediaTypes = Object.keys((operation as BodyOperation).requestBody!.content);
      expect({ operation: `${method} ${path}`, mediaTypes: mediaTypes.length }).toEqual({ operation: `${method} ${path}`, mediaTypes: 1 });
    }
    const upload = document.paths['/v1/activities/{id}/streams/{type}']!.put!;
    expect(body('/v1/activities/{id}/streams/{type}', 'put').content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/StreamColumns' }, example: expect.any(Object) },
    });
    expect(Object.keys(upload.responses ?? {})).toEqual(expect.arrayContaining(['200', '413', '503']));
    const parquet = body('/v1/activities/{id}/streams/{type}/file', 'put');
    expect(Object.keys(parquet.content)).toEqual(['application/vnd.apache.parquet']);
    expect(parquet.content['application/vnd.apache.parquet']!.schema).toMatchObject({ type: 'string', format: 'binary' });
    const imports = body('/v1/athletes/{id}/imports', 'post');
    expect(Object.keys(imports.content)).toEqual(['multipart/form-data']);
    expect(imports.content['multipart/form-data']!.schema).toMatchObject({ properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } } } });
    const download = document.paths['/v1/activities/{id}/streams/{type}/file']!.get!.responses as Record<string, { content?: Record<string, unknown> }>;
    expect(download['200']!.content).toEqual({ 'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } } });
    const original = document.paths['/v1/activities/{id}/original']!.get!.responses as Record<string, { content?: Record<string, unknown> }>;
    expect(original['200']!.content).toEqual({ '*/*': { schema: { type: 'string', format: 'binary' } } });
    // No file is left as a string of some media type (generators type that as a string, not a Blob).
    const mediaTyped = [...walk(document)].filter(([path]) => path.endsWith('/contentMediaType')).map(([path]) => path);
    expect(mediaTyped).toEqual([]);
    for (const { path, method, operation } of operations(document)) {
      const noContent = (operation.responses as Record<string, { content?: unknown }> | undefined)?.['204'];
      if (noContent) expect({ operation: `${method} ${path}`, content: noContent.content }).toEqual({ operation: `${method} ${path}`, content: undefined });
    }
    expect(Object.keys(document.paths['/v1/activities']!.post!.responses ?? {})).toContain('409');
    const signUp = document.paths['/auth/sign-up/email']!.post as Operation & { requestBody: { required: boolean } };
    expect(signUp.requestBody.required).toBe(true);
    const athleteParameters = (document.paths['/v1/athletes']!.get as Operation & { parameters: { name: string; in: string }[] }).parameters;
    expect(athleteParameters.map(({ name, in: where }) => `${where}:${name}`).sort()).toEqual(['query:cursor', 'query:limit']);
  });

  describe('error responses, from the contract\'s .errors() declarations', () => {
    type Schema = { $ref?: string; oneOf?: Schema[]; type?: string; format?: string; enum?: string[]; properties?: Record<string, Schema>; required?: string[] };
    const schemas = () => (document.components as { schemas: Record<string, Schema> }).schemas;
    const component = (ref: string | undefined) => schemas()[(ref ?? '').replace('#/components/schemas/', '')];
    const errorSchema = (operation: Operation, status: string) =>
      (operation.responses?.[status] as { content?: { 'application/json'?: { schema?: Schema } } } | undefined)?.content?.['application/json']?.schema;
    /** The codes a response's body may carry: the `code` enums of the components it refers to. */
    const codesOf = (schema: Schema | undefined): string[] =>
      (schema?.oneOf ?? (schema ? [schema] : [])).flatMap((variant) => component(variant.$ref)?.properties?.code?.enum ?? []);

    /** Every procedure of the contract with its operation in the document and its declared errors by status. */
    const declared = () =>
      Object.values(contract).flatMap((group) =>
        Object.values(group).map((procedure) => {
          const { route, errorMap } = procedure['~orpc'];
          const byStatus = new Map<string, string[]>();
          for (const [code, config] of Object.entries(errorMap as Record<string, { status?: number }>)) {
            const status = String(config.status);
            byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
          }
          return { id: route.operationId!, operation: document.paths[route.path!]![route.method!.toLowerCase()]!, byStatus };
        }),
      );

    it('answers createActivity\'s 409 with the named ActivityExistsError: code CONFLICT, message, existingId (uuid), all required', () => {
      const operation = document.paths['/v1/activities']!.post!;
      expect(errorSchema(operation, '409')).toEqual({ $ref: '#/components/schemas/ActivityExistsError' });
      const body = schemas()['ActivityExistsError']!;
      expect(body.properties?.code).toMatchObject({ type: 'string', enum: ['CONFLICT'] });
      expect(body.properties?.message).toMatchObject({ type: 'string' });
      expect(body.properties?.existingId).toMatchObject({ type: 'string', format: 'uuid' });
      expect([...(body.required ?? [])].sort()).toEqual(['code', 'existingId', 'message']);
    });

    it('documents exactly the declared error statuses of every operation, each with the declared codes', () => {
      for (const { id, operation, byStatus } of declared()) {
        const documented = Object.keys(operation.responses ?? {}).filter((status) => Number(status) >= 400);
        expect({ id, statuses: documented.sort() }).toEqual({ id, statuses: [...byStatus.keys()].sort() });
        for (const [status, codes] of byStatus) {
          expect({ id, status, codes: codesOf(errorSchema(operation, status)).sort() }).toEqual({ id, status, codes: [...codes].sort() });
        }
      }
    });

    it('documents 409 where CONFLICT is declared and nowhere else', () => {
      const withConflict = declared()
        .filter(({ operation }) => operation.responses?.['409'] !== undefined)
        .map(({ id }) => id)
        .sort();
      expect(withConflict).toEqual(['connectionCallback', 'createActivity', 'downloadExport', 'ingestSyncBatch', 'startSync', 'updateActivity']);
      expect(document.paths['/v1/athletes']!.post!.responses?.['409']).toBeUndefined();
      expect(document.paths['/v1/activity-types']!.get!.responses?.['401']).toBeUndefined();
    });

    it('describes our wire body (data fields at the top level), never oRPC\'s { defined, status, data } envelope', () => {
      for (const { operation, byStatus } of declared()) {
        for (const status of byStatus.keys()) {
          for (const variant of errorSchema(operation, status)?.oneOf ?? [errorSchema(operation, status)!]) {
            const body = component(variant.$ref);
            expect(body?.required).toEqual(expect.arrayContaining(['code', 'message']));
            expect(Object.keys(body?.properties ?? {})).not.toEqual(expect.arrayContaining(['defined']));
            expect(body?.properties?.data).toBeUndefined();
          }
        }
      }
      expect(schemas()['UnknownActivityTypeError']?.required).toEqual(expect.arrayContaining(['suggestions']));
    });
  });
});
