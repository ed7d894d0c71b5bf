import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestApp } from '../setup/app.js';

/**
 * A second, independent generator: @hey-api/openapi-ts builds a fetch SDK from the served
 * /api/openapi.json; a program using it with no casts must pass strict `tsc`, then runs
 * sign-up → create → list → stream upload (JSON, then Parquet) → download (the bytes equal the
 * Parquet upload) → delete against the listening app.
 */
const run = promisify(execFile);
const GENERATED_ROOT = join(process.cwd(), 'test', 'generated');
const TSC = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
const HEY_API = join(process.cwd(), 'node_modules', '@hey-api', 'openapi-ts', 'bin', 'run.js');
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS'));

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['ES2023', 'DOM'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    outDir: 'out',
    rootDir: '.',
  },
  include: ['client.ts', 'sdk/**/*.ts'],
};

const CLIENT_PROGRAM = `import {
  createActivity,
  deleteActivity,
  downloadStream,
  getActivity,
  listActivities,
  listAthletes,
  signUpWithEmailAndPassword,
  uploadStream,
  uploadStreamFile,
  type ActivityDetail,
  type StreamMetadata,
} from './sdk/index.js';
import { client } from './sdk/client.gen.js';

const [baseUrl, email] = process.argv.slice(2) as [string, string];
client.setConfig({ baseUrl });

const signUp = await signUpWithEmailAndPassword({ body: { name: 'Hey API', email, password: 'correct horse battery' } });
const token = signUp.response?.headers.get('set-auth-token');
if (!signUp.data || !token) throw new Error(\`sign-up failed: \${signUp.response?.status} \${JSON.stringify(signUp.error)}\`);
client.setConfig({ baseUrl, headers: { Authorization: \`Bearer \${token}\` } });

const athletes = await listAthletes({ query: { limit: 10 } });
const athleteId = athletes.data?.items[0]?.id;
if (!athleteId) throw new Error(\`no athlete: \${JSON.stringify(athletes.error)}\`);

const created = await createActivity({
  body: { athleteId, activityType: 'running', name: 'Hey API run', startTime: '2026-05-01T06:00:00Z', endTime: '2026-05-01T07:00:00Z' },
});
if (!created.data) throw new Error(\`create failed: \${created.response?.status} \${JSON.stringify(created.error)}\`);
const activity: ActivityDetail = created.data;
const path = { id: activity.id, type: 'heart_rate' as const };

const listed = await listActivities({ query: { athleteId } });
const listedIds = listed.data?.items.map((item) => item.id) ?? [];

const start = Date.parse('2026-05-01T06:10:00Z');
const json = await uploadStream({ path, body: { timestamps: [start, start + 1000, start + 2000], values: [120, 125, 130] } });
if (!json.data) throw new Error(\`JSON upload failed: \${json.response?.status} \${JSON.stringify(json.error)}\`);
const fromJson: StreamMetadata = json.data;

const first = await downloadStream({ path });
if (!(first.data instanceof Blob)) throw new Error(\`download failed: \${first.response?.status}\`);
const parquet = new Uint8Array(await first.data.arrayBuffer());

const file = new File([parquet], 'heart_rate.parquet', { type: 'application/vnd.apache.parquet' });
const binary = await uploadStreamFile({ path, body: file });
if (!binary.data) throw new Error(\`Parquet upload failed: \${binary.response?.status} \${JSON.stringify(binary.error)}\`);

const second = await downloadStream({ path });
if (!(second.data instanceof Blob)) throw new Error(\`second download failed: \${second.response?.status}\`);
const downloaded = new Uint8Array(await second.data.arrayBuffer());

const removed = await deleteActivity({ path: { id: activity.id } });
const gone = await getActivity({ path: { id: activity.id } });

console.log(JSON.stringify({
  createdStatus: created.response?.status,
  listed: listedIds.includes(activity.id),
  jsonSamples: fromJson.sampleCount,
  parquetSamples: binary.data.sampleCount,
  downloadType: second.response?.headers.get('content-type'),
  magic: new TextDecoder().decode(downloaded.slice(0, 4)),
  bytesEqual: downloaded.length === parquet.length && downloaded.every((byte, index) => byte === parquet[index]),
  deleteStatus: removed.response?.status,
  afterDelete: { status: gone.response?.status, code: gone.error?.code },
}));
`;

async function node(script: string, args: string[], cwd: string): Promise<{ code: number; output: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd, env: childEnv, timeout: 120_000 });
    return { code: 0, output: stdout + stderr, stdout };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` || failure.message, stdout: failure.stdout ?? '' };
  }
}

describe('a client generated from /api/openapi.json by @hey-api/openapi-ts', () => {
  let t: TestApp;
  let origin: string;
  let workDir: string;
  const nodeEnv = process.env.NODE_ENV;

  beforeAll(async () => {
    // As in generated-client.e2e.spec.ts: load better-auth with its origin checks on, as `npm start` does.
    process.env.NODE_ENV = 'development';
    const { createTestApp } = await import('../setup/app.js');
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
    mkdirSync(GENERATED_ROOT, { recursive: true });
    workDir = mkdtempSync(join(GENERATED_ROOT, 'hey-api-'));
  });

  afterAll(async () => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    try {
      if (readdirSync(GENERATED_ROOT).length === 0) rmdirSync(GENERATED_ROOT);
    } catch {
      // another suite may be using the folder
    }
    await t?.close();
    process.env.NODE_ENV = nodeEnv;
  });

  it('generates an SDK that compiles without casts and runs the whole flow, Parquet bytes intact', async () => {
    writeFileSync(join(workDir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    const generated = await node(HEY_API, ['-i', `${origin}/api/openapi.json`, '-o', 'sdk', '-c', '@hey-api/client-fetch'], workDir);
    if (generated.code !== 0) console.error(`@hey-api/openapi-ts failed:\n${generated.output}`);
    expect(generated.code).toBe(0);
    const types = readFileSync(join(workDir, 'sdk', 'types.gen.ts'), 'utf8');
    // Named schemas keep their names, and binary bodies are Blobs, not strings.
    // (Checked as booleans: a failing toMatch would print the whole generated file.)
    const declares = (pattern: RegExp) => ({ pattern: pattern.source, found: pattern.test(types) });
    for (const name of ['ActivityCreate', 'ActivityDetail', 'ActivitySummary', 'StreamColumns', 'StreamMetadata', 'Athlete', 'Error']) {
      const pattern = new RegExp(`export type ${name} = `);
      expect(declares(pattern)).toEqual({ pattern: pattern.source, found: true });
    }
    for (const pattern of [/export type UploadStreamFileData = \{[^}]*?body: Blob \| File;/, /export type DownloadStreamResponses = \{[^}]*?200: Blob \| File;/]) {
      expect(declares(pattern)).toEqual({ pattern: pattern.source, found: true });
    }
    writeFileSync(join(workDir, 'client.ts'), CLIENT_PROGRAM);
    expect(CLIENT_PROGRAM).not.toMatch(/\bas (any|unknown)\b|@ts-/);

    const check = await node(TSC, ['-p', join(workDir, 'tsconfig.json')], workDir);
    if (check.code !== 0) console.error(`tsc failed:\n${check.output}`);
    expect(check).toMatchObject({ code: 0, output: '' });

    const program = await node(join(workDir, 'out', 'client.js'), [`${origin}/api`, `hey-api-${Date.now()}@example.com`], workDir);
    if (program.code !== 0) console.error(`the generated client failed:\n${program.output}`);
    expect(program.code).toBe(0);
    expect(JSON.parse(program.stdout)).toEqual({
      createdStatus: 201,
      listed: true,
      jsonSamples: 3,
      parquetSamples: 3,
      downloadType: expect.stringMatching(/^application\/vnd\.apache\.parquet/),
      magic: 'PAR1',
      bytesEqual: true,
      deleteStatus: 204,
      afterDelete: { status: 404, code: 'NOT_FOUND' },
    });
  }, 240_000);
});
