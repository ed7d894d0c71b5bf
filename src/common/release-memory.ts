import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type CollectGarbage = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let collect: CollectGarbage | undefined;

/**
 * Gives the memory the heap no longer uses back to the operating system: one memory-reducing full
 * collection of the main thread's V8 heap (what V8 itself does under memory pressure: garbage
 * collected, the young generation shrunk, free pages unmapped). Called once the server has booted
 * and once the decoding threads of an import have left, the two moments that leave the most
 * garbage behind. V8's own memory reducer does the same only when it judges the process idle, which
 * a server polling its job queues every few seconds seldom is: boot's garbage (~40 MiB of committed
 * heap) then stayed for minutes, or for good (docs/benchmarks.md, "PostgreSQL idle memory").
 *
 * The collection stops the event loop for tens of milliseconds (a heap of ~80 MiB), so it is only
 * called at those two moments, never per request. V8's `gc` function is reached by setting
 * `--expose-gc` at run time (`v8.setFlagsFromString`) and reading it from a new context: the
 * server's own realm, created before, gets no global `gc` (as `node --expose-gc` would give every
 * module); realms created later (worker threads) do, and nothing there reads it.
 */
export function releaseMemory(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as CollectGarbage;
  }
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
