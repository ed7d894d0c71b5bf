/**
 * Entry point of a StreamWorkerPool thread (piscina): runs one stream task, or scans one JSON upload
 * body as it arrives (stream-body-scan), and moves the result's buffers back to the main thread
 * instead of copying them.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { scanJsonFromPort, type ScanJsonTask } from './http/stream-body-scan.js';
import { buffersOf, runStreamTask, type StreamTask } from './stream-tasks.js';

export default async function run(task: StreamTask | ScanJsonTask): Promise<unknown> {
  if (task.name === 'scanJson') {
    const outcome = await scanJsonFromPort(task);
    if (!outcome.ok || outcome.value.kind !== 'columns') return outcome;
    const buffers = Object.values(outcome.value.columns.arrays).map((column) => column.buffer as ArrayBuffer);
    return move({ [transferableSymbol]: buffers, [valueSymbol]: outcome } as unknown as Parameters<typeof move>[0]);
  }
  const result = await runStreamTask(task);
  if (!result.ok) return result;
  const value = result.value;
  const buffers = 'bytes' in value ? buffersOf(value.bytes) : buffersOf(value.samples);
  // piscina's Transferable: the buffers to move, and the value to send with them.
  return move({ [transferableSymbol]: buffers, [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
}
