// Loaded into drizzle-kit by scripts/db-schema.mjs (NODE_OPTIONS=--require). drizzle-kit 0.31's `push`
// catches every failure — a schema file that cannot be loaded, an unreachable database, a statement
// the database refuses — prints it with console.error and then exits 0. Here an Error printed that
// way turns the exit code into 1, so `npm run db:push` fails loudly and stops before the
// hand-written SQL. Anything drizzle-kit already exits non-zero with is left as it is.
'use strict';

let failure;
const error = console.error.bind(console);
console.error = (...args) => {
  failure ??= args.find((arg) => arg instanceof Error);
  error(...args);
};
const exit = process.exit.bind(process);
process.exit = (code) => exit(failure && !code ? 1 : code);
process.on('exit', (code) => {
  if (failure && !code) process.exitCode = 1;
});
