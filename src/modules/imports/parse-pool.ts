import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UnreadableFileError, type ParseResult } from './parsers/types.js';
import { parseAndPrepare, type PreparedStreams } from './prepare-streams.js';

export type ParseOutcome = { result: ParseResult; prepared: PreparedStreams } | { rejected: string; decoderError?: string };

interface Pending {
  resolve: (outcome: ParseOutcome) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
  /** Ids of the requests this worker has in hand. */
  inFlight: Set<number>;
}

const workerFile = fileURLToPath(new URL('./parse-worker.js', import.meta.url));

/**
 * Decodes files and prepares their streams (parseAndPrepare) off the event loop in worker threads
 * (STYLE.md: CPU-heavy pure work runs in a pool). Workers start on first use and are reused. Where
 * the compiled worker file does not exist (tests running the TypeScript sources) the same function
 * runs in-process instead, with the same results.
 */
export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly threaded = existsSync(workerFile);

  constructor(readonly size = Math.max(1, availableParallelism())) {}

  async parse(bytes: Uint8Array, name: string): Promise<ParseOutcome> {
    if (!this.threaded) {
      try {
        return await parseAndPrepare(bytes, name);
      } catch (error) {
        if (error instanceof UnreadableFileError) return { rejected: error.reason, decoderError: error.decoderError };
        throw error;
      }
    }
    const target = this.pick();
    const id = this.nextId++;
    target.busy++;
    target.inFlight.add(id);
    try {
      return await new Promise<ParseOutcome>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        // Copy into a buffer of its own: the caller keeps its bytes (they are archived as the original).
        const copy = bytes.slice();
        target.worker.postMessage({ id, bytes: copy, name }, [copy.buffer]);
      });
    } finally {
      target.busy--;
      target.inFlight.delete(id);
    }
  }

  /** Starts every worker now (they load their modules meanwhile) instead of on first use. */
  start(): void {
    if (!this.threaded) return;
    while (this.workers.length < this.size) this.spawn();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map(({ worker }) => worker.terminate()));
  }

  private pick(): PoolWorker {
    const idle = this.workers.find((w) => w.busy === 0);
    if (idle) return idle;
    if (this.workers.length < this.size) return this.spawn();
    return this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private spawn(): PoolWorker {
    const worker = new Worker(workerFile);
    const entry: PoolWorker = { worker, busy: 0, inFlight: new Set() };
    worker.on('message', (message: { id: number; result?: ParseResult; prepared?: PreparedStreams; rejected?: string; decoderError?: string; failed?: string }) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.result) pending.resolve({ result: message.result, prepared: message.prepared ?? [] });
      else if (message.rejected !== undefined) pending.resolve({ rejected: message.rejected, decoderError: message.decoderError });
      else pending.reject(new Error(message.failed ?? 'the parse worker failed'));
    });
    worker.on('error', (error) => {
      // A crashed worker fails what it had in hand; the pool starts a new one on demand.
      for (const id of entry.inFlight) {
        this.pending.get(id)?.reject(error);
        this.pending.delete(id);
      }
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
    });
    this.workers.push(entry);
    return entry;
  }
}
