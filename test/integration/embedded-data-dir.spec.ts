import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { DataDirLockedError, lockDataDir } from '../../src/database/data-dir-lock.mjs';
import { initialiseEmbeddedDataDir, openDatabase } from '../../src/database/database.js';

/** A first boot creates the embedded database with an instance of its own, closed before the server's opens it. */
describe('initialiseEmbeddedDataDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'embedded-data-dir-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing folder once, leaves an existing one alone, and the folder then opens', async () => {
    const folder = join(root, 'data', 'pglite');
    expect(await initialiseEmbeddedDataDir(folder)).toBe(true);
    expect(existsSync(join(folder, 'PG_VERSION'))).toBe(true);
    // The lock was released: the server's openDatabase takes it.
    expect(existsSync(`${folder}.lock`)).toBe(false);
    expect(await initialiseEmbeddedDataDir(folder)).toBe(false);

    const handle = openDatabase({ pgliteDir: folder });
    try {
      await handle.db.execute(sql`create table kept (value int)`);
      await handle.db.execute(sql`insert into kept values (42)`);
    } finally {
      await handle.close();
    }
    // A second call does not recreate the database: what was written is still there.
    expect(await initialiseEmbeddedDataDir(folder)).toBe(false);
    const again = openDatabase({ pgliteDir: folder });
    try {
      const result = (await again.db.execute(sql`select value from kept`)) as unknown as { rows: { value: number }[] };
      expect(result.rows).toEqual([{ value: 42 }]);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('refuses a folder another process holds, and creates nothing', async () => {
    const folder = join(root, 'held', 'pglite');
    const lock = lockDataDir(folder, 'another server');
    try {
      await expect(initialiseEmbeddedDataDir(folder)).rejects.toBeInstanceOf(DataDirLockedError);
      expect(existsSync(join(folder, 'PG_VERSION'))).toBe(false);
    } finally {
      lock.release();
    }
  });
});
