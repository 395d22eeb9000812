import { createPrivateKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAppJwt, createInstallationTokens } from '../../../../src/providers/github/app.js';
import {
  generateGithubAppKey,
  type GithubAppKey,
} from '../../../../src/providers/github/emulator-keys.js';

let key: GithubAppKey;
beforeAll(async () => {
  key = await generateGithubAppKey();
});

describe('createAppJwt', () => {
  it('signs RS256 with iss = App ID, iat 60 s in the past and exp at most 10 min ahead', async () => {
    const now = Date.UTC(2026, 10, 25, 9, 0, 0);
    const jwt = await createAppJwt('123', createPrivateKey(key.privateKeyPem), now);
    const claims = decodeJwt(jwt);
    expect(decodeProtectedHeader(jwt).alg).toBe('RS256');
    expect(claims.iss).toBe('123');
    expect(claims.iat).toBe(now / 1000 - 60);
    expect(claims.exp! - now / 1000).toBeLessThanOrEqual(600);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(600);
    await expect(
      jwtVerify(jwt, await importSPKI(key.publicKeyPem, 'RS256'), { currentDate: new Date(now) }),
    ).resolves.toBeTruthy();
  });

  it('accepts a PKCS#1 key, the format GitHub issues', async () => {
    const pkcs1 = createPrivateKey(key.privateKeyPem)
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    const tokens = createInstallationTokens(
      { appId: '1', privateKey: pkcs1, apiUrl: 'https://api.github.test' },
      { fetchImpl: tokenServer().fetchImpl, timeoutMs: 1000 },
    );
    await expect(tokens.get('9')).resolves.toBe('ghs_1');
  });
});

/** A fetch that plays the token endpoint: each exchange returns ghs_<n>. */
function tokenServer(expiresInMs = 3600_000, now = () => Date.now()) {
  let n = 0;
  const seen: string[] = [];
  const fetchImpl = (async (url: string | URL | Request) => {
    seen.push(String(url));
    n += 1;
    await new Promise((r) => setTimeout(r, 5));
    return new Response(
      JSON.stringify({
        token: `ghs_${n}`,
        expires_at: new Date(now() + expiresInMs).toISOString(),
      }),
      { status: 201 },
    );
  }) as typeof fetch;
  return { fetchImpl, seen, count: () => n };
}

describe('createInstallationTokens', () => {
  it('fails at construction when the private key is not a PEM key', () => {
    expect(() =>
      createInstallationTokens(
        { appId: '1', privateKey: 'not a key', apiUrl: 'https://api.github.test' },
        { fetchImpl: fetch, timeoutMs: 1000 },
      ),
    ).toThrow('[changegate/ci/github] ci.github.privateKey is not a readable PEM private key');
  });

  it('exchanges once for concurrent callers and reuses the cached token', async () => {
    const server = tokenServer();
    const tokens = createInstallationTokens(
      { appId: '1', privateKey: key.privateKeyPem, apiUrl: 'https://api.github.test/' },
      { fetchImpl: server.fetchImpl, timeoutMs: 1000 },
    );
    const got = await Promise.all([tokens.get('7'), tokens.get('7'), tokens.get('7')]);
    expect(got).toEqual(['ghs_1', 'ghs_1', 'ghs_1']);
    expect(await tokens.get('7')).toBe('ghs_1');
    expect(server.count()).toBe(1);
    expect(server.seen[0]).toBe('https://api.github.test/app/installations/7/access_tokens');
  });

  it('renews a token that is within five minutes of expiry', async () => {
    let clock = Date.now();
    const server = tokenServer(10 * 60_000, () => clock);
    const tokens = createInstallationTokens(
      {
        appId: '1',
        privateKey: key.privateKeyPem,
        apiUrl: 'https://api.github.test',
        now: () => clock,
      },
      { fetchImpl: server.fetchImpl, timeoutMs: 1000 },
    );
    expect(await tokens.get('7')).toBe('ghs_1');
    clock += 6 * 60_000;
    expect(await tokens.get('7')).toBe('ghs_2');
  });

  it('names the fix when GitHub refuses the App JWT', async () => {
    const tokens = createInstallationTokens(
      { appId: '1', privateKey: key.privateKeyPem, apiUrl: 'https://api.github.test' },
      {
        fetchImpl: (async () => new Response('{"message":"bad"}', { status: 401 })) as typeof fetch,
        timeoutMs: 1000,
      },
    );
    await expect(tokens.get('7')).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/appId.*privateKey/),
    });
  });
});
