/**
 * Loaded into a benchmarked server with `--import`: measures its longest event-loop stall
 * (perf_hooks.monitorEventLoopDelay) and the most CPU time its main thread spent between two 5 ms
 * ticks (the part of a stall that is work on the loop, not descheduling), its peak RSS (the whole process, worker threads included) and
 * the main thread's peak JS heap + ArrayBuffers between a 'reset' and a 'report' message sent over
 * the IPC channel by bench/streams.ts; and on a 'cpu' message, the CPU time the whole process (all its
 * threads) has used so far, so that the bench can divide a batch of requests' CPU by their number.
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
  // The main thread's own CPU time between two ticks of this timer: a stall that is work on the event
  // loop, as opposed to time the (shared, loaded) machine did not run the process at all.
  const threadCpuMs = () => {
    const { user, system } = process.threadCpuUsage();
    return (user + system) / 1000;
  };
  let lastCpu = threadCpuMs();
  let maxBusyMs = 0;
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    mainPeak = Math.max(mainPeak, mainThread());
    const cpu = threadCpuMs();
    maxBusyMs = Math.max(maxBusyMs, cpu - lastCpu);
    lastCpu = cpu;
  }, 5).unref();
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      global.gc?.();
      idle = process.memoryUsage.rss();
      peak = idle;
      mainIdle = mainThread();
      mainPeak = mainIdle;
      lastCpu = threadCpuMs();
      maxBusyMs = 0;
      delay.reset();
      process.send!({ type: 'reset' });
    } else if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ type: 'cpu', cpuMs: (user + system) / 1000 });
    } else if (message === 'report') {
      peak = Math.max(peak, process.memoryUsage.rss());
      mainPeak = Math.max(mainPeak, mainThread());
      process.send!({
        type: 'report',
        maxStallMs: delay.max / 1e6,
        maxBusyMs,
        peakAboveIdleMiB: (peak - idle) / 2 ** 20,
        mainPeakAboveIdleMiB: (mainPeak - mainIdle) / 2 ** 20,
      });
    }
  });
  process.channel?.unref();
}
