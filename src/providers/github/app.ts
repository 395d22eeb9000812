import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { failure, joinUrl, send, type HttpDeps } from '../../ci/http.js';

/**
 * GitHub App authentication: an App JWT (RS256) buys an installation token, which is cached
 * until shortly before it expires.
 * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 *
 * @module
 */

/** GitHub refuses an App JWT whose exp is more than 10 minutes ahead. */
const JWT_LIFETIME_S = 9 * 60;
/** iat in the past absorbs clock drift between us and GitHub (GitHub's own advice: 60 s). */
const JWT_BACKDATE_S = 60;
/** Installation tokens live 1 h; renew 5 min early so no call carries an expiring token. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

export interface GithubAppOptions {
  appId: string;
  /** PEM, PKCS#1 (what GitHub issues) or PKCS#8. */
  privateKey: string;
  apiUrl: string;
  now?: () => number;
}

/**
 * Make an App JWT: `iss` = App ID, `iat` = now − 60 s, `exp` = now + 9 min.
 * @example await createAppJwt('123', createPrivateKey(pem), Date.now())
 */
export async function createAppJwt(appId: string, key: KeyObject, nowMs: number): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(appId)
    .setIssuedAt(now - JWT_BACKDATE_S)
    .setExpirationTime(now + JWT_LIFETIME_S)
    .sign(key);
}

export interface InstallationTokens {
  get(installationId: string): Promise<string>;
  /** Drop a token GitHub refused (401), so the next `get` fetches a fresh one. */
  invalidate(installationId: string): void;
  /** A fresh App JWT, for the endpoints that take the App itself (`/app/…`, repo installation). */
  appJwt(): Promise<string>;
}

const GITHUB_HEADERS = {
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
  'user-agent': 'changegate',
};

/**
 * Installation-token cache with single flight: concurrent callers share one exchange.
 * @throws UpstreamError when GitHub refuses the JWT or the installation.
 */
export function createInstallationTokens(
  opts: GithubAppOptions,
  deps: HttpDeps,
): InstallationTokens {
  // createPrivateKey reads PKCS#1 and PKCS#8; jose's importPKCS8 would reject GitHub's PKCS#1 keys.
  let key: KeyObject;
  try {
    key = createPrivateKey(opts.privateKey);
  } catch (err) {
    // Fail at start-up, not at the first approval hours later.
    throw new Error(
      '[changegate/ci/github] ci.github.privateKey is not a readable PEM private key',
      {
        cause: err,
      },
    );
  }
  const now = opts.now ?? Date.now;
  const cache = new Map<string, Promise<{ token: string; expiresAt: number }>>();

  async function exchange(installationId: string): Promise<{ token: string; expiresAt: number }> {
    const jwt = await createAppJwt(opts.appId, key, now());
    const url = joinUrl(
      opts.apiUrl,
      `app/installations/${encodeURIComponent(installationId)}/access_tokens`,
    );
    const reply = await send(deps, 'github', url, {
      method: 'POST',
      headers: { ...GITHUB_HEADERS, authorization: `Bearer ${jwt}` },
    });
    if (reply.status !== 201 && reply.status !== 200) {
      throw failure('github', reply, {
        401: 'App JWT refused: check ci.github.appId, ci.github.privateKey and this host clock',
        403: 'installation token refused: the App installation is suspended or lacks access',
        404: `installation ${installationId} not found: is the App installed on this repository?`,
      });
    }
    const body = JSON.parse(reply.text) as { token?: string; expires_at?: string };
    if (!body.token) throw failure('github', { ...reply, text: 'no token in response' });
    const expiresAt = body.expires_at ? Date.parse(body.expires_at) : now() + 60 * 60 * 1000;
    return { token: body.token, expiresAt };
  }

  return {
    async get(installationId) {
      const cached = cache.get(installationId);
      if (cached) {
        const hit = await cached.catch(() => undefined);
        if (hit && hit.expiresAt - now() > RENEW_BEFORE_MS) return hit.token;
      }
      // Another caller may have started the renewal while we awaited: share it.
      const current = cache.get(installationId);
      if (current && current !== cached) return (await current).token;
      const pending = exchange(installationId);
      cache.set(installationId, pending);
      // A failed exchange must not stay cached: the next call tries again.
      void pending.catch(() => {
        if (cache.get(installationId) === pending) cache.delete(installationId);
      });
      return (await pending).token;
    },
    invalidate(installationId) {
      cache.delete(installationId);
    },
    appJwt: () => createAppJwt(opts.appId, key, now()),
  };
}

export { GITHUB_HEADERS };
