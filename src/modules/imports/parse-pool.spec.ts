import { afterAll, describe, expect, it } from '@jest/globals';
import { threadId } from 'node:worker_threads';
import { fitActivityFixture } from '../../../libs/testing/fit-builder.js';
import { ParsePool, WORKER_CRASHED, type ParseOutcome } from './parse-pool.js';
import { parseAndPrepare } from './prepare-streams.js';

const fit = (day: number) =>
  fitActivityFixture({
    sport: 'running',
    startTime: new Date(Date.UTC(2024, 4, day, 6)),
    seconds: 600,
    channels: { heartRate: true, position: true, altitude: true, speed: true, distance: true },
  }).bytes;

const crashing = new URL('../../../test/fixtures/imports/crashing-parse.worker.ts', import.meta.url);
const hungry = new URL('../../../test/fixtures/imports/hungry-parse.worker.ts', import.meta.url);

function parsed(outcome: ParseOutcome) {
  if ('rejected' in outcome) throw new Error(`rejected: ${outcome.rejected}`);
  return outcome;
}

describe('ParsePool (piscina, the threaded path from the TypeScript sources)', () => {
  const pools: ParsePool[] = [];
  const pool = (options: ConstructorParameters<typeof ParsePool>[0]) => {
    const created = new ParsePool(options);
    pools.push(created);
    return created;
  };
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('decodes on a worker thread, with the same result as in-process, and leaves the caller its bytes', async () => {
    const parsePool = pool({ threads: 1 });
    const bytes = fit(1);
    const before = bytes.slice();
    const outcome = parsed(await parsePool.parse(bytes, 'run.fit'));
    expect(parsePool.lastThreadId).toEqual(expect.any(Number));
    expect(parsePool.lastThreadId).not.toBe(threadId);
    expect(parsePool.threadCount).toBe(1);
    expect(bytes).toEqual(before);

    const inline = await parseAndPrepare(bytes, 'run.fit');
    expect(outcome.result.format).toBe('fit');
    expect(outcome.result.activities).toHaveLength(inline.result.activities.length);
    const [threaded] = outcome.result.activities;
    const [local] = inline.result.activities;
    expect(threaded!.startTime).toEqual(local!.startTime);
    expect(threaded!.streams.heart_rate?.timestamps).toEqual(local!.streams.heart_rate?.timestamps);
    expect(threaded!.streams.heart_rate?.timestamps.length).toBe(601);
    // The encoded Parquet objects came back (moved, not copied) and match the in-process encoding.
    const bytesOf = (prepared: typeof outcome.prepared) => prepared.map((streams) => Object.fromEntries(Object.entries(streams).map(([type, s]) => [type, s?.ok ? s.value.bytes : s?.error.message])));
    expect(bytesOf(outcome.prepared)).toEqual(bytesOf(inline.prepared));
  });

  it('inline: the same answers on the calling thread, no worker started (bench:import measures it so)', async () => {
    const parsePool = pool({ inline: true });
    const bytes = fit(8);
    const outcome = parsed(await parsePool.parse(bytes, 'run.fit'));
    const local = await parseAndPrepare(bytes, 'run.fit');
    expect(outcome.result.activities[0]!.streams.heart_rate?.timestamps).toEqual(local.result.activities[0]!.streams.heart_rate?.timestamps);
    expect(outcome.prepared[0]!.heart_rate?.ok && outcome.prepared[0]!.heart_rate.value.checksumSha256).toBe(local.prepared[0]!.heart_rate?.ok && local.prepared[0]!.heart_rate.value.checksumSha256);
    expect(await parsePool.parse(new TextEncoder().encode('not a file'), 'junk.fit')).toEqual({ rejected: expect.stringMatching(/\w{5,}/), decoderError: undefined });
    expect(parsePool.threadCount).toBe(0);
  });

  it('starts no thread before the first file, and its threads leave once idle (an idle server gives their memory back)', async () => {
    const parsePool = pool({ threads: 2, idleTimeoutMs: 200 });
    expect(parsePool.threadCount).toBe(0);
    parsed(await parsePool.parse(fit(2), 'run.fit'));
    expect(parsePool.threadCount).toBe(1);
    for (let waited = 0; parsePool.threadCount > 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(parsePool.threadCount).toBe(0);
    // And the next file starts one again.
    parsed(await parsePool.parse(fit(3), 'run.fit'));
    expect(parsePool.threadCount).toBe(1);
  });

  it('answers an unreadable file as rejected with its reason', async () => {
    const outcome = await pool({ threads: 1 }).parse(new TextEncoder().encode('not a file'), 'junk.fit');
    expect(outcome).toEqual({ rejected: expect.stringMatching(/\w{5,}/), decoderError: undefined });
  });

  it('a crashed worker fails only its file: the file beside it and the next ones are imported', async () => {
    const parsePool = pool({ threads: 2, worker: crashing });
    const [crashed, good] = await Promise.all([parsePool.parse(fit(2), 'crash.fit'), parsePool.parse(fit(3), 'good.fit')]);
    expect(crashed).toEqual({ rejected: WORKER_CRASHED, decoderError: expect.stringContaining('the parse worker thread died') });
    expect(parsed(good).result.activities).toHaveLength(1);
    const after = await Promise.all([4, 5, 6].map((day) => parsePool.parse(fit(day), `day-${day}.fit`)));
    expect(after.map((outcome) => parsed(outcome).result.activities.length)).toEqual([1, 1, 1]);
  });

  it('a file too large for the capped heap is decoded again on a thread without the cap: the cap bounds memory, never what imports', async () => {
    const parsePool = pool({ threads: 1, heapMb: 96, worker: hungry });
    const outcome = parsed(await parsePool.parse(fit(9), 'hungry.fit'));
    expect(outcome.result.activities).toHaveLength(1);
    expect(outcome.result.activities[0]!.streams.heart_rate?.timestamps.length).toBe(601);
    expect(parsePool.uncappedRetries).toBe(1);
    // The next ordinary files go to the capped thread again.
    parsed(await parsePool.parse(fit(10), 'run.fit'));
    expect(parsePool.uncappedRetries).toBe(1);
  });

  it('without a cap there is nothing to retry: the same hungry file is decoded at once', async () => {
    const parsePool = pool({ threads: 1, worker: hungry });
    parsed(await parsePool.parse(fit(11), 'hungry.fit'));
    expect(parsePool.uncappedRetries).toBe(0);
  });

  it('close() abandons a file still in hand: its parse throws instead of hanging or answering a verdict', async () => {
    const parsePool = pool({ threads: 1, worker: crashing });
    const inHand = parsePool.parse(fit(7), 'slow.fit');
    const settled = inHand.then(
      () => 'answered',
      (error: unknown) => (error instanceof Error ? error.name : String(error)),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await parsePool.close();
    expect(await settled).toBe('AbortError');
  });
});
