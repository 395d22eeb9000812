import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';
import { SECRETS } from '../support/stack.js';

// Issue 15 hole 2: unsigned POSTs to random paths minted a metric series and a rate-limit bucket
// per path, so an anonymous sender could grow the receiver's memory and /metrics without bound.

let receiver: TestReceiver;
beforeAll(async () => {
  receiver = await startTestReceiver({
    sources: {
      generic: { argo: { secrets: [SECRETS.whsec] }, '*': { secrets: [SECRETS.whsec] } },
    },
    config: { ingest: { rateLimit: { perSourcePerSecond: 1, burst: 50 } } },
  });
});
afterAll(() => receiver?.close());

const metricsSize = async () => (await (await fetch(`${receiver.url}/metrics`)).text()).length;
const randomName = () => randomBytes(24).toString('hex');

async function post(path: string): Promise<number> {
  const res = await fetch(`${receiver.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  await res.arrayBuffer();
  return res.status;
}

describe('a flood of unsigned requests to random webhook paths', () => {
  it('keeps /metrics bounded: random names share the generic/* and unknown labels', async () => {
    await post('/hooks/generic/argo'); // the configured name keeps its own label
    const before = await metricsSize();
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) =>
        (i + j) % 2 === 0 ? `/hooks/generic/${randomName()}` : `/hooks/${randomName()}`,
      );
      statuses.push(...(await Promise.all(batch.map(post))));
    }
    const after = await metricsSize();
    console.log(
      `/metrics: ${before} bytes before, ${after} after 1,000 unsigned random-path POSTs`,
    );
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect(after - before).toBeLessThan(1024);
    const text = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(text).toContain('source="generic/argo"');
    expect(text).toContain('source="generic/*"');
    expect(text).not.toMatch(/source="generic\/[0-9a-f]{48}"/);
  });

  it('puts every unconfigured generic name in one rate-limit bucket', async () => {
    // burst 50: fresh random names must run out of the shared budget like one sender would.
    const statuses = await Promise.all(
      Array.from({ length: 120 }, () => post(`/hooks/generic/${randomName()}`)),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // The configured name has its own bucket and is not spent by the flood.
    expect(await post('/hooks/generic/argo')).not.toBe(429);
  });
});
