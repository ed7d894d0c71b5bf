import { describe, expect, it } from '@jest/globals';
import { reconnectDelaySeconds } from './database.js';

describe('reconnectDelaySeconds', () => {
  it('grows from tens of milliseconds and never passes one second (postgres.js would wait up to 20 s)', () => {
    for (let retries = 1; retries <= 40; retries++) {
      for (let sample = 0; sample < 20; sample++) {
        const delay = reconnectDelaySeconds(retries);
        expect(delay).toBeGreaterThan(0);
        expect(delay).toBeLessThanOrEqual(1);
      }
    }
    expect(reconnectDelaySeconds(1)).toBeLessThanOrEqual(0.1);
    // Past the cap the delay is jittered between half and all of it, so replicas do not retry in step.
    const late = Array.from({ length: 200 }, () => reconnectDelaySeconds(30));
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0.5);
    expect(new Set(late).size).toBeGreaterThan(100);
  });
});
