import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { Octokit } from '@octokit/rest';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstallationTokens } from '../../../src/providers/github/app.js';
import { startCiEmulator, type CiEmulator } from '../../../src/sandbox/ci/index.js';

/**
 * GitHub's own SDK as the other party: `@octokit/auth-app` makes the App JWT and exchanges it for
 * an installation token the way GitHub's reference client does, and `@octokit/rest` calls the
 * review endpoint with it. The emulator must accept both and answer in the shape they parse; our
 * JWT and theirs must carry the same claims.
 */

let ci: CiEmulator;
beforeAll(async () => {
  ci = await startCiEmulator();
});
afterAll(async () => ci?.close());

const auth = (installationId?: number) =>
  createAppAuth({
    appId: ci.credentials.githubAppId,
    privateKey: ci.credentials.githubAppPrivateKey!,
    ...(installationId ? { installationId } : {}),
    request: request.defaults({ baseUrl: ci.url }),
  });

describe('@octokit/auth-app against the emulated GitHub', () => {
  it('gets an installation token the emulator issued, and reviews a gate with @octokit/rest', async () => {
    const installation = await auth(51234567)({ type: 'installation' });
    expect(installation).toMatchObject({ type: 'token', tokenType: 'installation' });
    expect(installation.token).toMatch(/^ghs_/);
    expect(Date.parse(installation.expiresAt) - Date.now()).toBeGreaterThan(50 * 60 * 1000);
    const exchange = ci
      .received()
      .find((c) => c.path === '/app/installations/51234567/access_tokens');
    expect(exchange).toMatchObject({ method: 'POST', status: 201, effect: 'token' });

    const octokit = new Octokit({ auth: installation.token, baseUrl: ci.url });
    ci.github.pending('acme', 'payments', 5001, 'production');
    const res = await octokit.rest.actions.reviewCustomGatesForRun({
      owner: 'acme',
      repo: 'payments',
      run_id: 5001,
      environment_name: 'production',
      state: 'approved',
      comment: 'CHG0030001 approved',
    });
    expect(res.status).toBe(204);
    expect(ci.github.state('acme', 'payments', 5001, 'production')).toBe('approved');

    // A second review of the same gate: GitHub's 422, which octokit raises as a RequestError.
    const again = await octokit.rest.actions
      .reviewCustomGatesForRun({
        owner: 'acme',
        repo: 'payments',
        run_id: 5001,
        environment_name: 'production',
        state: 'rejected',
        comment: 'too late',
      })
      .catch((e: { status: number; message: string }) => e);
    expect(again).toMatchObject({ status: 422 });
    expect((again as { message: string }).message).toMatch(/No pending custom deployment requests/);
    expect(ci.github.state('acme', 'payments', 5001, 'production')).toBe('approved');
  });

  it('makes the same App JWT claims as ours, and the emulator accepts both', async () => {
    const theirs = (await auth()({ type: 'app' })).token;
    const ours = await createInstallationTokens(
      {
        appId: ci.credentials.githubAppId,
        privateKey: ci.credentials.githubAppPrivateKey!,
        apiUrl: ci.url,
      },
      { fetchImpl: fetch, timeoutMs: 5000 },
    ).appJwt();
    const [a, b] = [decodeJwt(theirs), decodeJwt(ours)];
    expect(b.iss).toBe(a.iss);
    expect(String(a.iss)).toBe(ci.credentials.githubAppId);
    // Both backdate iat against clock drift (theirs 30 s, ours 60 s) and expire within GitHub's
    // 10-minute ceiling.
    const now = Date.now() / 1000;
    for (const c of [a, b]) {
      expect(now - c.iat!).toBeGreaterThanOrEqual(29);
      expect(now - c.iat!).toBeLessThanOrEqual(61);
      expect(c.exp! - now).toBeLessThanOrEqual(600);
    }

    for (const jwt of [theirs, ours]) {
      const res = await fetch(`${ci.url}/app/installations/9/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json' },
      });
      expect(res.status).toBe(201);
    }
  });

  it('reads a commit with @octokit/rest the way our client does', async () => {
    const sha = 'c0ffee0000000000000000000000000000000002';
    ci.github.commit('acme', 'payments', sha, 'Refunds\n\nChange: CHG0031337', '51234567');
    const { token } = await auth(51234567)({ type: 'installation' });
    const octokit = new Octokit({ auth: token, baseUrl: ci.url });
    const { data } = await octokit.rest.repos.getCommit({
      owner: 'acme',
      repo: 'payments',
      ref: sha,
    });
    expect(data.commit.message).toContain('Change: CHG0031337');
    const appOctokit = new Octokit({
      auth: (await auth()({ type: 'app' })).token,
      baseUrl: ci.url,
    });
    const { data: found } = await appOctokit.rest.apps.getRepoInstallation({
      owner: 'acme',
      repo: 'payments',
    });
    expect(found.id).toBe(51234567);
  });
});
