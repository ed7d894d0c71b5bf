/**
 * The CPU-heavy steps of the streams module as pure functions (bytes and typed arrays in, bytes and
 * typed arrays out, no I/O): validating and encoding an upload, decoding and downsampling a read.
 * StreamWorkerPool runs them in worker threads for large streams and inline for small ones; tests call
 * them directly. Errors come back as values, since class identity does not survive a worker boundary.
 */
import { createHash } from 'node:crypto';
import { downsampleStream } from './downsample.js';
import { parquetStreamCodec, StreamCodecError, type StreamCodecErrorCode, type TimeRange } from '@unified-activity/parquet-streams';
import { MAX_SAMPLES, SampleValidationError, summarise, TooManySamplesError, validateSamples, type SampleIssue, type SampleSummary } from './stream-samples.js';
import { isPositionSamples, type StreamSamples, type StreamType } from './stream-types.js';

/** The earliest and latest instants a Date can hold (± this many ms from the epoch). */
const MAX_DATE_MS = 8.64e15;

export type StreamTaskError =
  | { kind: 'codec'; code: StreamCodecErrorCode; message: string }
  | { kind: 'too_many_samples'; count: number; message: string }
  | { kind: 'invalid_samples'; issues: SampleIssue[]; message: string };

export interface PrepareUploadTask {
  name: 'prepareUpload';
  type: StreamType;
  /**
   * The activity's window, epoch ms (samples must lie within it ± the slack). Absent for a stored
   * object rewritten in the current schema (the upgrade): its samples were checked against the
   * activity when they were written, and a rewrite must not lose them if the activity changed since.
   */
  window?: { startMs: number; endMs: number };
  /** Samples already parsed from JSON, or a Parquet file to be read (bounded by its footer first). */
  source: { samples: StreamSamples } | { parquet: Uint8Array };
}

export interface PreparedUpload {
  bytes: Uint8Array;
  checksumSha256: string;
  summary: SampleSummary;
  schemaVersion: number;
}

export interface ReadSamplesTask {
  name: 'readSamples';
  type: StreamType;
  bytes: Uint8Array;
  maxPoints?: number;
  /** Only the samples in [fromMs, toMs): only the row groups that overlap it are decoded. */
  range?: TimeRange;
}

export interface ReadSamples {
  /** Samples read (before downsampling): the whole stored object's, or those in the range. */
  sampleCount: number;
  samples: StreamSamples;
  /** The object's schema_version; 1 is upgraded at read time (INT32 values become float64). */
  schemaVersion: number | undefined;
}

export type StreamTask = PrepareUploadTask | ReadSamplesTask;
export type TaskResult<T> = { ok: true; value: T } | { ok: false; error: StreamTaskError };

function asTaskError(error: unknown): StreamTaskError {
  if (error instanceof StreamCodecError) return { kind: 'codec', code: error.code, message: error.message };
  if (error instanceof TooManySamplesError) return { kind: 'too_many_samples', count: error.count, message: error.message };
  if (error instanceof SampleValidationError) return { kind: 'invalid_samples', issues: error.issues, message: error.message };
  throw error;
}

export async function prepareUpload(task: PrepareUploadTask): Promise<TaskResult<PreparedUpload>> {
  try {
    const samples =
      'parquet' in task.source
        ? (await parquetStreamCodec.decode(task.source.parquet, task.type, { maxRows: MAX_SAMPLES })).samples
        : task.source.samples;
    const { startMs, endMs } = task.window ?? { startMs: -MAX_DATE_MS, endMs: MAX_DATE_MS };
    validateSamples(task.type, samples, { startTime: new Date(startMs), endTime: new Date(endMs) });
    const bytes = parquetStreamCodec.encode(task.type, samples);
    return {
      ok: true,
      value: {
        bytes,
        checksumSha256: createHash('sha256').update(bytes).digest('hex'),
        summary: summarise(samples),
        schemaVersion: parquetStreamCodec.schemaVersion,
      },
    };
  } catch (error) {
    return { ok: false, error: asTaskError(error) };
  }
}

export async function readSamples(task: ReadSamplesTask): Promise<TaskResult<ReadSamples>> {
  try {
    // Stored objects were bounded at upload; the limit still guards against a tampered lake.
    const decoded = await parquetStreamCodec.decode(task.bytes, task.type, { maxRows: MAX_SAMPLES, range: task.range });
    const sampleCount = decoded.samples.timestamps.length;
    const samples = task.maxPoints ? downsampleStream(task.type, decoded.samples, task.maxPoints) : decoded.samples;
    return { ok: true, value: { sampleCount, samples, schemaVersion: decoded.schemaVersion } };
  } catch (error) {
    return { ok: false, error: asTaskError(error) };
  }
}

export function runStreamTask(task: StreamTask): Promise<TaskResult<PreparedUpload | ReadSamples>> {
  return task.name === 'prepareUpload' ? prepareUpload(task) : readSamples(task);
}

/**
 * The typed arrays' buffers of a task or its result, to be moved (not copied) between threads. Only
 * buffers a view spans entirely: a view into a shared buffer (a pooled Node Buffer) is copied instead,
 * since moving it would detach unrelated data.
 */
export function buffersOf(value: StreamSamples | Uint8Array | undefined): ArrayBuffer[] {
  if (value === undefined) return [];
  const views: (ArrayBufferView | null)[] =
    value instanceof Uint8Array
      ? [value]
      : isPositionSamples(value)
        ? [value.timestamps, value.latitude, value.longitude, value.altitudeM, value.horizontalAccuracyM]
        : [value.timestamps, value.values];
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    if (view === null || view.byteLength === 0) continue;
    const { buffer } = view;
    if (Object.prototype.toString.call(buffer) !== '[object ArrayBuffer]') continue;
    if (view.byteOffset === 0 && view.byteLength === buffer.byteLength) buffers.add(buffer as ArrayBuffer);
  }
  return [...buffers];
}
