import { describe, expect, it } from 'vitest';
import { CallbackRefusedError } from '../../../src/ci/errors.js';
import { failure, isRetryableStatus, send } from '../../../src/ci/http.js';
import { UpstreamError } from '../../../src/errors.js';

describe('failure', () => {
  it('marks 5xx, 429 and 408 retryable and other 4xx not', () => {
    for (const s of [500, 502, 503, 429, 408]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 409, 422]) expect(isRetryableStatus(s)).toBe(false);
  });

  it('puts the status, the hint and a short body excerpt in the message', () => {
    const err = failure(
      'github',
      { status: 403, text: '{"message":"Resource not accessible"}' },
      {
        403: 'the GitHub App lacks "Deployments: Read and write"',
      },
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.retryable).toBe(false);
    expect(err.upstreamStatus).toBe(403);
    expect(err.message).toBe(
      '[changegate/ci/github] HTTP 403: the GitHub App lacks "Deployments: Read and write" ({"message":"Resource not accessible"})',
    );
  });

  it('cuts long error bodies', () => {
    expect(failure('gitlab', { status: 500, text: 'x'.repeat(5000) }).message.length).toBeLessThan(
      400,
    );
  });

  it('says a redirect was not followed and where it pointed', () => {
    const err = failure('generic', {
      status: 302,
      text: '',
      headers: new Headers({ location: 'https://evil/' }),
    });
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/redirect to https:\/\/evil\/ not followed/);
  });
});

describe('send', () => {
  it('turns a network error into a retryable UpstreamError', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(
      send({ fetchImpl, timeoutMs: 100 }, 'gitlab', 'https://x/', { method: 'POST', headers: {} }),
    ).rejects.toMatchObject({
      retryable: true,
      message: '[changegate/ci/gitlab] request failed: fetch failed',
    });
  });

  it('never follows redirects', async () => {
    let init: RequestInit | undefined;
    const fetchImpl = (async (_u: string, i: RequestInit) => {
      init = i;
      return new Response(null, { status: 307, headers: { location: 'https://elsewhere/' } });
    }) as unknown as typeof fetch;
    const reply = await send({ fetchImpl, timeoutMs: 100 }, 'generic', 'https://x/', {
      method: 'POST',
      headers: {},
    });
    expect(init?.redirect).toBe('manual');
    expect(reply.status).toBe(307);
  });
});

describe('CallbackRefusedError', () => {
  it('is a non-retryable UpstreamError', () => {
    const err = new CallbackRefusedError('evil.com matches no ci.allowList entry');
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      '[changegate/ci] callback refused: evil.com matches no ci.allowList entry',
    );
  });
});
