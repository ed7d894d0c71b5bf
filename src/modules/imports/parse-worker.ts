/**
 * Worker thread of the parse pool: decodes one file per message (FIT decoding is CPU-bound) and
 * answers the normalized result, transferring the sample arrays instead of copying them.
 */
import { parentPort } from 'node:worker_threads';
import { parquetStreamCodec } from '../streams/parquet.codec.js';
import type { StreamSamples, StreamType } from '../streams/stream-types.js';
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

/** Parquet bytes of every stream, activities in file order with each one's children after it. */
function encodeStreams(activities: ImportedActivity[]): Partial<Record<StreamType, Uint8Array>>[] {
  const out: Partial<Record<StreamType, Uint8Array>>[] = [];
  const encode = (activity: ImportedActivity) => {
    const streams: Partial<Record<StreamType, Uint8Array>> = {};
    for (const [type, samples] of Object.entries(activity.streams) as [StreamType, StreamSamples | undefined][]) {
      // A stream the codec refuses is left to the main thread, which reports why.
      if (samples && samples.timestamps.length > 0) {
        try {
          streams[type] = parquetStreamCodec.encode(type, samples);
        } catch {
          /* reported when stored */
        }
      }
    }
    out.push(streams);
  };
  for (const activity of activities) {
    encode(activity);
    activity.children.forEach(encode);
  }
  return out;
}

parentPort?.on('message', ({ id, bytes, name }: ParseRequest) => {
  try {
    const result = parseFile(bytes, name);
    // Parquet encoding costs more CPU than decoding: it runs here too, off the main thread.
    const encoded = encodeStreams(result.activities);
    const buffers = transferables(result.activities);
    for (const streams of encoded) for (const bytes of Object.values(streams)) buffers.add(bytes.buffer as ArrayBuffer);
    parentPort!.postMessage({ id, result, encoded }, [...buffers]);
  } catch (error) {
    if (error instanceof UnreadableFileError) parentPort!.postMessage({ id, rejected: error.reason });
    else parentPort!.postMessage({ id, failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
