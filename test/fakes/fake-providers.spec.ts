/**
 * `npm run fake:providers` as a new user runs it: tsconfig.fakes.json compiles the script and the
 * fakes (apart from `npm run build`), the script starts both fakes and prints .env lines whose URLs
 * answer as the providers do.
 */
import { afterAll, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve('.');
// Inside the repository, so the compiled fakes resolve node_modules (@garmin/fitsdk) as they would under dist/.
const cacheRoot = join(repo, 'node_modules', '.cache');
mkdirSync(cacheRoot, { recursive: true });
const outDir = mkdtempSync(join(cacheRoot, 'fake-providers-spec-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(outDir, { recursive: true, force: true });
});

it('compiles with tsconfig.fakes.json, starts both fakes and prints .env lines that reach them', async () => {
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.fakes.json', '--outDir', outDir], { cwd: repo, encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);

  child = spawn(process.execPath, [join(outDir, 'scripts', 'fake-providers.js')], {
    cwd: repo,
    env: { ...process.env, FAKE_STRAVA_PORT: '0', FAKE_GARMIN_PORT: '0', FAKE_ACTIVITIES: '3', PUBLIC_URL: 'http://127.0.0.1:9' },
  });
  let output = '';
  await new Promise<void>((done, fail) => {
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops both.')) done();
    });
    child!.once('exit', (code) => fail(new Error(`fake:providers exited with ${code}: ${output}`)));
  });
  const env = Object.fromEntries([...output.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  expect(Object.keys(env)).toEqual([
    'STRAVA_CLIENT_ID', 'STRAVA_CLIENT_SECRET', 'STRAVA_WEBHOOK_VERIFY_TOKEN', 'STRAVA_API_URL', 'STRAVA_OAUTH_URL',
    'GARMIN_CLIENT_ID', 'GARMIN_CLIENT_SECRET', 'GARMIN_API_URL', 'GARMIN_OAUTH_URL', 'GARMIN_TOKEN_URL', 'PUBLIC_URL',
  ]);

  const authorize = await fetch(`${env.STRAVA_OAUTH_URL}/authorize?client_id=${env.STRAVA_CLIENT_ID}&redirect_uri=${encodeURIComponent(`${env.PUBLIC_URL}/cb`)}&response_type=code&scope=read`, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const athlete = await fetch(`${env.STRAVA_API_URL}/athlete`);
  expect(athlete.status).toBe(401);
  expect(athlete.headers.get('x-ratelimit-limit')).toBe('200,2000');
  const garmin = await fetch(`${env.GARMIN_OAUTH_URL}?client_id=${env.GARMIN_CLIENT_ID}&response_type=code&redirect_uri=${encodeURIComponent(`${env.PUBLIC_URL}/cb`)}&code_challenge=abc&code_challenge_method=S256`, { redirect: 'manual' });
  expect(garmin.status).toBe(302);
  const token = await fetch(env.GARMIN_TOKEN_URL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' });
  expect(token.status).toBe(401);
  expect((await fetch(`${env.GARMIN_API_URL}/wellness-api/rest/user/id`)).status).toBe(401);
});
