/**
 * Loaded into a benchmarked server with `--import`: measures its longest event-loop stall
 * (perf_hooks.monitorEventLoopDelay), its peak RSS (the whole process, worker threads included) and
 * the main thread's peak JS heap + ArrayBuffers between a 'reset' and a 'report' message sent over
 * the IPC channel by bench/streams.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

if (process.send) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let peak = process.memoryUsage.rss();
  let idle = peak;
  /** The main isolate only: what the event loop's own code holds (worker threads have their own heaps). */
  const mainThread = () => {
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  let mainPeak = mainThread();
  let mainIdle = mainPeak;
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    mainPeak = Math.max(mainPeak, mainThread());
  }, 5).unref();
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      global.gc?.();
      idle = process.memoryUsage.rss();
      peak = idle;
      mainIdle = mainThread();
      mainPeak = mainIdle;
      delay.reset();
      process.send!({ type: 'reset' });
    } else if (message === 'report') {
      peak = Math.max(peak, process.memoryUsage.rss());
      mainPeak = Math.max(mainPeak, mainThread());
      process.send!({
        type: 'report',
        maxStallMs: delay.max / 1e6,
        peakAboveIdleMiB: (peak - idle) / 2 ** 20,
        mainPeakAboveIdleMiB: (mainPeak - mainIdle) / 2 ** 20,
      });
    }
  });
  process.channel?.unref();
}
