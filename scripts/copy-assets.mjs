// tsc does not copy non-TS files: the SQL migrations and the hand-written SQL must sit next to the
// compiled database module.
import { cpSync } from 'node:fs';

cpSync('src/database/migrations', 'dist/src/database/migrations', { recursive: true });
cpSync('src/database/sql', 'dist/src/database/sql', { recursive: true });
