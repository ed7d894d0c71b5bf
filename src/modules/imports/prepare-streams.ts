/**
 * Everything CPU-bound about one imported file, as a pure function: decode it (parsers) and prepare
 * each stream for storage (the streams module's prepareUpload: validation against its activity's
 * window, Parquet encoding, checksum, summary). The parse pool runs it in worker threads; the main
 * thread then only writes objects and rows (StreamsService.storePreparedStreams), so no stream is
 * validated or encoded twice.
 */
import { prepareUpload, type PreparedUpload, type StreamTaskError } from '../streams/stream-tasks.js';
import type { StreamSamples, StreamType } from '../streams/stream-types.js';
import { parseFile } from './parsers/index.js';
import type { ImportedActivity, ParseResult } from './parsers/types.js';

export type PreparedStream = { ok: true; value: PreparedUpload } | { ok: false; error: StreamTaskError };

/** Per activity in file order, each one's children right after it: its streams, prepared. */
export type PreparedStreams = Partial<Record<StreamType, PreparedStream>>[];

export interface ParsedFile {
  result: ParseResult;
  prepared: PreparedStreams;
}

/** The activities of a parse result in the order PreparedStreams lists them. */
export function flattenActivities(activities: readonly ImportedActivity[]): ImportedActivity[] {
  return activities.flatMap((activity) => [activity, ...activity.children]);
}

export async function prepareStreams(activities: readonly ImportedActivity[]): Promise<PreparedStreams> {
  const out: PreparedStreams = [];
  for (const activity of flattenActivities(activities)) {
    const streams: Partial<Record<StreamType, PreparedStream>> = {};
    const window = { startMs: activity.startTime.getTime(), endMs: activity.endTime.getTime() };
    for (const [type, samples] of Object.entries(activity.streams) as [StreamType, StreamSamples | undefined][]) {
      if (!samples || samples.timestamps.length === 0) continue;
      streams[type] = await prepareUpload({ name: 'prepareUpload', type, window, source: { samples } });
    }
    out.push(streams);
  }
  return out;
}

/** Throws UnreadableFileError for a file that cannot be read at all. */
export async function parseAndPrepare(bytes: Uint8Array, name: string): Promise<ParsedFile> {
  const result = parseFile(bytes, name);
  return { result, prepared: await prepareStreams(result.activities) };
}
