/**
 * A large JSON upload body scanned in a worker thread (StreamWorkerPool's scan thread) while it
 * arrives: the main thread only copies each network chunk into a message, so its event loop does
 * none of the 40–100 MiB of scanning, nor collects the scanner's garbage. The two halves talk over a
 * MessageChannel: the main thread posts chunks and an end mark; the scan thread answers how many
 * bytes it has scanned (flow control: the body is paused while more than HIGH_WATER bytes are in
 * flight) and, as the task's result, the columns (moved, not copied) or a syntax error.
 */
import type { MessagePort } from 'node:worker_threads';
import { JsonSyntaxError, StreamColumnsScanner, type ScanResult } from './stream-columns-scanner.js';

/** Body bytes posted but not yet scanned, above which the reader pauses the body… */
const HIGH_WATER = 1024 * 1024;
/** …and below which it resumes. */
const LOW_WATER = 256 * 1024;

export interface ScanJsonTask {
  name: 'scanJson';
  /** The scan thread's end of the channel. */
  port: MessagePort;
  /** The declared body size (content-length), if any. */
  sizeHint?: number;
}

export type ScanJsonOutcome = { ok: true; value: ScanResult } | { ok: false; error: { kind: 'syntax'; message: string } | { kind: 'aborted' } };

type ToScanner = { chunk: Uint8Array } | { end: true } | { abort: true };
type FromScanner = { scanned: number };

/** The main thread's handle on one body being scanned. */
export interface BodyScan {
  /** Hands over a chunk; false when the caller should wait for `ready()` before the next one. */
  write(chunk: Buffer): boolean;
  /** Resolves once the scan has caught up; rejects with the body's syntax error, if it has one. */
  ready(): Promise<void>;
  /** The scan of the whole body: its columns, or the body as JSON text when it is irregular. */
  end(): Promise<ScanResult>;
  /** The request failed: stop the scan and drop what it built. */
  abort(): void;
}

/** The scan thread's side: scans the chunks as they come and answers the result (the task's value). */
export function scanJsonFromPort({ port, sizeHint }: ScanJsonTask): Promise<ScanJsonOutcome> {
  const scanner = new StreamColumnsScanner(sizeHint);
  return new Promise((resolve) => {
    const settle = (outcome: ScanJsonOutcome) => {
      port.close();
      resolve(outcome);
    };
    port.on('message', (message: ToScanner) => {
      try {
        if ('chunk' in message) {
          const { buffer, byteOffset, byteLength } = message.chunk;
          scanner.write(Buffer.from(buffer, byteOffset, byteLength));
          // Scanned: its memory goes now (detaching frees it), not at this thread's next collection.
          (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
          port.postMessage({ scanned: byteLength } satisfies FromScanner);
        } else if ('end' in message) {
          settle({ ok: true, value: scanner.end() });
        } else {
          settle({ ok: false, error: { kind: 'aborted' } });
        }
      } catch (error) {
        if (!(error instanceof JsonSyntaxError)) throw error;
        settle({ ok: false, error: { kind: 'syntax', message: error.message } });
      }
    });
  });
}

/** The main thread's side of a scan whose task (`outcome`) runs on the scan thread at `port`'s other end. */
export class PortBodyScan implements BodyScan {
  private inFlight = 0;
  private waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly result: Promise<ScanResult>;

  constructor(
    private readonly port: MessagePort,
    outcome: Promise<ScanJsonOutcome>,
  ) {
    port.on('message', ({ scanned }: FromScanner) => {
      this.inFlight -= scanned;
      if (this.inFlight <= LOW_WATER) this.wake();
    });
    this.result = outcome.then(
      (settled) => {
        if (!settled.ok) throw this.fail(settled.error.kind === 'syntax' ? new JsonSyntaxError(settled.error.message) : new Error('The upload was aborted'));
        port.close();
        return settled.value;
      },
      (error: unknown) => {
        throw this.fail(error instanceof Error ? error : new Error(String(error)));
      },
    );
    // Rejections are answered through ready() and end(); an aborted scan has no one waiting.
    this.result.catch(() => undefined);
  }

  write(chunk: Buffer): boolean {
    if (this.failure) return false;
    // A copy that owns its memory can be moved; the network chunk may share its buffer with others.
    const copy = new Uint8Array(chunk);
    this.inFlight += copy.byteLength;
    this.port.postMessage({ chunk: copy } satisfies ToScanner, [copy.buffer]);
    return this.inFlight < HIGH_WATER;
  }

  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight <= LOW_WATER) return Promise.resolve();
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  end(): Promise<ScanResult> {
    if (!this.failure) this.port.postMessage({ end: true } satisfies ToScanner);
    return this.result;
  }

  abort(): void {
    if (!this.failure) this.port.postMessage({ abort: true } satisfies ToScanner);
  }

  private fail(error: Error): Error {
    this.port.close();
    this.failure = error;
    this.wake();
    return error;
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return;
    if (this.failure) waiting.reject(this.failure);
    else waiting.resolve();
  }
}
