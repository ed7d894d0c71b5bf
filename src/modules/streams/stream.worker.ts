/**
 * Entry point of a StreamWorkerPool thread (piscina): runs one stream task and moves the result's
 * buffers back to the main thread instead of copying them.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { buffersOf, runStreamTask, type StreamTask } from './stream-tasks.js';

export default async function run(task: StreamTask): Promise<unknown> {
  const result = await runStreamTask(task);
  if (!result.ok) return result;
  const value = result.value;
  const buffers = 'bytes' in value ? buffersOf(value.bytes) : buffersOf(value.samples);
  // piscina's Transferable: the buffers to move, and the value to send with them.
  return move({ [transferableSymbol]: buffers, [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
}
