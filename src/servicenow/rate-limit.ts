/**
 * Client-side token bucket, one per connection, so a burst of work does not trip the
 * instance's own (hourly, per user) rate-limit rules and turn into 429s.
 *
 * @module
 */
import { sleep } from './retry.js';

export interface TokenBucketOptions {
  requestsPerSecond: number;
  burst: number;
  now?: () => number;
}

/**
 * Reservation-style bucket: each caller takes a token immediately (the balance may go negative)
 * and waits for the debt to be refilled. Waiters are served in arrival order without a queue.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor({ requestsPerSecond, burst, now = () => performance.now() }: TokenBucketOptions) {
    if (!(requestsPerSecond > 0) || !(burst >= 1)) {
      throw new RangeError(
        '[changegate/servicenow] rate limit needs requestsPerSecond > 0 and burst >= 1',
      );
    }
    this.rate = requestsPerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.now = now;
    this.last = now();
  }

  /** Take one token; returns how many ms the caller must wait before sending. */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.rate);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.rate);
  }

  /** Wait for a token. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait, signal);
  }
}
