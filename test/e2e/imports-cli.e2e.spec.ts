import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { openDatabase, type Database, type DatabaseHandle } from '../../src/database/database.js';
import { DATABASE_HANDLE } from '../../src/database/database.module.js';
import { activities } from '../../src/database/schema/index.js';
import { seedCatalog } from '../../src/database/seed.js';
import { fitActivityFixture } from '../../libs/testing/fit-builder.js';
import { signUp } from '../factories/api.js';
import { gpxDocument, gzip, tcxDocument, trackPoints, utf8, zip } from '../factories/imports.js';
import { TEST_AUTH_SECRET, type TestApp } from '../setup/app.js';

const fit = (day: number) =>
  fitActivityFixture({ sport: 'running', startTime: new Date(Date.UTC(2024, 8, day, 6)), seconds: 300, channels: { heartRate: true, position: true, speed: true } }).bytes;

function runCli(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test', NODE_OPTIONS: '' };
  delete env.DATABASE_URL;
  return new Promise((resolve) => {
    execFile('node', ['dist/scripts/import.js', ...args], { env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The CLI as a user runs it: compiled, as its own process, on the embedded database under DATA_DIR. */
describe('npm run import (the CLI) on a folder of mixed files', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'import-cli-'));
  const inbox = join(dataDir, 'inbox');
  let athleteId: string;

  beforeAll(async () => {
    // The compiled CLI, as `npm run import` runs it (CI has built it already: API_DIST_BUILT).
    if (process.env.API_DIST_BUILT !== 'true') execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'pipe' });
    // A user and athlete in the embedded database the CLI will open (one process at a time on PGlite).
    const database = openDatabase({ pgliteDir: join(dataDir, 'pglite') });
    await database.migrate();
    await seedCatalog(database.db);
    const env = parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_SECRET: TEST_AUTH_SECRET, AUTH_RATE_LIMIT: 'false', DATA_DIR: dataDir, IMPORT_WORKERS: '0' });
    const app = await createApp(env, { database });
    athleteId = (await signUp({ http: () => request(app.getHttpServer()) } as unknown as TestApp)).athleteId;
    await app.close();
    await database.close();

    mkdirSync(join(inbox, 'old', 'bike'), { recursive: true });
    const points = trackPoints(90);
    writeFileSync(join(inbox, 'a.fit'), fit(1));
    writeFileSync(join(inbox, 'b.fit.gz'), gzip(fit(2)));
    writeFileSync(join(inbox, 'c.gpx'), gpxDocument(new Date('2024-09-03T06:00:00Z'), points));
    writeFileSync(join(inbox, 'broken.fit'), utf8('this is not a FIT file'));
    writeFileSync(join(inbox, 'old', 'archive.zip'), zip({ 'd.fit': fit(4), 'e.tcx': utf8(tcxDocument(new Date('2024-09-05T06:00:00Z'), points)) }));
    writeFileSync(join(inbox, 'old', 'bike', 'f.fit'), fit(6));
  }, 240_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('imports every file, prints the summary table and exits 1 because one file was rejected', async () => {
    const { code, stdout } = await runCli([inbox, '--athlete', athleteId, '--jobs', '2'], dataDir);
    expect(stdout).toContain('Import finished');
    expect(stdout).toMatch(/Files\s+7/);
    expect(stdout).toMatch(/created\s+6/);
    expect(stdout).toMatch(/rejected\s+1/);
    expect(stdout).toMatch(/Activities created\s+6/);
    expect(stdout).toMatch(/broken\.fit: not a FIT, GPX, TCX or Apple Health file/);
    expect(code).toBe(1);
  }, 120_000);

  it('skips everything already imported when run again, and exits 0 on a folder without bad files', async () => {
    const again = await runCli([inbox, '--athlete', athleteId], dataDir);
    expect(again.stdout).toMatch(/skipped \(already imported\)\s+6/);
    expect(again.stdout).toMatch(/Activities created\s+0/);
    expect(again.code).toBe(1);

    const clean = await runCli([join(inbox, 'old'), '--athlete', athleteId], dataDir);
    expect(clean.stdout).toMatch(/skipped \(already imported\)\s+3/);
    expect(clean.code).toBe(0);

    const database = openDatabase({ pgliteDir: join(dataDir, 'pglite') });
    const rows = await database.db.select({ id: activities.id }).from(activities).where(eq(activities.athleteId, athleteId));
    await database.close();
    expect(rows).toHaveLength(6);
  }, 120_000);

  it('is refused at once, naming the holder, while a server has the same DATA_DIR open; nothing is written', async () => {
    // A server on the DATA_DIR, opening its embedded database itself as `npm start` does.
    const env = parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_SECRET: TEST_AUTH_SECRET, AUTH_RATE_LIMIT: 'false', DATA_DIR: dataDir, IMPORT_WORKERS: '0' });
    const server = await createApp(env);
    const count = async (db: Database) => (await db.select({ id: activities.id }).from(activities).where(eq(activities.athleteId, athleteId))).length;
    const originals = () => readdirSync(join(dataDir, 'objects'), { recursive: true }).filter((path) => String(path).startsWith('raw')).length;
    const newFolder = join(dataDir, 'inbox-2');
    mkdirSync(newFolder, { recursive: true });
    writeFileSync(join(newFolder, 'g.fit'), fit(8));
    try {
      const db = server.get<DatabaseHandle>(DATABASE_HANDLE).db;
      const [activitiesBefore, originalsBefore] = [await count(db), originals()];

      const cli = await runCli([newFolder, '--athlete', athleteId], dataDir);
      expect(cli.code).toBe(2);
      expect(cli.stderr).toContain(`The embedded database ${join(dataDir, 'pglite')} is in use by pid ${process.pid} on ${hostname()}`);
      expect(cli.stderr).toContain(`delete ${join(dataDir, 'pglite.lock')}`);
      expect(cli.stdout).not.toContain('Import finished');

      // db:push and a second server are refused alike.
      const push = spawnSync(process.execPath, ['scripts/db-schema.mjs', 'push'], { env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir }, encoding: 'utf8' });
      expect(push.status).toBe(1);
      expect(push.stderr).toContain(`is in use by pid ${process.pid}`);
      await expect(createApp(env)).rejects.toThrow(/is in use by pid \d+/);

      expect(await count(db)).toBe(activitiesBefore);
      expect(originals()).toBe(originalsBefore);
    } finally {
      await server.close();
    }

    // Once the server has stopped, the same command imports the file, and it is there on the next open.
    const cli = await runCli([newFolder, '--athlete', athleteId], dataDir);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/Activities created\s+1/);
    const database = openDatabase({ pgliteDir: join(dataDir, 'pglite') });
    try {
      expect(await count(database.db)).toBe(7);
    } finally {
      await database.close();
    }
  }, 240_000);

  it('answers usage errors with exit code 2', async () => {
    expect((await runCli([inbox], dataDir)).code).toBe(2);
    const unknown = await runCli([inbox, '--athlete', '00000000-0000-4000-8000-000000000000'], dataDir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No athlete');
  }, 120_000);
});
