import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { parquetMetadata } from 'hyparquet';
import { Piscina } from 'piscina';
import { rowGroupsOverlapping, type TimeRange } from '@unified-activity/parquet-streams';
import { PortBodyScan, type BodyScan, type ScanJsonOutcome, type ScanJsonTask } from './http/stream-body-scan.js';
import { buffersOf, runStreamTask, type PreparedUpload, type PrepareUploadTask, type ReadSamples, type ReadSamplesTask, type StreamTask, type TaskResult } from './stream-tasks.js';

/**
 * Below these sizes a task runs inline: a worker round trip (structured clone, scheduling) costs more
 * than it saves, and small requests must stay as fast as a plain database query.
 */
export const INLINE_MAX_SAMPLES = 20_000;
export const INLINE_MAX_BYTES = 128 * 1024;
/**
 * Reads decoding at most this many rows run inline whatever the object's size: their JSON answer is
 * written on the event loop in one piece anyway (up to `streamedReads.minSamples`, the same 50,000),
 * which costs 2–4× the decode (docs/benchmarks.md, "bench:streams"), so a worker round trip would
 * spare the loop little and add its latency to every 10 h read. 50,000 rows of the widest type
 * (position, four doubles) are at most 2 MB of pages, a few milliseconds to decode.
 */
export const READ_INLINE_MAX_SAMPLES = 50_000;

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

/** The rows the footer declares; 0 when it cannot be read (the decode fails as fast inline). */
function footerRows(bytes: Uint8Array): number {
  try {
    return Number(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).num_rows);
  } catch {
    return 0;
  }
}

/**
 * The rows a range read decodes: those of the row groups that overlap the range (the footer says),
 * whatever the object's size, since only their pages are decompressed. 0 when the footer cannot be
 * read (the decode fails as fast inline).
 */
function rowsToDecode(bytes: Uint8Array, range: TimeRange): number {
  try {
    // The footer and its length only: hyparquet reads the metadata from the end of what it is given.
    const footer = bytes.byteLength >= 8 ? new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8, 4).getUint32(0, true) : 0;
    const tail = bytes.subarray(Math.max(0, bytes.byteLength - footer - 8));
    const metadata = parquetMetadata(tail.slice().buffer);
    return rowGroupsOverlapping(metadata, range).reduce((rows, index) => rows + Number(metadata.row_groups[index]!.num_rows), 0);
  } catch {
    return 0;
  }
}

/** JSON bodies scanned at once; more wait (paused) for a free slot. */
const MAX_CONCURRENT_SCANS = 64;

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
  private scanner: Piscina | undefined;
  /** Scans under way: a body still arriving at shutdown is abandoned, not waited for. */
  private readonly scans = new Set<BodyScan>();

  constructor(private readonly options: StreamWorkerPoolOptions = {}) {}

  prepareUpload(task: Omit<PrepareUploadTask, 'name'>): Promise<TaskResult<PreparedUpload>> {
    const full: PrepareUploadTask = { name: 'prepareUpload', ...task };
    const small = 'parquet' in task.source ? isSmallParquet(task.source.parquet) : task.source.samples.timestamps.length <= INLINE_MAX_SAMPLES;
    const transfer = buffersOf('parquet' in task.source ? task.source.parquet : task.source.samples);
    return this.run(full, small, transfer) as Promise<TaskResult<PreparedUpload>>;
  }

  /**
   * `sampleCount`: the stored object's rows when the caller knows them (the metadata row). A read is
   * small when the rows it decodes are at most READ_INLINE_MAX_SAMPLES: for a range read, those of
   * the row groups it overlaps (a 1 h slice of a stream at 1 Hz is, however long the stream).
   */
  readSamples(task: Omit<ReadSamplesTask, 'name'>, sampleCount?: number): Promise<TaskResult<ReadSamples>> {
    // A range of a stream that is small as a whole is small too: its footer need not be read twice.
    const rows = task.range && (sampleCount ?? Infinity) > READ_INLINE_MAX_SAMPLES ? rowsToDecode(task.bytes, task.range) : (sampleCount ?? footerRows(task.bytes));
    const small = rows <= READ_INLINE_MAX_SAMPLES;
    return this.run({ name: 'readSamples', ...task }, small, buffersOf(task.bytes)) as Promise<TaskResult<ReadSamples>>;
  }

  /**
   * Scans a large JSON upload body as it arrives, on the scan thread: one thread of its own, since a
   * scan lasts as long as the client takes to send (a slow client must not hold a thread the encode
   * and decode tasks need); it runs many scans at once, each waiting for its next chunk.
   */
  scanJson(sizeHint?: number): BodyScan {
    const { port1, port2 } = new MessageChannel();
    const task: ScanJsonTask = { name: 'scanJson', port: port2, sizeHint };
    this.scanner ??= this.start({ maxThreads: 1, concurrentTasksPerWorker: MAX_CONCURRENT_SCANS });
    const outcome = this.scanner.run(task, { transferList: [port2] }) as Promise<ScanJsonOutcome>;
    const scan = new PortBodyScan(port1, outcome);
    this.scans.add(scan);
    void outcome.finally(() => this.scans.delete(scan)).catch(() => undefined);
    return scan;
  }

  /** Threads started so far (0 until a task was large enough to leave the event loop). */
  get threadCount(): number {
    return (this.pool?.threads.length ?? 0) + (this.scanner?.threads.length ?? 0);
  }

  async close(): Promise<void> {
    for (const scan of this.scans) scan.abort();
    const pools = [this.pool, this.scanner];
    this.pool = this.scanner = undefined;
    await Promise.all(pools.map((pool) => pool?.close()));
  }

  private run(task: StreamTask, inline: boolean, transferList: ArrayBuffer[]): Promise<TaskResult<PreparedUpload | ReadSamples>> {
    if (inline) return runStreamTask(task);
    return this.workers().run(task, { transferList });
  }

  private workers(): Piscina {
    this.pool ??= this.start({ maxThreads: this.options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1)) });
    return this.pool;
  }

  private start(options: { maxThreads: number; concurrentTasksPerWorker?: number }): Piscina {
    const compiled = new URL('./stream.worker.js', import.meta.url);
    const fromSource = !existsSync(fileURLToPath(compiled));
    return new Piscina({
      filename: fromSource ? new URL('./stream.worker.ts', import.meta.url).href : compiled.href,
      // The first thread stays once started (a thread costs ~50 MiB and ~0.2 s to start, which no
      // single request should pay); more start under concurrent load and leave after 30 s idle.
      minThreads: 1,
      idleTimeout: 30_000,
      ...options,
      // Workers need none of the parent's flags (some, like --expose-gc, are refused in a worker).
      execArgv: fromSource ? ['--import', new URL('./workers/typescript-hooks.mjs', import.meta.url).href] : [],
    });
  }
}

