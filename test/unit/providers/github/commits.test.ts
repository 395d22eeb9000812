import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInstallationTokens } from '../../../../src/providers/github/app.js';
import {
  CommitResponse,
  commitDetails,
  createGithubCommits,
} from '../../../../src/providers/github/commits.js';
import type { CommitLookup } from '../../../../src/ci/commits.js';
import { UpstreamError } from '../../../../src/errors.js';
import { startCiEmulator, type CiEmulator } from '../../../../src/sandbox/ci/index.js';

const SHA = '7638417db6d59f3c431d3e1f261cc637155684cd';
const MESSAGE = 'Add idempotent refunds (#412)\n\nChange: CHG0031337';

let ci: CiEmulator;
let commits: CommitLookup;

beforeAll(async () => {
  ci = await startCiEmulator();
});
afterAll(async () => ci?.close());
beforeEach(() => {
  ci.reset();
  const app = {
    appId: ci.credentials.githubAppId,
    privateKey: ci.credentials.githubAppPrivateKey!,
    apiUrl: ci.url,
  };
  const http = { fetchImpl: fetch, timeoutMs: 5000 };
  const tokens = createInstallationTokens(app, http);
  commits = createGithubCommits(app, { ...http, tokens, appJwt: () => tokens.appJwt() });
});

const calls = (path: string) => ci.received().filter((c) => c.path.includes(path));

describe('GitHub commit messages', () => {
  it('reads a commit message once per sha with the installation token of the event', async () => {
    ci.github.commit('acme', 'payments', SHA, MESSAGE, '51234567');
    const ref = {
      provider: 'github',
      project: 'acme/payments',
      sha: SHA,
      installationId: '51234567',
    };
    expect((await commits.commitOf(ref))?.message).toBe(MESSAGE);
    expect((await commits.commitOf({ ...ref, sha: SHA.toUpperCase() }))?.message).toBe(MESSAGE);
    const reads = calls(`/repos/acme/payments/commits/`);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ method: 'GET', status: 200, effect: 'read' });
    expect(reads[0]!.headers.authorization).toMatch(/^Bearer ghs_/);
    expect(calls('/app/installations/51234567/access_tokens')).toHaveLength(1);
    expect(ci.received().filter((c) => c.path.endsWith('/installation'))).toHaveLength(0);
  });

  it("finds the repository's installation with the App JWT when the event names none", async () => {
    ci.github.commit('acme', 'ledger', SHA, MESSAGE, '777');
    const found = await commits.commitOf({ provider: 'github', project: 'acme/ledger', sha: SHA });
    expect(found?.message).toBe(MESSAGE);
    const lookup = calls('/repos/acme/ledger/installation');
    expect(lookup).toHaveLength(1);
    expect(lookup[0]!.headers.authorization).toMatch(/^Bearer eyJ/);
    expect(calls('/app/installations/777/access_tokens')).toHaveLength(1);
  });

  it('answers undefined for an unknown commit and asks nothing of other providers', async () => {
    ci.github.commit('acme', 'payments', SHA, MESSAGE, '51234567');
    const unknown = 'a'.repeat(40);
    expect(
      await commits.commitOf({
        provider: 'github',
        project: 'acme/payments',
        sha: unknown,
        installationId: '51234567',
      }),
    ).toBeUndefined();
    expect(calls(`/commits/${unknown}`)[0]).toMatchObject({ status: 422 });
    expect(
      await commits.commitOf({ provider: 'gitlab', project: 'acme/payments', sha: SHA }),
    ).toBeUndefined();
    expect(
      await commits.commitOf({ provider: 'github', project: 'not a repo', sha: SHA }),
    ).toBeUndefined();
    expect(calls('/commits/').length).toBe(1);
  });

  it('goes on without the message when the App lacks Contents: Read, and says why', async () => {
    const warnings: string[] = [];
    const app = {
      appId: ci.credentials.githubAppId,
      privateKey: ci.credentials.githubAppPrivateKey!,
      apiUrl: ci.url,
    };
    const http = { fetchImpl: fetch, timeoutMs: 5000 };
    const tokens = createInstallationTokens(app, http);
    const logged = createGithubCommits(app, {
      ...http,
      tokens,
      appJwt: () => tokens.appJwt(),
      log: { debug() {}, info() {}, warn: (_o, msg) => void warnings.push(msg) },
    });
    ci.github.commit('acme', 'payments', SHA, MESSAGE, '51234567');
    const ref = {
      provider: 'github',
      project: 'acme/payments',
      sha: SHA,
      installationId: '51234567',
    };
    await logged.commitOf({ ...ref, sha: 'b'.repeat(40) }); // warm the token
    ci.failNext('github', 403);
    expect(await logged.commitOf(ref)).toBeUndefined();
    expect(warnings.join('\n')).toContain('Contents: Read');
  });

  it('fails retryably on a server error, and asks again after it', async () => {
    ci.github.commit('acme', 'payments', SHA, MESSAGE, '51234567');
    const ref = {
      provider: 'github',
      project: 'acme/payments',
      sha: SHA,
      installationId: '51234567',
    };
    await commits.commitOf({ ...ref, sha: 'b'.repeat(40) }); // warm the token
    ci.failNext('github', 502);
    const err = await commits.commitOf(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).retryable).toBe(true);
    expect((await commits.commitOf(ref))?.message).toBe(MESSAGE);
  });
});

describe('GitHub commit authors', () => {
  const ref = {
    provider: 'github',
    project: 'acme/payments',
    sha: SHA,
    installationId: '51234567',
  };

  it('names the git author and committer with the GitHub accounts matched to them', async () => {
    ci.github.commit('acme', 'payments', SHA, MESSAGE, '51234567', {
      author: { name: 'Jane Doe', email: 'jane@acme.example', login: 'jdoe' },
      committer: { name: 'GitHub', email: 'noreply@github.com', login: 'web-flow' },
    });
    expect(await commits.commitOf(ref)).toEqual({
      message: MESSAGE,
      author: { login: 'jdoe', name: 'Jane Doe', email: 'jane@acme.example' },
      committer: { login: 'web-flow', name: 'GitHub', email: 'noreply@github.com' },
    });
    // Message and people come from the same read.
    await commits.commitOf(ref);
    expect(calls('/repos/acme/payments/commits/')).toHaveLength(1);
  });

  it('keeps the git identity when no GitHub account matches its e-mail (author null)', async () => {
    ci.github.commit('acme', 'payments', SHA, MESSAGE, '51234567', {
      author: { name: 'Build Bot', email: 'bot@ci.acme.example', login: null },
    });
    const found = await commits.commitOf(ref);
    expect(found?.author).toEqual({ name: 'Build Bot', email: 'bot@ci.acme.example' });
  });
});

describe('an answer that is not a GitHub commit', () => {
  it('is an upstream error naming it, not a crash or a silent miss', async () => {
    const app = {
      appId: ci.credentials.githubAppId,
      privateKey: ci.credentials.githubAppPrivateKey!,
      apiUrl: ci.url,
    };
    const tokens = createInstallationTokens(app, { fetchImpl: fetch, timeoutMs: 5000 });
    // A proxy in front of GitHub answering 200 with a page instead of JSON.
    const proxy: typeof fetch = async () => new Response('<html>login</html>', { status: 200 });
    const odd = createGithubCommits(app, {
      fetchImpl: proxy,
      timeoutMs: 5000,
      tokens,
      appJwt: () => tokens.appJwt(),
    });
    const err = await odd
      .commitOf({ provider: 'github', project: 'acme/payments', sha: SHA, installationId: '1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).message).toContain('not a GitHub commit');
  });
});

describe('commitDetails', () => {
  it('reads the empty-object account GitHub may send as no login', () => {
    const body = CommitResponse.parse({
      commit: { message: 'm', author: { name: 'A', email: 'a@x' }, committer: null },
      author: {},
      committer: null,
    });
    expect(commitDetails(body)).toEqual({ message: 'm', author: { name: 'A', email: 'a@x' } });
  });
});
