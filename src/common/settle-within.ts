import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits for background work at shutdown, but at most `ms`: a round stuck on an unreachable
 * database (a query against a closed port takes tens of seconds to fail) must not hold the
 * process's exit. The work itself is not cancelled; it ends on its own, or with the process.
 */
export async function settleWithin(work: Promise<unknown> | undefined, ms = 5_000): Promise<void> {
  if (!work) return;
  await Promise.race([work.then(() => undefined, () => undefined), sleep(ms, undefined, { ref: false })]);
}
