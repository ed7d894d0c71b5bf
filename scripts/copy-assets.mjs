// tsc does not copy non-TS files: the SQL migrations, the hand-written SQL and the data folder lock
// (plain JavaScript, shared with scripts/db-schema.mjs) must sit next to the compiled database module.
import { cpSync } from 'node:fs';

cpSync('src/database/migrations', 'dist/src/database/migrations', { recursive: true });
cpSync('src/database/sql', 'dist/src/database/sql', { recursive: true });
cpSync('src/database/data-dir-lock.mjs', 'dist/src/database/data-dir-lock.mjs');
