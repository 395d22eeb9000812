import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenBuckets } from '../../src/http/rate-limit.js';
import { signedRequest } from '../fixtures/standard-webhook-request.js';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';
import { SECRETS } from '../support/stack.js';

describe('the per-source token bucket', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', () => {
    let now = 0;
    const buckets = createTokenBuckets({ perSourcePerSecond: 2, burst: 3, clock: () => now });
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([0, 0, 0, 1]);
    expect(buckets.take('b')).toBe(0); // another source has its own bucket
    now += 499;
    expect(buckets.take('a')).toBe(1);
    now += 1;
    expect(buckets.take('a')).toBe(0);
    now += 10_000;
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([0, 0, 0, 1]); // capped at burst
  });

  it('keeps at most maxSources buckets, dropping idle ones first', () => {
    let now = 0;
    const buckets = createTokenBuckets({
      perSourcePerSecond: 1,
      burst: 1,
      maxSources: 3,
      clock: () => now,
    });
    for (const s of ['a', 'b', 'c']) buckets.take(s);
    now += 5000;
    buckets.take('d');
    expect(buckets.size()).toBeLessThanOrEqual(3);
  });
});

describe('rate limiting on the webhook routes', () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startTestReceiver({
      // Configured names get a bucket each; any other name shares `generic/*`.
      sources: {
        generic: { noisy: { secrets: [SECRETS.whsec] }, quiet: { secrets: [SECRETS.whsec] } },
      },
      config: { ingest: { rateLimit: { perSourcePerSecond: 5, burst: 10 } } },
    });
  });
  afterAll(() => receiver?.close());

  let n = 0;
  async function send(source: string) {
    const body = {
      type: 'deployment.requested',
      timestamp: new Date().toISOString(),
      data: { project: `acme/${source}`, environment: 'dev', deploymentId: `d-${++n}` },
    };
    const request = signedRequest(body, { secret: SECRETS.whsec, id: `msg_${n}`, at: new Date() });
    const res = await fetch(`${receiver.url}/hooks/generic/${source}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  }

  it('answers 429 with Retry-After to a flooding sender while another source is served', async () => {
    const flood = Promise.all(Array.from({ length: 60 }, () => send('noisy')));
    const quiet = Promise.all(Array.from({ length: 5 }, () => send('quiet')));
    const [noisy, calm] = await Promise.all([flood, quiet]);
    const limited = noisy.filter((r) => r.status === 429);
    const accepted = noisy.filter((r) => r.status === 202);
    console.log(
      `rate limit (5/s, burst 10): flooding source 60 sent, ${accepted.length} accepted, ${limited.length} refused 429; quiet source ${calm.filter((r) => r.status === 202).length}/5 accepted`,
    );
    expect(calm.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(accepted.length).toBeGreaterThanOrEqual(10);
    expect(accepted.length).toBeLessThan(20);
    expect(limited.length).toBe(60 - accepted.length);
    expect(limited.every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    const counted = await receiver.runtime.metrics.registry.getSingleMetricAsString(
      'changegate_deliveries_total',
    );
    expect(counted).toContain(`outcome="rate_limited"`);
  });
});
