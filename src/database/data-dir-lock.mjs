// One process at a time on an embedded (PGlite) database folder. PGlite keeps the database in its
// own memory and writes the folder back as it goes: two processes on one folder each work on their
// own copy and overwrite each other's files, so what one of them wrote is lost (README "Database").
// Whoever opens the folder — the server, the import CLI, `npm run db:push` / `db:migrate` — first
// takes `<folder>.lock` (e.g. data/pglite.lock), created exclusively, naming its holder: pid, host,
// start time and command. A second process is refused at once with that name. A lock whose holder is
// gone is taken over: on the same host when its pid is dead (or now belongs to a newer process, or
// the machine rebooted); from another host (a container sharing the volume) when the holder has not
// refreshed it for STALE_MS.
// Plain JavaScript (typed by data-dir-lock.d.mts) so that scripts/db-schema.mjs uses it without a build.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';

/** The holder touches its lock this often; another host counts a lock untouched for STALE_MS as abandoned. */
const REFRESH_MS = 10_000;
const STALE_MS = 60_000;

export class DataDirLockedError extends Error {
  constructor(folder, file, holder) {
    const who = holder
      ? `pid ${holder.pid} on ${holder.host} (${holder.command}), started ${holder.startedAt}`
      : 'a process that has not written its name yet';
    super(
      `The embedded database ${folder} is in use by ${who}. PGlite allows one process per folder: stop that process first ` +
        `(or import through the running server's API: POST /api/v1/athletes/{id}/imports). If that process is gone, delete ${file}.`,
    );
    this.name = 'DataDirLockedError';
    this.folder = folder;
    this.file = file;
    this.holder = holder;
  }
}

/** Tokens of the locks this process holds (a lock naming our pid but none of these is a previous process's). */
const held = new Set();

/** Linux: a process's state (field 3) and start time (field 22, clock ticks since boot), from /proc. */
function linuxStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Counted after the command name, which may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], start: fields[19] };
  } catch {
    return undefined;
  }
}

function bootId() {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readHolder(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    return undefined; // being written, or garbage
  }
}

/** True when the lock's holder is certainly gone. */
function abandoned(file, holder) {
  let age;
  try {
    age = Date.now() - statSync(file).mtimeMs;
  } catch {
    return false;
  }
  if (!holder || typeof holder.pid !== 'number') return age > STALE_MS; // half-written by a process that died
  if (holder.host !== hostname()) return age > STALE_MS;
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return true;
  if (holder.pid === process.pid) return !held.has(holder.token);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (error.code === 'ESRCH') return true;
  }
  // Alive (or not ours to signal): the same process only if it started when the holder did, and not a
  // zombie (killed, not yet reaped).
  const stat = linuxStat(holder.pid);
  return Boolean(stat && (stat.state === 'Z' || (holder.processStart && stat.start !== holder.processStart)));
}

/**
 * Takes the lock of an embedded database folder, or throws DataDirLockedError naming the process that
 * holds it. `release()` gives it back (also done at exit).
 */
export function lockDataDir(folder, description) {
  const file = `${folder.replace(/[\\/]+$/, '')}.lock`;
  const token = randomUUID();
  mkdirSync(dirname(file), { recursive: true }); // DATA_DIR itself, on a fresh clone
  const holder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: (description ?? [basename(process.execPath), ...process.argv.slice(1)].join(' ')).slice(0, 300),
    bootId: bootId(),
    processStart: linuxStat(process.pid)?.start,
    token,
  };
  for (let attempt = 0; ; attempt++) {
    let fd;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const current = readHolder(file);
      if (current === null && attempt < 5) continue; // released meanwhile
      if (attempt < 5 && abandoned(file, current)) {
        // Remove it only if it is still the one judged (another process may have taken it over meanwhile).
        const again = readHolder(file);
        if (again?.token === current?.token) {
          try {
            unlinkSync(file);
          } catch (unlinkError) {
            if (unlinkError.code !== 'ENOENT') throw unlinkError;
          }
        }
        continue;
      }
      throw new DataDirLockedError(folder, file, current ?? undefined);
    }
    try {
      writeSync(fd, `${JSON.stringify(holder, null, 2)}\n`);
    } finally {
      closeSync(fd);
    }
    break;
  }
  held.add(token);
  const refresh = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      // Removed by hand: nothing to refresh.
    }
  }, REFRESH_MS);
  refresh.unref();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    process.removeListener('exit', release);
    held.delete(token);
    if (readHolder(file)?.token !== token) return;
    try {
      unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return { file, release };
}
