import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import { Piscina } from 'piscina';
import { releaseMemory } from '../../common/release-memory.js';
import type { ParseAnswer, ParseTask } from './parse.worker.js';
import { UnreadableFileError, type ParseResult } from './parsers/types.js';
import type { PreparedStreams } from './prepare-streams.js';

export type ParseOutcome = { result: ParseResult; prepared: PreparedStreams } | { rejected: string; decoderError?: string };

export interface ParsePoolOptions {
  /** Worker threads; by default one per CPU. */
  threads?: number;
  /** Start every thread at once (the CLI: they load the parsers while the database opens) instead of on first use. */
  eager?: boolean;
  /** The worker module (tests: one that wraps parse.worker); by default parse.worker. */
  worker?: URL;
  /**
   * Decode and prepare on the calling thread, no worker (bench:import: every file's CPU is then
   * this thread's, so it can be measured per file and split by step).
   */
  inline?: boolean;
  /** How long a thread without a file stays before it leaves; 30 s by default. */
  idleTimeoutMs?: number;
  /**
   * The old-generation heap of a thread, in MiB (none: V8's own limit). A file whose decoding needs
   * more is decoded again, once, on a thread without the cap (see `heapMb` in ParsePool).
   */
  heapMb?: number;
}

const outOfMemory = (error: unknown) => (error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';

const crashed = (error: unknown): ParseOutcome => {
  const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { rejected: WORKER_CRASHED, decoderError: `the parse worker thread died: ${cause}` };
};

/** The answer to a file whose worker thread died under it (a crash, not a verdict on the file's bytes). */
export const WORKER_CRASHED = 'the file could not be read: the decoder stopped unexpectedly while reading it';

/** The worker's task on this thread, with the worker's answers (parse.worker). */
async function parseInline(bytes: Uint8Array, name: string): Promise<ParseOutcome> {
  // Loaded on first use: a pool of workers never needs the parsers on this thread.
  const { parseAndPrepare } = await import('./prepare-streams.js');
  try {
    return await parseAndPrepare(bytes, name);
  } catch (error) {
    if (error instanceof UnreadableFileError) return { rejected: error.reason, decoderError: error.decoderError };
    throw error;
  }
}

/**
 * The answer with every Date made by this realm's Date. A worker's answer is rebuilt by structured
 * clone in Node's main realm; code running in another realm (Jest runs tests in a vm context) checks
 * `instanceof Date` against its own and would refuse them. Walks the activities, events and laps,
 * not the sample arrays (typed arrays, which are skipped).
 */
function ownRealm<T>(value: T): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (!(value instanceof Date) && Object.prototype.toString.call(value) === '[object Date]') return new Date((value as unknown as Date).getTime()) as T;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = ownRealm(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = ownRealm(record[key]);
  return value;
}

/**
 * Decodes files and prepares their streams (parseAndPrepare) off the event loop in a piscina pool
 * of worker threads (STYLE.md: CPU-heavy pure work runs in a pool), as the streams' worker pool
 * does. The built app loads the compiled worker; from the TypeScript sources (tests, tools run
 * without a build) the worker loads them through the streams' typescript-hooks.mjs.
 *
 * A thread that dies under a file (a crash, an out-of-memory abort) answers that file as rejected,
 * with the cause logged as a decoder error; the other files go on, on a new thread. At close, files
 * still in hand are abandoned (their import throws, and a job is handed back to be resumed).
 */
export class ParsePool {
  private pool: Piscina | undefined;
  /** The thread without a heap cap, for a file the capped threads could not hold (started on demand). */
  private uncapped: Piscina | undefined;
  private readonly shutdown = new AbortController();
  /** Thread of each answer (tests: the work really left the calling thread). */
  lastThreadId: number | undefined;
  private readonly logger = new Logger('ParsePool');
  /** Files decoded again without the heap cap (the capped thread ran out of memory on them). */
  uncappedRetries = 0;

  constructor(private readonly options: ParsePoolOptions = {}) {
    if (options.eager && !options.inline) this.workers();
  }

  get threads(): number {
    return this.options.threads ?? Math.max(1, availableParallelism());
  }

  async parse(bytes: Uint8Array, name: string): Promise<ParseOutcome> {
    if (this.options.inline) return parseInline(bytes, name);
    let answer: ParseAnswer;
    try {
      answer = await this.run(this.workers(), bytes, name);
    } catch (error) {
      if (this.shutdown.signal.aborted) throw error;
      if (!outOfMemory(error) || this.options.heapMb === undefined) return crashed(error);
      // The capped heap was too small for this file (a very long recording): once more without the cap.
      this.uncappedRetries++;
      try {
        answer = await this.run((this.uncapped ??= this.start(false)), bytes, name);
      } catch (again) {
        if (this.shutdown.signal.aborted) throw again;
        return crashed(again);
      }
    }
    this.lastThreadId = answer.threadId;
    if ('failed' in answer) throw new Error(answer.failed);
    if ('rejected' in answer) return { rejected: answer.rejected, decoderError: answer.decoderError };
    return ownRealm({ result: answer.result, prepared: answer.prepared });
  }

  private async run(pool: Piscina, bytes: Uint8Array, name: string): Promise<ParseAnswer> {
    // Copy into a buffer of its own that moves to the worker: the caller keeps its bytes (they are archived as the original).
    const copy = bytes.slice();
    const task: ParseTask = { bytes: copy, name };
    return (await pool.run(task, { transferList: [copy.buffer], signal: this.shutdown.signal })) as ParseAnswer;
  }

  /** Threads started so far. */
  get threadCount(): number {
    return (this.pool?.threads.length ?? 0) + (this.uncapped?.threads.length ?? 0);
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    clearTimeout(this.releaseTimer);
    const pools = [this.pool, this.uncapped];
    this.pool = this.uncapped = undefined;
    await Promise.all(pools.map((pool) => pool?.close({ force: true })));
  }

  private releaseTimer: NodeJS.Timeout | undefined;

  /**
   * A memory-reducing collection a moment after a thread left, if it was the last (piscina emits
   * `workerDestroy` while the thread is still counted and exiting).
   */
  private releaseWhenIdle(): void {
    if (this.shutdown.signal.aborted) return;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      if (!this.shutdown.signal.aborted && this.threadCount === 0) releaseMemory();
    }, 1_000).unref();
  }

  private workers(): Piscina {
    this.pool ??= this.start(true);
    return this.pool;
  }

  private start(capped: boolean): Piscina {
    const compiled = new URL('./parse.worker.js', import.meta.url);
    const fromSource = !this.options.worker && !existsSync(fileURLToPath(compiled));
    const filename = this.options.worker ?? (fromSource ? new URL('./parse.worker.ts', import.meta.url) : compiled);
    const typescript = filename.pathname.endsWith('.ts');
    const pool = new Piscina({
      filename: filename.href,
      maxThreads: capped ? this.threads : 1,
      // Threads start on the first file and leave after 30 s without one: a thread that has decoded
      // a large file holds 100–200 MiB, which an idle server should give back (issue 24,
      // bench:footprint); the next import pays ~0.2 s to start one. Eager (the CLI): all, kept.
      minThreads: this.options.eager && capped ? this.threads : 0,
      // The cap bounds the server's peak during imports: V8 lets a thread's heap grow well past what it
      // holds before collecting, and a capped thread collects sooner (bench:footprint, PostgreSQL: the
      // peak of an import of ../shared/corpus/fit 373 → 329 MiB with 128 MiB; README, "Footprint").
      ...(capped && this.options.heapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb } } : {}),
      idleTimeout: this.options.idleTimeoutMs ?? 30_000,
      // Workers need none of the parent's flags (some, like --expose-gc, are refused in a worker).
      execArgv: typescript ? ['--import', new URL('../streams/workers/typescript-hooks.mjs', import.meta.url).href] : [],
    });
    // A thread that dies holding no file (piscina emits it on the pool, where unheard it would end the
    // process): the next file starts another.
    pool.on('error', (error: unknown) => this.logger.warn(`A decoding thread ended between files: ${String(error)}`));
    // Once the last thread has left (idle), the import's garbage on this thread goes back to the
    // operating system too (releaseMemory; docs/benchmarks.md, "PostgreSQL idle memory").
    if (!this.options.eager) pool.on('workerDestroy', () => this.releaseWhenIdle());
    return pool;
  }
}
