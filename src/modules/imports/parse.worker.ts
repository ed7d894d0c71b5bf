/**
 * Entry point of a ParsePool thread (piscina): decodes one file and prepares its streams for
 * storage (parseAndPrepare: FIT decoding and Parquet encoding are the CPU-bound part of an import),
 * then answers the result, moving the sample arrays and Parquet bytes instead of copying them.
 */
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { UnreadableFileError } from './parsers/types.js';
import { flattenActivities, parseAndPrepare, type ParsedFile } from './prepare-streams.js';

export interface ParseTask {
  bytes: Uint8Array;
  name: string;
}

/** What a task answers: the parsed file, or why it cannot be read, or our own failure (a bug). */
export type ParseAnswer = (ParsedFile | { rejected: string; decoderError?: string } | { failed: string }) & { threadId: number };

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

export default async function parse({ bytes, name }: ParseTask): Promise<unknown> {
  try {
    const parsed = await parseAndPrepare(bytes, name);
    const answer: ParseAnswer = { ...parsed, threadId };
    // piscina's Transferable: the buffers to move, and the value to send with them.
    return move({ [transferableSymbol]: transferables(parsed), [valueSymbol]: answer } as unknown as Parameters<typeof move>[0]);
  } catch (error) {
    if (error instanceof UnreadableFileError) return { rejected: error.reason, decoderError: error.decoderError, threadId } satisfies ParseAnswer;
    return { failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error), threadId } satisfies ParseAnswer;
  }
}
