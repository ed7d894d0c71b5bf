import { afterAll, beforeAll, expect } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestApp } from './app.js';

/**
 * What the generated-client suites share: a work folder under test/generated/ (eslint and git
 * ignore it; the programs there resolve the generators, openapi-fetch and @types/node from the
 * project's node_modules, so nothing is downloaded), a child-process runner, and the README's
 * client programs, which the suites compile and run exactly as written.
 */
const run = promisify(execFile);
const GENERATED_ROOT = join(process.cwd(), 'test', 'generated');
export const TSC = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
/** Children must not inherit Jest's --experimental-vm-modules. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS'));

/**
 * README's tsconfig.json for the client programs (strict, Node's ESM, src/ → dist/). The work folder
 * lies inside the project: its own tsconfig.json keeps tsc from finding the project's.
 */
export const readmeTsconfig = () => readmeBlock('tsconfig.json');

/**
 * What every README client program prints, checked the same way: the 409's typed `existingId` names
 * the activity just created, it is listed, both uploads stored three samples, and the Parquet bytes
 * came back unchanged. The program itself must use no cast (`as const` is not one) nor ts-comments.
 */
export function expectClientOutcome(program: string, stdout: string): void {
  const code = program.replace(/\/\/.*$/gm, (comment) => (comment.includes('@ts-') ? comment : ''));
  expect(code.match(/\bas (?!const\b)\w+|@ts-/g)).toBeNull();
  const outcome = JSON.parse(stdout) as { conflict: { created: string } };
  expect(outcome).toEqual({
    conflict: { status: 409, existingId: outcome.conflict.created, created: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    listed: true,
    samples: [3, 3],
    bytesEqual: true,
  });
}

export interface NodeRun {
  code: number;
  output: string;
  stdout: string;
}

/** Runs a Node script in a child process (asynchronously: the app answering it lives in this process). */
export async function runNode(script: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<NodeRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd, env: { ...childEnv, ...env }, timeout: 120_000 });
    return { code: 0, output: stdout + stderr, stdout };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string; message: string };
    const output = `${failure.stdout ?? ''}${failure.stderr ?? ''}` || failure.message;
    return { code: typeof failure.code === 'number' ? failure.code : -1, output, stdout: failure.stdout ?? '' };
  }
}

/** A fresh folder under test/generated/ for one suite. */
export function makeWorkDir(prefix: string): string {
  mkdirSync(GENERATED_ROOT, { recursive: true });
  return mkdtempSync(join(GENERATED_ROOT, prefix));
}

export function removeWorkDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  try {
    if (readdirSync(GENERATED_ROOT).length === 0) rmdirSync(GENERATED_ROOT);
  } catch {
    // another suite may be using the folder
  }
}

/**
 * The app listening on a random port. better-auth skips its origin/CSRF checks when it loads with
 * NODE_ENV=test, which Jest sets; a real client meets those checks (Node's fetch sends
 * `sec-fetch-mode: cors`), so the app loads as `npm start` does: NODE_ENV is set before the first
 * import of better-auth. The caller restores NODE_ENV with the returned function.
 */
export async function listeningApp(): Promise<{ t: TestApp; origin: string; restoreEnv: () => void }> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'development';
  const { createTestApp } = await import('./app.js');
  const t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return { t, origin: `http://127.0.0.1:${port}`, restoreEnv: () => (process.env.NODE_ENV = nodeEnv) };
}

/** What a generated-client suite works against: the listening app and its own work folder. */
export interface GeneratedClientSuite {
  t: TestApp;
  origin: string;
  workDir: string;
}

/**
 * Registers the suite's beforeAll/afterAll: the listening app (listeningApp) and a work folder made
 * with `prefix`, both gone afterwards. The returned object is filled in before the first test runs.
 */
export function useGeneratedClientSuite(prefix: string): GeneratedClientSuite {
  const suite = {} as GeneratedClientSuite;
  let restoreEnv: (() => void) | undefined;
  beforeAll(async () => {
    const listening = await listeningApp();
    Object.assign(suite, { t: listening.t, origin: listening.origin, workDir: makeWorkDir(prefix) });
    restoreEnv = listening.restoreEnv;
  });
  afterAll(async () => {
    removeWorkDir(suite.workDir);
    await suite.t?.close();
    restoreEnv?.();
  });
  return suite;
}

/**
 * The fenced code block that follows `<!-- client: name -->` in README.md: the README shows the
 * programs and files the suites compile and run, so that what a reader copies is what was tested.
 */
export function readmeBlock(name: string): string {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const marker = readme.indexOf(`<!-- client: ${name} -->`);
  if (marker < 0) throw new Error(`README.md has no <!-- client: ${name} --> block`);
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (!block?.[1]) throw new Error(`no code block after <!-- client: ${name} -->`);
  return block[1];
}

/** The README's examples point at http://localhost:3000; the suites' app listens elsewhere. */
export const atOrigin = (text: string, origin: string) => text.replaceAll('http://localhost:3000', origin);

/**
 * README's program `<generator>/src/client.ts` in `workDir`: it must pass strict `tsc` with no
 * output, run against `origin` with exit code 0, and print the expected outcome (expectClientOutcome).
 */
export async function compileAndRunReadmeProgram(generator: string, workDir: string, origin: string): Promise<void> {
  const program = readmeBlock(`${generator}/src/client.ts`);
  writeFileSync(join(workDir, 'src', 'client.ts'), program);
  const check = await runNode(TSC, ['-p', join(workDir, 'tsconfig.json')], workDir);
  if (check.code !== 0) console.error(`tsc failed:\n${check.output}`);
  expect(check).toMatchObject({ code: 0, output: '' });

  const ran = await runNode(join(workDir, 'dist', 'client.js'), [], workDir, { API_BASE_URL: `${origin}/api` });
  if (ran.code !== 0) console.error(`the generated client failed:\n${ran.output}`);
  expect(ran.code).toBe(0);
  expectClientOutcome(program, ran.stdout);
}
