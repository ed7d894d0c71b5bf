/**
 * Worker thread of the parse pool: decodes one file per message and prepares its streams for
 * storage (parseAndPrepare: FIT decoding and Parquet encoding are the CPU-bound part of an import),
 * then answers the result, moving the sample arrays and Parquet bytes instead of copying them.
 */
import { parentPort } from 'node:worker_threads';
import { UnreadableFileError } from './parsers/types.js';
import { flattenActivities, parseAndPrepare, type ParsedFile } from './prepare-streams.js';

export interface ParseRequest {
  id: number;
  bytes: Uint8Array;
  name: string;
}

function transferables({ result, prepared }: ParsedFile): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (view: unknown) => {
    // Only views that own their whole buffer: moving a shared one would detach unrelated data.
    if (ArrayBuffer.isView(view) && view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) {
      buffers.add(view.buffer);
    }
  };
  for (const activity of flattenActivities(result.activities)) {
    for (const samples of Object.values(activity.streams)) for (const column of Object.values(samples ?? {})) add(column);
  }
  for (const streams of prepared) for (const stream of Object.values(streams)) if (stream?.ok) add(stream.value.bytes);
  return [...buffers];
}

parentPort?.on('message', ({ id, bytes, name }: ParseRequest) => {
  parseAndPrepare(bytes, name).then(
    (parsed) => parentPort!.postMessage({ id, ...parsed }, transferables(parsed)),
    (error: unknown) => {
      if (error instanceof UnreadableFileError) parentPort!.postMessage({ id, rejected: error.reason, decoderError: error.decoderError });
      else parentPort!.postMessage({ id, failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    },
  );
});
