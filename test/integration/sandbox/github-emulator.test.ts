import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCiEmulator, type CiEmulator } from '../../../src/sandbox/ci/index.js';
import { judge, recordingFetch } from '../../support/github-openapi.js';

/**
 * The emulated GitHub answers the failure paths as GitHub does (sources cited in
 * src/providers/github/emulator.ts and emulator-rate-limit.ts), and every answer is one GitHub's
 * REST description allows for that operation.
 */

let ci: CiEmulator;
let token: string;
const recorder = recordingFetch();

beforeAll(async () => {
  ci = await startCiEmulator();
  const { createInstallationTokens } = await import('../../../src/providers/github/app.js');
  token = await createInstallationTokens(
    {
      appId: ci.credentials.githubAppId,
      privateKey: ci.credentials.githubAppPrivateKey!,
      apiUrl: ci.url,
    },
    { fetchImpl: fetch, timeoutMs: 5000 },
  ).get('51234567');
});
afterAll(async () => ci?.close());
beforeEach(() => {
  ci.github.clearRateLimit();
  recorder.exchanges.length = 0;
});

function review(run: number, body: unknown) {
  return recorder.impl(
    `${ci.url}/repos/acme/payments/actions/runs/${run}/deployment_protection_rule`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    },
  );
}

const admin = (path: string, body?: unknown, method = 'POST') =>
  fetch(`${ci.url}/_emulator${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function message(res: Response) {
  return ((await res.json()) as { message: string }).message;
}

describe('emulated GitHub: custom deployment protection rule reviews', () => {
  it('answers 422 for a gate already reviewed, and keeps the first decision', async () => {
    ci.github.pending('acme', 'payments', 7001, 'production');
    const first = await review(7001, {
      environment_name: 'production',
      state: 'approved',
      comment: 'ok',
    });
    expect(first.status).toBe(204);
    const again = await review(7001, {
      environment_name: 'production',
      state: 'rejected',
      comment: 'no',
    });
    expect(again.status).toBe(422);
    expect(await message(again)).toBe(
      'No pending custom deployment requests in workflow run `7001` to approve or reject',
    );
    expect(ci.github.state('acme', 'payments', 7001, 'production')).toBe('approved');
  });

  it('answers 422 for a review with neither state nor comment, and for an unknown state', async () => {
    ci.github.pending('acme', 'payments', 7002, 'production');
    for (const body of [
      { environment_name: 'production' },
      { environment_name: 'production', comment: '' },
      { environment_name: 'production', state: 'approve', comment: 'x' },
      { state: 'approved', comment: 'x' },
    ]) {
      const res = await review(7002, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(await message(res)).toMatch(/^Invalid request\./);
    }
    expect(ci.github.state('acme', 'payments', 7002, 'production')).toBe('pending');
  });

  it('answers 404 for a run it does not know', async () => {
    const res = await review(7999, {
      environment_name: 'production',
      state: 'approved',
      comment: 'x',
    });
    expect(res.status).toBe(404);
  });

  it('takes 10 status reports per deployment, refuses the 11th with 422, and still takes the decision', async () => {
    ci.github.pending('acme', 'payments', 7003, 'production');
    for (let i = 1; i <= 10; i++) {
      expect(
        (await review(7003, { environment_name: 'production', comment: `report ${i}` })).status,
      ).toBe(204);
    }
    const eleventh = await review(7003, { environment_name: 'production', comment: 'report 11' });
    expect(eleventh.status).toBe(422);
    const long = await review(7003, {
      environment_name: 'production',
      state: 'approved',
      comment: 'x'.repeat(1025),
    });
    expect(long.status).toBe(422);
    const decided = await review(7003, {
      environment_name: 'production',
      state: 'approved',
      comment: 'CHG approved',
    });
    expect(decided.status).toBe(204);
    expect(ci.github.state('acme', 'payments', 7003, 'production')).toBe('approved');
  });

  it('gives only answers GitHub documents for the operation', () => {
    const problems = recorder.exchanges.flatMap((x) => judge(x, ci.url).problems);
    expect(problems).toEqual([]);
  });
});

describe('emulated GitHub: rate limits, switched on through the admin API', () => {
  it('primary: 403 with x-ratelimit-remaining 0 and x-ratelimit-reset, then serves again', async () => {
    ci.github.pending('acme', 'payments', 7101, 'production');
    expect(
      (
        await admin('/github/rate-limit', {
          kind: 'primary',
          status: 403,
          times: 2,
          resetInSeconds: 30,
        })
      ).status,
    ).toBe(200);
    const before = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 2; i++) {
      const res = await review(7101, {
        environment_name: 'production',
        state: 'approved',
        comment: 'x',
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(res.headers.get('x-ratelimit-limit')).toBe('5000');
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      expect(reset - before).toBeGreaterThanOrEqual(29);
      expect(reset - before).toBeLessThanOrEqual(32);
      expect(await message(res)).toMatch(/rate limit exceeded/i);
    }
    expect(ci.github.state('acme', 'payments', 7101, 'production')).toBe('pending');
    const served = await review(7101, {
      environment_name: 'production',
      state: 'approved',
      comment: 'x',
    });
    expect(served.status).toBe(204);
    expect(ci.received().filter((c) => c.effect === 'rate-limited').length).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('secondary: 429 with retry-after until switched off, on every GitHub route', async () => {
    await admin('/github/rate-limit', { kind: 'secondary', status: 429, retryAfterSeconds: 7 });
    const tokenRes = await fetch(`${ci.url}/app/installations/1/access_tokens`, { method: 'POST' });
    expect(tokenRes.status).toBe(429);
    expect(tokenRes.headers.get('retry-after')).toBe('7');
    expect(await message(tokenRes)).toMatch(/secondary rate limit/);
    const res = await review(7102, {
      environment_name: 'production',
      state: 'approved',
      comment: 'x',
    });
    expect(res.status).toBe(429);
    expect((await admin('/github/rate-limit', undefined, 'DELETE')).status).toBe(200);
    expect(
      (await review(7102, { environment_name: 'production', state: 'approved', comment: 'x' }))
        .status,
    ).toBe(404);
  });

  it('refuses a malformed switch with 400', async () => {
    expect((await admin('/github/rate-limit', { kind: 'tertiary' })).status).toBe(400);
    expect((await admin('/github/rate-limit', { kind: 'primary', status: 500 })).status).toBe(400);
  });
});
