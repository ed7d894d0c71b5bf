import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parquetMetadata } from 'hyparquet';
import { Piscina } from 'piscina';
import { buffersOf, runStreamTask, type PreparedUpload, type PrepareUploadTask, type ReadSamples, type ReadSamplesTask, type StreamTask, type TaskResult } from './stream-tasks.js';

/**
 * Below these sizes a task runs inline: a worker round trip (structured clone, scheduling) costs more
 * than it saves, and small requests must stay as fast as a plain database query.
 */
export const INLINE_MAX_SAMPLES = 20_000;
export const INLINE_MAX_BYTES = 128 * 1024;

/**
 * Small in bytes and in rows: a file of a few KiB can hold 2,000,000 well-compressed samples, whose
 * decoding would hold the event loop, so the footer's row count decides too (reading it is cheap).
 * A file whose footer cannot be read fails as fast inline.
 */
function isSmallParquet(bytes: Uint8Array): boolean {
  if (bytes.byteLength > INLINE_MAX_BYTES) return false;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return Number(parquetMetadata(buffer).num_rows) <= INLINE_MAX_SAMPLES;
  } catch {
    return true;
  }
}

export interface StreamWorkerPoolOptions {
  /** Worker threads; by default one less than the CPUs, at least 1 and at most 4. */
  threads?: number;
}

/**
 * Runs Parquet encode/decode and downsampling of large streams off the event loop (STYLE.md), in a
 * small piscina pool, so other requests keep being answered while a 2,000,000-sample stream is
 * processed. The built app loads the compiled worker; from the TypeScript sources (tests, tools run
 * without a build) the worker loads them through workers/typescript-hooks.mjs.
 */
export class StreamWorkerPool {
  private pool: Piscina | undefined;

  constructor(private readonly options: StreamWorkerPoolOptions = {}) {}

  prepareUpload(task: Omit<PrepareUploadTask, 'name'>): Promise<TaskResult<PreparedUpload>> {
    const full: PrepareUploadTask = { name: 'prepareUpload', ...task };
    const small = 'parquet' in task.source ? isSmallParquet(task.source.parquet) : task.source.samples.timestamps.length <= INLINE_MAX_SAMPLES;
    const transfer = buffersOf('parquet' in task.source ? task.source.parquet : task.source.samples);
    return this.run(full, small, transfer) as Promise<TaskResult<PreparedUpload>>;
  }

  /** `sampleCount`: the stored object's rows when the caller knows them (the metadata row). */
  readSamples(task: Omit<ReadSamplesTask, 'name'>, sampleCount?: number): Promise<TaskResult<ReadSamples>> {
    const small = sampleCount === undefined ? isSmallParquet(task.bytes) : task.bytes.byteLength <= INLINE_MAX_BYTES && sampleCount <= INLINE_MAX_SAMPLES;
    return this.run({ name: 'readSamples', ...task }, small, buffersOf(task.bytes)) as Promise<TaskResult<ReadSamples>>;
  }

  /** Threads started so far (0 until a task was large enough to leave the event loop). */
  get threadCount(): number {
    return this.pool?.threads.length ?? 0;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private run(task: StreamTask, inline: boolean, transferList: ArrayBuffer[]): Promise<TaskResult<PreparedUpload | ReadSamples>> {
    if (inline) return runStreamTask(task);
    return this.workers().run(task, { transferList });
  }

  private workers(): Piscina {
    if (this.pool) return this.pool;
    const compiled = new URL('./stream.worker.js', import.meta.url);
    const fromSource = !existsSync(fileURLToPath(compiled));
    const threads = this.options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.pool = new Piscina({
      filename: fromSource ? new URL('./stream.worker.ts', import.meta.url).href : compiled.href,
      // The first thread stays once started (a thread costs ~50 MiB and ~0.2 s to start, which no
      // single request should pay); more start under concurrent load and leave after 30 s idle.
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 30_000,
      // Workers need none of the parent's flags (some, like --expose-gc, are refused in a worker).
      execArgv: fromSource ? ['--import', new URL('./workers/typescript-hooks.mjs', import.meta.url).href] : [],
    });
    return this.pool;
  }
}

