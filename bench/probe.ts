/**
 * Loaded into a benchmarked server with `--import`: measures its longest event-loop stall
 * (perf_hooks.monitorEventLoopDelay) and its peak RSS between a 'reset' and a 'report' message sent
 * over the IPC channel by bench/streams.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

if (process.send) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let peak = process.memoryUsage.rss();
  let idle = peak;
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5).unref();
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      global.gc?.();
      idle = process.memoryUsage.rss();
      peak = idle;
      delay.reset();
      process.send!({ type: 'reset' });
    } else if (message === 'report') {
      peak = Math.max(peak, process.memoryUsage.rss());
      process.send!({ type: 'report', maxStallMs: delay.max / 1e6, peakAboveIdleMiB: (peak - idle) / 2 ** 20 });
    }
  });
  process.channel?.unref();
}
