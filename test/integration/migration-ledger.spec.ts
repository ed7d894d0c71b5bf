import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { migrationsFolder, openDatabase } from '../../src/database/database.js';

/**
 * Migration 0001 created the default-athlete trigger that src/database/sql/default_athlete.sql
 * defines; since issue 23 it is a no-op, so its text and hash changed (src/database/README.md).
 * That is safe only because Drizzle's migrator decides by the journal's time and never compares a
 * stored hash with the file: a database migrated before the change must upgrade without running
 * 0001 again and without an error. If a Drizzle upgrade starts comparing hashes, this fails.
 */
const OLD_0001 =
  '-- DATA-MODEL \u00a72: signing up creates one default athlete for the new user. A trigger makes it part of\n' +
  '-- the same transaction as the user insert, whichever code path (better-auth, an admin script) creates\n' +
  '-- the user, so there is never a user without an athlete.\n' +
  'CREATE FUNCTION create_default_athlete() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n' +
  '  INSERT INTO athletes (user_id, display_name) VALUES (NEW.id, NEW.name);\n  RETURN NEW;\nEND;\n$$;\n' +
  '--> statement-breakpoint\n' +
  'CREATE TRIGGER user_default_athlete AFTER INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION create_default_athlete();\n';
const OLD_0001_HASH = '4582c34c00ba1395d4c0680a24dd3009512ea9a2e9a45a8a4417440e8e691459';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface JournalEntry {
  tag: string;
  when: number;
}

describe('the migration ledger across the change to migration 0001', () => {
  let dir: string;
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] };
  const entry0001 = journal.entries.find((entry) => entry.tag === '0001_default_athlete')!;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'migration-ledger-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('0001 changed text (and hash) but not its place in the journal', () => {
    expect(sha256(OLD_0001)).toBe(OLD_0001_HASH);
    expect(sha256(readFileSync(join(migrationsFolder(), '0001_default_athlete.sql'), 'utf8'))).not.toBe(OLD_0001_HASH);
    expect(journal.entries.map((entry) => entry.tag).slice(0, 2)).toEqual(['0000_init', '0001_default_athlete']);
  });

  it('a database migrated up to the old 0001 upgrades without running 0001 again, and still makes one athlete per user', async () => {
    // The migrations folder as it was when 0001 was the latest migration, with 0001's old text.
    const old = join(dir, 'old-migrations');
    cpSync(migrationsFolder(), old, { recursive: true });
    writeFileSync(join(old, '0001_default_athlete.sql'), OLD_0001);
    writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 2) }));
    const data = join(dir, 'pglite');
    const client = new PGlite(data);
    await migrate(drizzle({ client }), { migrationsFolder: old });
    await client.close();

    const database = openDatabase({ pgliteDir: data });
    try {
      await database.migrate();
      const ledger = (await database.db.execute('select hash, created_at from drizzle.__drizzle_migrations order by created_at')) as unknown as {
        rows: { hash: string; created_at: string }[];
      };
      expect(ledger.rows.map((row) => Number(row.created_at))).toEqual(journal.entries.map((entry) => entry.when));
      // 0001 ran once, with its old text: the new text was not run nor recorded.
      expect(ledger.rows.find((row) => Number(row.created_at) === entry0001.when)?.hash).toBe(OLD_0001_HASH);

      // Migrating again (the next boot) changes nothing.
      await database.migrate();
      const again = (await database.db.execute('select count(*)::int as n from drizzle.__drizzle_migrations')) as unknown as { rows: { n: number }[] };
      expect(again.rows[0]!.n).toBe(journal.entries.length);

      // One trigger, from src/database/sql/default_athlete.sql: one athlete per new user.
      const userId = randomUUID();
      await database.db.execute(`insert into "user" (id, name, email) values ('${userId}', 'Ledger', '${userId}@example.test')`);
      const athletes = (await database.db.execute(`select count(*)::int as n from athletes where user_id = '${userId}'`)) as unknown as { rows: { n: number }[] };
      expect(athletes.rows[0]!.n).toBe(1);
      const triggers = (await database.db.execute(`select count(*)::int as n from pg_trigger where tgname = 'user_default_athlete'`)) as unknown as {
        rows: { n: number }[];
      };
      expect(triggers.rows[0]!.n).toBe(1);
    } finally {
      await database.close();
    }
  });
});
