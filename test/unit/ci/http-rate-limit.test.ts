import { describe, expect, it } from 'vitest';
import {
  failure,
  RateLimitedError,
  rateLimitWaitMs,
  send,
  type HttpDeps,
} from '../../../src/ci/http.js';

const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const reply = (status: number, headers: Record<string, string> = {}, text = '') => ({
  status,
  headers: new Headers(headers),
  text,
});

describe('rateLimitWaitMs', () => {
  it.each([
    [
      'primary: remaining 0 until reset',
      reply(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 42) }),
      42_000,
    ],
    [
      'primary as 429',
      reply(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 5) }),
      5_000,
    ],
    [
      'secondary: retry-after seconds',
      reply(403, { 'retry-after': '30' }, 'You have exceeded a secondary rate limit'),
      30_000,
    ],
    [
      'retry-after as an HTTP date',
      reply(429, { 'retry-after': new Date(NOW + 9_000).toUTCString() }),
      9_000,
    ],
    [
      'secondary without headers: at least a minute',
      reply(403, {}, '{"message":"You have exceeded a secondary rate limit."}'),
      60_000,
    ],
    ['429 without headers', reply(429), 60_000],
    [
      'a reset already past',
      reply(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 - 5) }),
      0,
    ],
  ])('%s', (_, r, ms) => {
    expect(rateLimitWaitMs(r, NOW)).toBe(ms);
  });

  it.each([
    [
      'a permission 403',
      reply(
        403,
        { 'x-ratelimit-remaining': '4999' },
        '{"message":"Resource not accessible by integration"}',
      ),
    ],
    ['a 404', reply(404, { 'retry-after': '5' })],
    ['a 503', reply(503)],
  ])('is no rate limit: %s', (_, r) => {
    expect(rateLimitWaitMs(r, NOW)).toBeUndefined();
  });
});

describe('failure', () => {
  it('makes a rate-limited 403 retryable, not the permission hint', () => {
    const err = failure('github', reply(403, { 'retry-after': '60' }, 'secondary rate limit'), {
      403: 'the GitHub App lacks a permission',
    });
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryable).toBe(true);
    expect(err.upstreamStatus).toBe(403);
    expect(err.message).toContain('rate limited, retry in 60 s');
    expect(err.message).not.toContain('lacks');
  });

  it('keeps a plain 403 final, with its hint', () => {
    const err = failure('github', reply(403, {}, 'Resource not accessible'), {
      403: 'lacks Deployments: write',
    });
    expect(err).not.toBeInstanceOf(RateLimitedError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('lacks Deployments: write');
  });
});

/** A scripted server and a clock that only moves when `sleep` is called. */
function harness(answers: { status: number; headers?: Record<string, string>; text?: string }[]) {
  let clock = NOW;
  const slept: number[] = [];
  const requests: string[] = [];
  const deps: HttpDeps = {
    timeoutMs: 1000,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    fetchImpl: (async (url: string) => {
      requests.push(url);
      const a = answers.shift() ?? { status: 204 };
      return new Response(a.status === 204 ? null : (a.text ?? ''), {
        status: a.status,
        headers: a.headers ?? {},
      });
    }) as typeof fetch,
  };
  return { deps, slept, requests, advance: (ms: number) => (clock += ms) };
}

describe('send under a rate limit', () => {
  it('waits out a short limit and sends again', async () => {
    const h = harness([{ status: 429, headers: { 'retry-after': '2' } }, { status: 204 }]);
    const r = await send(h.deps, 'github', 'https://short.example/x', {
      method: 'POST',
      headers: {},
    });
    expect(r.status).toBe(204);
    expect(h.slept).toEqual([2000]);
    expect(h.requests).toHaveLength(2);
  });

  it('hands a long limit back, then sends nothing to that origin until the reset', async () => {
    const reset = String(NOW / 1000 + 3600);
    const h = harness([
      { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } },
    ]);
    const url = 'https://long.example/repos/a/b/actions/runs/1/deployment_protection_rule';
    const first = await send(h.deps, 'github', url, { method: 'POST', headers: {} });
    expect(first.status).toBe(403);
    expect(failure('github', first).retryable).toBe(true);
    expect(h.slept).toEqual([]);

    const held = await send(h.deps, 'github', url, { method: 'POST', headers: {} }).catch(
      (e: unknown) => e,
    );
    expect(held).toBeInstanceOf(RateLimitedError);
    expect((held as RateLimitedError).retryAfterMs).toBe(3_600_000);
    expect((held as RateLimitedError).message).toContain('no request sent');
    expect(h.requests).toHaveLength(1);

    h.advance(3_600_000);
    const after = await send(h.deps, 'github', url, { method: 'POST', headers: {} });
    expect(after.status).toBe(204);
    expect(h.requests).toHaveLength(2);
  });

  it('gives up after three rate-limited answers in a row and reports it retryable', async () => {
    const limited = { status: 429, headers: { 'retry-after': '1' } };
    const h = harness([limited, limited, limited, { status: 204 }]);
    const r = await send(h.deps, 'jenkins', 'https://three.example/x', {
      method: 'POST',
      headers: {},
    });
    expect(r.status).toBe(429);
    expect(h.requests).toHaveLength(3);
    expect(h.slept).toEqual([1000, 1000]);
    expect(failure('jenkins', r).retryable).toBe(true);
  });

  it('leaves other answers alone', async () => {
    const h = harness([{ status: 404, text: 'nope' }]);
    const r = await send(h.deps, 'github', 'https://plain.example/x', {
      method: 'GET',
      headers: {},
    });
    expect(r.status).toBe(404);
    expect(h.slept).toEqual([]);
  });
});
