/**
 * `npm run openapi:generate`: boots the real application on a throw-away in-memory PGlite database,
 * fetches the OpenAPI document it serves at /api/openapi.json and writes it to docs/openapi.json
 * (2-space indent, trailing newline). The committed file is checked against the served document by
 * test/e2e/openapi-document.e2e.spec.ts.
 *
 * `--check` writes nothing and exits 1 when docs/openapi.json differs from the served document.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app.js';
import { parseEnv } from '../src/config/env.js';
import { openDatabase } from '../src/database/database.js';
import { seedCatalog } from '../src/database/seed.js';

/** The repository root: the nearest folder above this file (src or dist) holding package.json. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export async function servedOpenApiDocument(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'activity-api-openapi-'));
  const database = openDatabase({});
  try {
    await database.migrate();
    await seedCatalog(database.db);
    const env = parseEnv({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      AUTH_SECRET: 'openapi-generator-secret-0123456789abcdef',
      DATA_DIR: dataDir,
    });
    const app = await createApp(env, { database });
    try {
      const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
      if (response.statusCode !== 200) {
        throw new Error(`GET /api/openapi.json answered ${response.statusCode}: ${response.body}`);
      }
      return response.json();
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

const root = repositoryRoot();
const target = join(root, 'docs', 'openapi.json');
const check = process.argv.includes('--check');

try {
  const text = formatDocument(await servedOpenApiDocument());
  const shown = relative(process.cwd(), target) || target;
  if (check) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== text) {
      console.error(`${shown} is out of date: run \`npm run openapi:generate\` and commit docs/openapi.json`);
      process.exit(1);
    }
    console.log(`${shown} is up to date.`);
  } else {
    writeFileSync(target, text);
    console.log(`Wrote ${shown} (${Buffer.byteLength(text)} bytes).`);
  }
} catch (error) {
  console.error(`OpenAPI generation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
