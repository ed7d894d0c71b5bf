import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atOrigin, compileAndRunReadmeProgram, readmeBlock, readmeTsconfig, runNode, useGeneratedClientSuite } from '../setup/generated-client.js';

/**
 * A third generator: orval's fetch client, from README's orval.config.mjs (pointed at the listening
 * app). README's program using it (no casts) must pass strict `tsc`, then runs the same flow as the
 * other generated clients. orval once sent the JSON columns as "[object Object]" and did not compile,
 * because the stream upload declared two request media types.
 */
const ORVAL = join(process.cwd(), 'node_modules', 'orval', 'dist', 'bin', 'orval.mjs');

describe('a client generated from /api/openapi.json by orval (fetch)', () => {
  const suite = useGeneratedClientSuite('orval-');

  it("generates a client that README's program uses without casts: the whole flow, a typed 409, Parquet bytes intact", async () => {
    const { origin, workDir } = suite;
    mkdirSync(join(workDir, 'src'));
    writeFileSync(join(workDir, 'tsconfig.json'), readmeTsconfig());
    writeFileSync(join(workDir, 'orval.config.mjs'), atOrigin(readmeBlock('orval/orval.config.mjs'), origin));
    const generated = await runNode(ORVAL, ['--config', 'orval.config.mjs'], workDir);
    if (generated.code !== 0) console.error(`orval failed:\n${generated.output}`);
    expect(generated.code).toBe(0);
    const api = readFileSync(join(workDir, 'src', 'api.ts'), 'utf8');
    // The JSON upload sends JSON, the Parquet upload and download are Blobs, the 409 has its own body.
    const declares = (pattern: RegExp) => ({ pattern: pattern.source, found: pattern.test(api) });
    for (const pattern of [
      /export const uploadStream = async \([^)]*?streamColumns: StreamColumns,/,
      /body: JSON\.stringify\(\s*streamColumns\s*\)/,
      /export const uploadStreamFile = async \([^)]*?: Blob,/,
      /export type downloadStreamResponse200 = \{\s*data: Blob/,
      /export type createActivityResponse409 = \{\s*data: ActivityExistsError/,
    ]) {
      expect(declares(pattern)).toEqual({ pattern: pattern.source, found: true });
    }

    await compileAndRunReadmeProgram('orval', workDir, origin);
  }, 240_000);
});
