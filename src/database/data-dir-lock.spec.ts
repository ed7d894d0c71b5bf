import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, lockDataDir, type DataDirLock } from './data-dir-lock.mjs';

/** One process per embedded database folder: who is refused, and which locks count as abandoned. */
describe('lockDataDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'data-dir-lock-'));
  const folder = join(root, 'data', 'pglite');
  const file = `${folder}.lock`;
  const taken: DataDirLock[] = [];
  const take = (description?: string) => {
    const lock = lockDataDir(folder, description);
    taken.push(lock);
    return lock;
  };
  const holder = (fields: Record<string, unknown>) =>
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'node dist/src/main.js', token: 'other', ...fields }));
  const age = (ms: number) => utimesSync(file, new Date(Date.now() - ms), new Date(Date.now() - ms));
  afterEach(() => {
    for (const lock of taken.splice(0)) lock.release();
    rmSync(file, { force: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes its holder, refuses a second taker naming it, and is free again once released', () => {
    const lock = take('npm start');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), command: 'npm start' });
    let refusal: unknown;
    try {
      lockDataDir(folder, 'npm run import');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as Error).message).toContain(`is in use by pid ${process.pid} on ${hostname()} (npm start)`);
    lock.release();
    expect(existsSync(file)).toBe(false);
    expect(() => take()).not.toThrow();
  });

  it('takes over the lock of a process that has exited', () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    holder({ pid: gone });
    take('npm start');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'npm start' });
  });

  it('takes over a lock naming this process when this process does not hold it (a container restarted as pid 1)', () => {
    holder({ pid: process.pid, token: 'from-before-the-restart' });
    expect(() => take()).not.toThrow();
  });

  it('refuses a live process of this host, and takes over when its pid now belongs to a newer process', () => {
    holder({ pid: process.ppid, processStart: undefined });
    expect(() => take()).toThrow(DataDirLockedError);
    if (existsSync(`/proc/${process.ppid}/stat`)) {
      holder({ pid: process.ppid, processStart: '1' });
      expect(() => take()).not.toThrow();
    }
  });

  it('refuses a holder on another host until it has not refreshed the lock for a minute', () => {
    holder({ pid: 1, host: 'another-container' });
    expect(() => take()).toThrow(/in use by pid 1 on another-container/);
    age(61_000);
    expect(() => take()).not.toThrow();
  });

  it('refuses a lock still being written, and takes it over once it is a minute old', () => {
    writeFileSync(file, '{"pid":');
    expect(() => take()).toThrow(/in use by a process that has not written its name yet/);
    age(61_000);
    expect(() => take()).not.toThrow();
  });
});
