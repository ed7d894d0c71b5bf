import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpErrorBody } from '../../api/errors.js';

/**
 * A fixed one-minute window of requests per client address, in this process, checked before the
 * body is read: a flood of pushes (forged or not) is answered 429 instead of being parsed.
 * Garmin retries a push that was not answered 200, so a legitimate burst over the limit is late, not lost.
 */
export class PushRateLimit {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether one more request from `address` is allowed now (counts it). */
  take(address: string): boolean {
    const minute = Math.floor(this.now() / 60_000);
    if (minute !== this.windowStart) {
      this.windowStart = minute;
      this.counts = new Map();
    }
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    return count <= this.perMinute;
  }

  /** A Fastify onRequest hook. */
  readonly hook = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (this.take(request.ip)) return;
    const retryAfter = 60 - Math.floor((this.now() % 60_000) / 1000);
    await reply.status(429).header('retry-after', String(retryAfter)).send(httpErrorBody(429, `More than ${this.perMinute} pushes a minute from this address; try again in ${retryAfter} s`));
  };
}
