import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createActivity } from '../factories/activities.js';
import { asBytes, signUp } from '../factories/api.js';
import { gpxDocument, trackPoints } from '../factories/imports.js';
import { createTestApp, type TestApp } from '../setup/app.js';

/**
 * The contract package as a client outside this repository gets it: `npm pack` of libs/contract,
 * installed from the tarball into an empty temporary project (dependencies from the npm cache), a
 * strict TypeScript program there that imports it must compile, and the compiled program calls
 * `activities.list` over /api/rpc of the listening app, then every procedure that takes a File:
 * `streams.uploadFile` and `streams.upload` with a Parquet File, and `imports.create` with a GPX file
 * (oRPC's client sends such an input as multipart).
 */
const run = promisify(execFile);
const ROOT = process.cwd();
const PACKAGE_DIR = join(ROOT, 'libs', 'contract');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** Children must not inherit Jest's --experimental-vm-modules. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS'));
const ORPC_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@orpc', 'client', 'package.json'), 'utf8')) as { version: string }).version;

const CLIENT_PROGRAM = `import { createORPCClient } from '@orpc/client';
import { RPCLink } from '@orpc/client/fetch';
import type { ContractRouterClient } from '@orpc/contract';
import { contract, STREAM_TYPES, type ActivityList, type ActivitySummary, type ImportResult, type StreamMetadata } from '@unified-activity/contract';

declare const process: { argv: string[] };

type ApiClient = ContractRouterClient<typeof contract>;

const [url, token, athleteId, activityId, parquetBase64, gpx] = process.argv.slice(2) as [string, string, string, string, string, string];
const client: ApiClient = createORPCClient<ApiClient>(new RPCLink({ url, headers: { Authorization: \`Bearer \${token}\` } }));

const page: ActivityList = await client.activities.list({});
const first: ActivitySummary | undefined = page.items[0];
// @ts-expect-error the contract has no such procedure: the client is typed, not any
void client.activities.nonexistent;
// @ts-expect-error activityType is a string slug
const wrong: ActivitySummary['activityType'] = 42;
void wrong;

// Every procedure that takes a File, as a user of the package would call it.
const parquet = Uint8Array.from(atob(parquetBase64), (char) => char.charCodeAt(0));
const parquetFile = () => new File([parquet], 'heart_rate.parquet', { type: 'application/vnd.apache.parquet' });
const params = { id: activityId, type: 'heart_rate' } as const;
const viaFile: StreamMetadata = await client.streams.uploadFile({ params, body: parquetFile() });
const viaUpload: StreamMetadata = await client.streams.upload({ params, body: parquetFile() });
const imported = await client.imports.create({
  params: { id: athleteId },
  query: {},
  body: { files: [new File([gpx], 'morning.gpx', { type: 'application/gpx+xml' })] },
});
const importResult: ImportResult | undefined = imported.status === 200 ? imported.body : undefined;

console.log(JSON.stringify({
  count: page.items.length,
  name: first?.name,
  startTimeIsDate: first?.startTime instanceof Date,
  path: contract.activities.list['~orpc'].route.path,
  streamTypes: STREAM_TYPES.length,
  uploadFile: { type: viaFile.streamType, samples: viaFile.sampleCount, updatedIsDate: viaFile.updatedAt instanceof Date },
  upload: { type: viaUpload.streamType, samples: viaUpload.sampleCount, checksum: viaUpload.checksumSha256 === viaFile.checksumSha256 },
  importStatus: imported.status,
  imported: importResult && { created: importResult.summary.created, files: importResult.files.map((file) => [file.fileName, file.status, file.activityIds.length]) },
}));
`;

describe('the contract package, packed and installed into an empty project', () => {
  let t: TestApp;
  let rpcUrl: string;
  let work: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    rpcUrl = `http://127.0.0.1:${port}/api/rpc`;
    work = mkdtempSync(join(tmpdir(), 'contract-client-'));
  });
  afterAll(async () => {
    await t?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs from its tarball with only @orpc/contract and zod, compiles a client, calls activities.list and each File procedure over RPC', async () => {
    const user = await signUp(t, 'Package Client');
    const activity = await createActivity(t, user, { name: 'Packed run' });
    // A Parquet file of the documented schema: the server's own encoding of a JSON upload.
    const start = Date.parse('2026-05-01T06:10:00Z');
    await t
      .http()
      .put(`/api/v1/activities/${activity.id}/streams/heart_rate`)
      .set(user.auth)
      .send({ timestamps: [start, start + 1000, start + 2000], values: [120, 125, 130] })
      .expect(200);
    const download = await t
      .http()
      .get(`/api/v1/activities/${activity.id}/streams/heart_rate/file?redirect=false`)
      .set(user.auth)
      .buffer(true)
      .parse(asBytes)
      .expect(200);
    const parquet = download.body as Buffer;
    expect(parquet.subarray(0, 4).toString('latin1')).toBe('PAR1');
    const gpx = gpxDocument(new Date('2026-04-20T07:00:00Z'), trackPoints(30));

    // Build the declarations, then pack (what `npm publish` would upload).
    await run(process.execPath, [TSC, '-b', PACKAGE_DIR], { env: childEnv, cwd: ROOT });
    const { stdout: packed } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      env: childEnv,
      cwd: PACKAGE_DIR,
    });
    const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/activities.contract.d.ts']));
    expect(paths.filter((path) => path.endsWith('.tsbuildinfo'))).toEqual([]);

    const project = join(work, 'client');
    rmSync(project, { recursive: true, force: true });
    await run('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'contract-client', private: true, type: 'module', dependencies: { '@orpc/client': ORPC_VERSION } }, null, 2),
    );
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, filename)], {
      env: childEnv,
      cwd: project,
      timeout: 120_000,
    });
    const installed = JSON.parse(readFileSync(join(project, 'node_modules', '@unified-activity', 'contract', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(installed.dependencies).sort()).toEqual(['@orpc/contract', 'zod']);
    // None of the server's packages came along.
    const topLevel = readdirSync(join(project, 'node_modules'));
    for (const serverPackage of ['drizzle-orm', 'better-auth', '@nestjs', 'fastify', 'postgres', 'hyparquet']) expect(topLevel).not.toContain(serverPackage);

    writeFileSync(join(project, 'client.ts'), CLIENT_PROGRAM);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['ES2023', 'DOM'],
          types: [],
          strict: true,
          noUncheckedIndexedAccess: true,
          // @orpc/shared's declarations name the optional @opentelemetry/api; the program's own use is checked.
          skipLibCheck: true,
          outDir: 'out',
        },
        files: ['client.ts'],
      }),
    );
    try {
      await run(process.execPath, [TSC, '-p', project], { env: childEnv, cwd: project });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`the client did not compile:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
    }

    const args = [join(project, 'out', 'client.js'), rpcUrl, user.token, user.athleteId, activity.id, parquet.toString('base64'), gpx];
    const { stdout } = await run(process.execPath, args, { env: childEnv, cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      count: 1,
      name: 'Packed run',
      startTimeIsDate: true,
      path: '/v1/activities',
      streamTypes: 8,
      uploadFile: { type: 'heart_rate', samples: 3, updatedIsDate: true },
      upload: { type: 'heart_rate', samples: 3, checksum: true },
      importStatus: 200,
      imported: { created: 1, files: [['morning.gpx', 'created', 1]] },
    });
    // The import created what it answered.
    const imported = await t.http().get('/api/v1/activities').query({ athleteId: user.athleteId }).set(user.auth).expect(200);
    expect((imported.body as { items: { name: string }[] }).items.map((item) => item.name).sort()).toEqual(['Morning Run', 'Packed run']);
  }, 240_000);
});
