/**
 * Entry point of a StreamWorkerPool thread (piscina): runs one stream task and moves the result's
 * buffers back to the main thread instead of copying them.
 */
import { Piscina } from 'piscina';
import { buffersOf, runStreamTask, type StreamTask } from './stream-tasks.js';

export default async function run(task: StreamTask) {
  const result = await runStreamTask(task);
  if (!result.ok) return result;
  const value = result.value;
  const buffers = 'bytes' in value ? buffersOf(value.bytes) : buffersOf(value.samples);
  return {
    [Piscina.transferableSymbol]: buffers,
    [Piscina.valueSymbol]: result,
  };
}
