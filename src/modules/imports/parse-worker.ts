/**
 * Worker thread of the parse pool: decodes one file per message (FIT decoding is CPU-bound) and
 * answers the normalized result, transferring the sample arrays instead of copying them.
 */
import { parentPort } from 'node:worker_threads';
import { parseFile } from './parsers/index.js';
import { UnreadableFileError, type ImportedActivity } from './parsers/types.js';

export interface ParseRequest {
  id: number;
  bytes: Uint8Array;
  name: string;
}

function transferables(activities: ImportedActivity[], into = new Set<ArrayBuffer>()): Set<ArrayBuffer> {
  for (const activity of activities) {
    for (const samples of Object.values(activity.streams)) {
      for (const column of Object.values(samples ?? {})) {
        if (ArrayBuffer.isView(column) && column.buffer instanceof ArrayBuffer) into.add(column.buffer);
      }
    }
    transferables(activity.children, into);
  }
  return into;
}

parentPort?.on('message', ({ id, bytes, name }: ParseRequest) => {
  try {
    const result = parseFile(bytes, name);
    parentPort!.postMessage({ id, result }, [...transferables(result.activities)]);
  } catch (error) {
    if (error instanceof UnreadableFileError) parentPort!.postMessage({ id, rejected: error.reason });
    else parentPort!.postMessage({ id, failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
