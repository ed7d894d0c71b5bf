/**
 * The CPU of a PostgreSQL database's backends on this machine, read from /proc (bench:import and
 * bench:ingest add it to the CPU of the process that sent them the work).
 */
import { readFileSync } from 'node:fs';
import postgres from 'postgres';

export interface DatabaseCpu {
  /** Every backend of the database but this one's own: the app's pool (and pg-boss's, which idles). */
  backends(): Promise<number[]>;
  /** ms on a CPU so far, summed over `pids` (a backend that ended counts 0). */
  cpuMs(pids: readonly number[]): number;
  close(): Promise<void>;
}

export function databaseCpu(url: string): DatabaseCpu {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  const onCpuMs = (pid: number) => {
    try {
      // schedstat: time on a CPU (ns), time waiting for one (ns), timeslices.
      return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      return 0; // a backend that ended
    }
  };
  return {
    backends: async () =>
      (await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`).map((row) => row.pid),
    cpuMs: (pids) => pids.reduce((sum, pid) => sum + onCpuMs(pid), 0),
    close: () => sql.end(),
  };
}
