import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signUp } from '../factories/api.js';
import { atOrigin, compileAndRunReadmeProgram, readmeBlock, readmeTsconfig, runNode, TSC, useGeneratedClientSuite } from '../setup/generated-client.js';

/**
 * A third-party client built only from the served OpenAPI document: the openapi-typescript CLI
 * turns http://127.0.0.1:<port>/api/openapi.json into `paths` types, a small openapi-fetch program
 * using them must pass `tsc --noEmit` (strict, nodenext), and the compiled program then runs against
 * the listening app. The types go to api.ts (not .d.ts) so that tsc checks them despite skipLibCheck.
 *
 * The second test runs README's recipe: its generate.mjs (openapi-typescript's Node API with the
 * `transform` hook that types binary as Blob) and its program: list, create, a typed 409, JSON and
 * Parquet uploads and the download, with no casts.
 */

const OPENAPI_TYPESCRIPT = join(process.cwd(), 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    outDir: 'out',
    rootDir: '.',
  },
  files: ['api.ts', 'client.ts'],
};

/** The program under test. The `@ts-expect-error` lines fail the compile if the types were loose (e.g. `any`). */
const CLIENT_PROGRAM = `import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api.js';

type AthleteList = paths['/v1/athletes']['get']['responses'][200]['content']['application/json'];
type ApiError = components['schemas']['Error'];

export interface Outcome {
  signedInAs: string;
  athleteIds: string[];
  created: { status: number; id: string; displayName: string; timeZone: string };
  fetchedId: string;
  anonymous: { status: number; code: string | undefined };
}

export async function listMyAthletes(baseUrl: string, email: string, password: string): Promise<Outcome> {
  const client: Client<paths> = createClient<paths>({ baseUrl });

  const signIn = await client.POST('/auth/sign-in/email', { body: { email, password } });
  if (!signIn.data) throw new Error(\`sign-in failed: \${signIn.response.status} \${JSON.stringify(signIn.error)}\`);
  const token = signIn.response.headers.get('set-auth-token');
  if (!token) throw new Error('sign-in returned no set-auth-token header');
  const headers = { Authorization: \`Bearer \${token}\` };

  const list = await client.GET('/v1/athletes', { headers });
  if (!list.data) throw new Error(\`list failed: \${list.response.status} \${JSON.stringify(list.error)}\`);
  const athletes: AthleteList['items'] = list.data.items;

  const created = await client.POST('/v1/athletes', {
    headers,
    body: { displayName: 'Typed client athlete', timeZone: 'Europe/Berlin' },
  });
  if (!created.data) throw new Error(\`create failed: \${created.response.status} \${JSON.stringify(created.error)}\`);

  const fetched = await client.GET('/v1/athletes/{id}', { headers, params: { path: { id: created.data.id } } });
  if (!fetched.data) throw new Error(\`get failed: \${fetched.response.status} \${JSON.stringify(fetched.error)}\`);

  const anonymous = await client.GET('/v1/athletes');
  const anonymousError: ApiError | undefined = anonymous.error;

  return {
    signedInAs: signIn.data.user.email,
    athleteIds: athletes.map((athlete) => athlete.id),
    created: {
      status: created.response.status,
      id: created.data.id,
      displayName: created.data.displayName,
      timeZone: created.data.timeZone,
    },
    fetchedId: fetched.data.id,
    anonymous: { status: anonymous.response.status, code: anonymousError?.code },
  };
}

/** Never called: only compiled, to prove the generated types reject wrong calls. */
export function rejectedAtCompileTime(client: Client<paths>): void {
  // @ts-expect-error not a documented path
  void client.GET('/v1/no-such-path');
  // @ts-expect-error displayName must be a string
  void client.POST('/v1/athletes', { body: { displayName: 42 } });
  // @ts-expect-error the id path parameter is required
  void client.GET('/v1/athletes/{id}', {});
  // @ts-expect-error sign-in needs a password
  void client.POST('/auth/sign-in/email', { body: { email: 'a@example.test' } });
}

const [baseUrl, email, password] = process.argv.slice(2);
if (baseUrl && email && password) {
  console.log(JSON.stringify(await listMyAthletes(baseUrl, email, password)));
}
`;

const node = runNode;
const tsc = (dir: string, ...args: string[]) => node(TSC, ['-p', join(dir, 'tsconfig.json'), ...args], dir);

describe('a client generated from /api/openapi.json (openapi-typescript + openapi-fetch)', () => {
  const suite = useGeneratedClientSuite('openapi-fetch-');

  it('generates types from the served document, type-checks a program against them and runs it', async () => {
    const workDir = join(suite.workDir, 'athletes');
    mkdirSync(workDir);
    // 1. The generator reads the document the running server serves.
    const generated = await node(OPENAPI_TYPESCRIPT, [`${suite.origin}/api/openapi.json`, '--output', 'api.ts'], workDir);
    if (generated.code !== 0) console.error(`openapi-typescript failed:\n${generated.output}`);
    expect(generated.code).toBe(0);
    const types = readFileSync(join(workDir, 'api.ts'), 'utf8');
    expect(types).toContain('export interface paths');
    expect(types).toContain('"/v1/athletes": {');
    expect(types).toContain('"/auth/sign-in/email": {');
    writeFileSync(join(workDir, 'client.ts'), CLIENT_PROGRAM);
    writeFileSync(join(workDir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));

    // 2. The program compiles against the generated types (strict, nodenext).
    const check = await tsc(workDir, '--noEmit');
    if (check.code !== 0) console.error(`tsc --noEmit failed:\n${check.output}`);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);

    // 3. The compiled program signs in and lists the athletes of a real user.
    const build = await tsc(workDir, '--noCheck');
    expect(build).toMatchObject({ code: 0, output: '' });
    const user = await signUp(suite.t, 'Generated Client');
    const program = await node(join(workDir, 'out', 'client.js'), [`${suite.origin}/api`, user.email, user.password], workDir);
    if (program.code !== 0) console.error(`the generated client failed:\n${program.output}`);
    expect(program.code).toBe(0);
    const outcome = JSON.parse(program.stdout) as {
      signedInAs: string;
      athleteIds: string[];
      created: { status: number; id: string; displayName: string; timeZone: string };
      fetchedId: string;
      anonymous: { status: number; code?: string };
    };
    expect(outcome.signedInAs).toBe(user.email);
    expect(outcome.athleteIds).toEqual([user.athleteId]);
    expect(outcome.created).toEqual({
      status: 201,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      displayName: 'Typed client athlete',
      timeZone: 'Europe/Berlin',
    });
    expect(outcome.fetchedId).toBe(outcome.created.id);
    expect(outcome.anonymous).toEqual({ status: 401, code: 'UNAUTHORIZED' });

    // The athlete the program created is really stored for this user.
    const after = await suite.t.http().get('/api/v1/athletes').set(user.auth).expect(200);
    expect((after.body as { items: { id: string }[] }).items.map((athlete) => athlete.id).sort()).toEqual(
      [user.athleteId, outcome.created.id].sort(),
    );
  }, 180_000);

  it("runs README's recipe: Blob-typed files through the transform hook, the whole flow, a typed 409, no casts", async () => {
    const workDir = join(suite.workDir, 'readme');
    mkdirSync(join(workDir, 'src'), { recursive: true });
    writeFileSync(join(workDir, 'tsconfig.json'), readmeTsconfig());
    writeFileSync(join(workDir, 'generate.mjs'), atOrigin(readmeBlock('openapi-fetch/generate.mjs'), suite.origin));
    const generated = await node(join(workDir, 'generate.mjs'), [], workDir);
    if (generated.code !== 0) console.error(`generate.mjs failed:\n${generated.output}`);
    expect(generated.code).toBe(0);
    const types = readFileSync(join(workDir, 'src', 'api.ts'), 'utf8');
    // Parquet upload and download are Blobs, the JSON upload takes only the columns, the 409 is named.
    const declares = (pattern: RegExp) => ({ pattern: pattern.source, found: pattern.test(types) });
    for (const pattern of [
      /"application\/vnd\.apache\.parquet": Blob;/,
      /requestBody: \{\s*content: \{\s*(?:\/\*\*[^/]*\*\/\s*)?"application\/json": components\["schemas"\]\["StreamColumns"\];\s*\};\s*\};/,
      /409: \{\s*headers: \{[^}]*\};\s*content: \{\s*"application\/json": components\["schemas"\]\["ActivityExistsError"\];/,
    ]) {
      expect(declares(pattern)).toEqual({ pattern: pattern.source, found: true });
    }

    await compileAndRunReadmeProgram('openapi-fetch', workDir, suite.origin);
  }, 180_000);
});
