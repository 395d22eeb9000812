import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/servicenow/rate-limit.js';

describe('servicenow token bucket', () => {
  it('lets a burst through immediately, then spaces requests at the configured rate', () => {
    const now = 0;
    const bucket = new TokenBucket({ requestsPerSecond: 10, burst: 3, now: () => now });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(100);
    expect(bucket.reserve()).toBe(200);
  });

  it('refills over time up to the burst size, never beyond', () => {
    let now = 0;
    const bucket = new TokenBucket({ requestsPerSecond: 10, burst: 2, now: () => now });
    bucket.reserve();
    bucket.reserve();
    now = 10_000;
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 0]);
    expect(bucket.reserve()).toBe(100);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new TokenBucket({ requestsPerSecond: 0, burst: 1 })).toThrow(/requestsPerSecond/);
  });

  it('makes waiting callers actually wait', async () => {
    const bucket = new TokenBucket({ requestsPerSecond: 20, burst: 1 });
    const started = performance.now();
    await bucket.take();
    await bucket.take();
    await bucket.take();
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });
});
