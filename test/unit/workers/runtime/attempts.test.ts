import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BusUnavailableError,
  FencedError,
  PayloadError,
  UpstreamError,
} from '../../../../src/errors.js';
import { backoffMs, isRetryable, withAttempts } from '../../../../src/workers/runtime/index.js';

const log = pino({ level: 'silent' });
const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 250 };

function recorder() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('worker runtime attempts', () => {
  it('retries a retryable failure with growing, capped backoff, then succeeds', async () => {
    const { waits, sleep } = recorder();
    let calls = 0;
    const outcome = await withAttempts(
      async () => {
        if (++calls < 3) throw new UpstreamError('502 from ServiceNow', { retryable: true });
      },
      { policy, log, sleep },
    );
    expect(outcome).toEqual({ kind: 'done' });
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
  });

  it('calls a record poison after the attempts are spent, with the last error', async () => {
    const { sleep } = recorder();
    let calls = 0;
    const outcome = await withAttempts(
      async () => {
        calls++;
        throw new Error(`bug ${calls}`);
      },
      { policy, log, sleep },
    );
    expect(outcome).toMatchObject({ kind: 'poison', attempts: 3 });
    expect(outcome.kind === 'poison' && outcome.error.message).toBe('bug 3');
  });

  it('calls input that cannot validate poison at once', async () => {
    const { waits, sleep } = recorder();
    for (const error of [
      new PayloadError('schema_mismatch', 'number: expected string'),
      z.string().safeParse(1).error!,
      new UpstreamError('400 from ServiceNow', { retryable: false }),
    ]) {
      const outcome = await withAttempts(
        async () => {
          throw error;
        },
        { policy, log, sleep },
      );
      expect(outcome).toMatchObject({ kind: 'poison', attempts: 1 });
    }
    expect(waits).toEqual([]);
  });

  it('hands a bus outage and a lost partition back to the bus, spending no attempt', async () => {
    const { waits, sleep } = recorder();
    for (const error of [new BusUnavailableError('broker down'), new FencedError('moved')]) {
      await expect(
        withAttempts(
          async () => {
            throw error;
          },
          { policy, log, sleep },
        ),
      ).rejects.toBe(error);
    }
    expect(waits).toEqual([]);
  });

  it('names what is retryable in one rule', () => {
    expect(isRetryable(new Error('network blip'))).toBe(true);
    expect(isRetryable(new UpstreamError('429', { retryable: true }))).toBe(true);
    expect(isRetryable(new PayloadError('x', 'y'))).toBe(false);
  });

  it('draws the backoff from zero up to the doubled, capped ceiling (full jitter)', () => {
    expect(backoffMs(policy, 1, () => 0.999)).toBeCloseTo(99.9);
    expect(backoffMs(policy, 3, () => 0.999)).toBeCloseTo(249.75);
    expect(backoffMs(policy, 2, () => 0)).toBe(0);
  });
});
