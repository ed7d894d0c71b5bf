import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileAndRunReadmeProgram, readmeTsconfig, runNode, useGeneratedClientSuite } from '../setup/generated-client.js';

/**
 * A second, independent generator: @hey-api/openapi-ts builds a fetch SDK from the served
 * /api/openapi.json, and README's program using it (no casts) must pass strict `tsc`, then runs
 * sign-up → list → create → the same again (a typed 409) → JSON upload → Parquet upload → download
 * (the bytes equal the Parquet upload) against the listening app.
 */
const HEY_API = join(process.cwd(), 'node_modules', '@hey-api', 'openapi-ts', 'bin', 'run.js');

describe('a client generated from /api/openapi.json by @hey-api/openapi-ts', () => {
  const suite = useGeneratedClientSuite('hey-api-');

  it("generates an SDK that README's program uses without casts: the whole flow, a typed 409, Parquet bytes intact", async () => {
    const { origin, workDir } = suite;
    mkdirSync(join(workDir, 'src'));
    writeFileSync(join(workDir, 'tsconfig.json'), readmeTsconfig());
    const generated = await runNode(HEY_API, ['-i', `${origin}/api/openapi.json`, '-o', 'src/api', '-c', '@hey-api/client-fetch'], workDir);
    if (generated.code !== 0) console.error(`@hey-api/openapi-ts failed:\n${generated.output}`);
    expect(generated.code).toBe(0);
    const types = readFileSync(join(workDir, 'src', 'api', 'types.gen.ts'), 'utf8');
    // Named schemas keep their names, binary bodies are Blobs, the JSON upload takes only the columns.
    // (Checked as booleans: a failing toMatch would print the whole generated file.)
    const declares = (pattern: RegExp) => ({ pattern: pattern.source, found: pattern.test(types) });
    for (const name of ['ActivityCreate', 'ActivityDetail', 'ActivitySummary', 'StreamColumns', 'StreamMetadata', 'Athlete', 'Error', 'ActivityExistsError']) {
      const pattern = new RegExp(`export type ${name} = `);
      expect(declares(pattern)).toEqual({ pattern: pattern.source, found: true });
    }
    for (const pattern of [
      /export type UploadStreamData = \{\s*body: StreamColumns;/,
      /export type UploadStreamFileData = \{[^}]*?body: Blob \| File;/,
      /export type DownloadStreamResponses = \{[^}]*?200: Blob \| File;/,
      /export type CreateActivityErrors = \{[^}]*?409: ActivityExistsError;/,
      /files\?: Array<Blob \| File>;/,
    ]) {
      expect(declares(pattern)).toEqual({ pattern: pattern.source, found: true });
    }

    await compileAndRunReadmeProgram('hey-api', workDir, origin);
  }, 240_000);
});
