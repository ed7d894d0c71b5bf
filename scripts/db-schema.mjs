// `npm run db:push` / `npm run db:migrate` (and the same under `bun run`): drizzle-kit push (the
// TypeScript schema straight into the database) or migrate (the committed migrations), then the
// hand-written SQL of src/database/sql (triggers, functions) that drizzle-kit does not know about —
// so a database behaves the same whichever way its schema was made, as at boot (database.ts).
// Plain JavaScript with no build step, so npm, bun and node run it alike.
// Usage: node scripts/db-schema.mjs push|migrate [drizzle-kit options]
// Target: DATABASE_URL, else the embedded PGlite database under DATA_DIR (default ./data).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const url = process.env.DATABASE_URL || undefined;
const pgliteDir = resolve(process.env.DATA_DIR ?? './data', 'pglite');
// drizzle-kit's PGlite driver creates only the last folder of the path (ENOENT on a fresh clone).
if (!url) mkdirSync(pgliteDir, { recursive: true });

const bin = resolve('node_modules', '.bin', process.platform === 'win32' ? 'drizzle-kit.cmd' : 'drizzle-kit');
const [command, ...options] = process.argv.slice(2);
if (command !== 'push' && command !== 'migrate') {
  console.error('usage: node scripts/db-schema.mjs push|migrate [drizzle-kit options]');
  process.exit(2);
}
// drizzle-kit push reports its failures and exits 0: the preload turns that into exit 1 (see the file).
const preload = `--require=${JSON.stringify(resolve(import.meta.dirname, 'drizzle-kit-exit-code.cjs'))}`;
const env = { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') };
const kit = spawnSync(bin, command === 'push' ? ['push', '--force', ...options] : ['migrate', ...options], { stdio: 'inherit', env });
if (kit.status !== 0) {
  console.error(`drizzle-kit ${command} failed (${kit.error?.message ?? (kit.signal ? `signal ${kit.signal}` : `exit code ${kit.status}`)}); the hand-written SQL was not applied.`);
  process.exit(kit.status || 1);
}

const dir = resolve('src/database/sql');
const files = readdirSync(dir).filter((file) => file.endsWith('.sql')).sort();
if (url) {
  const { default: postgres } = await import('postgres');
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    for (const file of files) await sql.unsafe(readFileSync(join(dir, file), 'utf8'));
  } finally {
    await sql.end();
  }
} else {
  const { PGlite } = await import('@electric-sql/pglite');
  const client = new PGlite(pgliteDir);
  try {
    for (const file of files) await client.exec(readFileSync(join(dir, file), 'utf8'));
  } finally {
    await client.close();
  }
}
console.log(`Applied ${files.length} hand-written SQL file(s) from src/database/sql.`);
