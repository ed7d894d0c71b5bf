// tsc does not copy non-TS files: the SQL migrations, the hand-written SQL and the data folder lock
// (plain JavaScript, shared with scripts/db-schema.mjs) must sit next to the compiled database module.
// The folders are replaced, not merged: a file renamed or removed in src must not linger in dist
// (every .sql file in dist/src/database/sql is applied at boot).
import { cpSync, rmSync } from 'node:fs';

for (const folder of ['migrations', 'sql']) {
  rmSync(`dist/src/database/${folder}`, { recursive: true, force: true });
  cpSync(`src/database/${folder}`, `dist/src/database/${folder}`, { recursive: true });
}
cpSync('src/database/data-dir-lock.mjs', 'dist/src/database/data-dir-lock.mjs');
