/**
 * What the process benches (bench:footprint, bench:node-flags, bench:streams) need to start a server
 * as production runs it (the image's CMD and malloc settings) and read of it: /proc samples of its
 * memory and CPU, and a free local port to start it on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface ProcSample {
  /** Bytes. */
  rss: number;
  /** Bytes: the peak resident size (VmHWM). */
  hwm: number;
  threads: number;
  /** user + system CPU seconds since the process started. */
  cpu: number;
}

export function sample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  // Fields after the command name (which may hold spaces) are counted from its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM'), threads, cpu };
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * The image's CMD (the Dockerfile's last `CMD ["node", …, "dist/src/main.js"]`): the node flags
 * production runs the server with, and glibc's MALLOC_* settings its ENV sets (glibc reads them when
 * the process starts; README, "Footprint"). Read from the Dockerfile in the working directory, so a
 * bench measures what the image runs.
 */
export function imageCommand(): { nodeFlags: string[]; script: string; mallocEnv: Record<string, string> } {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const line = dockerfile.split('\n').findLast((text) => text.startsWith('CMD ['));
  const command = line ? (JSON.parse(line.slice(4)) as string[]) : [];
  if (command[0] !== 'node' || command.length < 2) throw new Error(`the Dockerfile's CMD does not start node: ${line}`);
  const mallocEnv = Object.fromEntries([...dockerfile.matchAll(/\b(MALLOC_[A-Z_]+)=(\d+)/g)].map(([, name, value]) => [name!, value!]));
  return { nodeFlags: command.slice(1, -1), script: command.at(-1)!, mallocEnv };
}
