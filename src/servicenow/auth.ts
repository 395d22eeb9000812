/**
 * Credentials for one connection: OAuth 2 against `/oauth_token.do` (client_credentials or
 * password grant, refresh_token when the instance issued one) with a cached token, or basic auth.
 *
 * @module
 */
import type { ServiceNowAuth } from '../config/servicenow.js';
import { reportCall, type ConnectionContext } from './context.js';
import { ServiceNowError, fixFor, type AuthMode } from './errors.js';
import { NetworkError, parseErrorBody, sendHttp } from './http.js';
import { isRetryableStatus, retryDelay, serverDelayHint, sleep, backoffDelay } from './retry.js';

export interface Authenticator {
  readonly mode: AuthMode;
  /** The `Authorization` header value to send now. */
  authorize(signal?: AbortSignal): Promise<string>;
  /**
   * The instance answered 401 to `header`. Returns true when a different credential can be
   * tried (a new OAuth token), false when retrying cannot help (basic auth).
   */
  invalidate(header: string): boolean;
  /** Token requests sent so far (for tests and the doctor). */
  readonly tokenRequests: number;
}

interface Token {
  accessToken: string;
  refreshToken: string | undefined;
  expiresAt: number;
  /** When to stop using it: ahead of expiry, so a request never carries a dying token. */
  renewAt: number;
}

const TOKEN_ROUTE = '/oauth_token.do';
/** ServiceNow's default access token lifespan is 1800 s; used when `expires_in` is missing. */
const DEFAULT_TTL_S = 1799;

export function authModeOf(auth: ServiceNowAuth): AuthMode {
  return auth.type === 'basic' ? 'basic' : `oauth:${auth.grant}`;
}

/**
 * Create the authenticator for a connection.
 * @throws ServiceNowError (kind `auth`) from `authorize()` when the token endpoint refuses.
 */
export function createAuthenticator(
  auth: ServiceNowAuth,
  ctx: ConnectionContext,
  { refreshSkewMs }: { refreshSkewMs: number },
): Authenticator {
  const mode = authModeOf(auth);
  if (auth.type === 'basic') {
    const header = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return {
      mode,
      authorize: () => Promise.resolve(header),
      invalidate: () => false,
      tokenRequests: 0,
    };
  }

  // Narrowed once here: closures below do not see the narrowing of `auth`.
  const oauth = auth;
  let token: Token | undefined;
  let refreshToken: string | undefined;
  // Single flight: every caller that finds no usable token awaits this one request.
  let inflight: Promise<Token> | undefined;
  let requests = 0;

  const primaryGrant = (): Record<string, string> =>
    oauth.grant === 'password'
      ? {
          grant_type: 'password',
          client_id: oauth.clientId,
          client_secret: oauth.clientSecret,
          username: oauth.username ?? '',
          password: oauth.password ?? '',
        }
      : {
          grant_type: 'client_credentials',
          client_id: oauth.clientId,
          client_secret: oauth.clientSecret,
        };

  async function obtain(signal?: AbortSignal): Promise<Token> {
    if (refreshToken) {
      try {
        return await requestToken(
          {
            grant_type: 'refresh_token',
            client_id: oauth.clientId,
            client_secret: oauth.clientSecret,
            refresh_token: refreshToken,
          },
          signal,
        );
      } catch (err) {
        // An expired or revoked refresh token is normal (100-day default); the primary grant still works.
        if (!(err instanceof ServiceNowError) || err.kind !== 'auth') throw err;
        ctx.log.info(
          { connection: ctx.name },
          'servicenow refresh token refused; using the primary grant',
        );
        refreshToken = undefined;
      }
    }
    return requestToken(primaryGrant(), signal);
  }

  async function requestToken(form: Record<string, string>, signal?: AbortSignal): Promise<Token> {
    const endpoint = `POST ${TOKEN_ROUTE}`;
    for (let attempt = 0; ; attempt++) {
      requests++;
      const started = performance.now();
      let res;
      try {
        res = await sendHttp(ctx.fetchImpl, {
          method: 'POST',
          url: `${ctx.baseUrl}${TOKEN_ROUTE}`,
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json',
          },
          body: new URLSearchParams(form).toString(),
          timeoutMs: ctx.timeoutMs,
          signal,
        });
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        reportCall(ctx, {
          method: 'POST',
          route: TOKEN_ROUTE,
          status: 0,
          durationMs: performance.now() - started,
          error: err.phase,
        });
        // Asking for a token twice is harmless, so every network failure may be retried.
        if (attempt < ctx.policy.maxRetries) {
          await sleep(backoffDelay(attempt, ctx.policy, ctx.random), signal);
          continue;
        }
        throw new ServiceNowError({
          kind: 'unavailable',
          instance: ctx.label,
          endpoint,
          reason: err.message,
          fix: fixFor({ kind: 'unavailable', path: TOKEN_ROUTE, auth: mode }),
          cause: err,
        });
      }
      reportCall(ctx, {
        method: 'POST',
        route: TOKEN_ROUTE,
        status: res.status,
        durationMs: performance.now() - started,
      });
      const body = (res.json ?? {}) as Record<string, unknown>;
      if (res.status === 200 && typeof body.access_token === 'string') {
        const ttlMs =
          (typeof body.expires_in === 'number'
            ? body.expires_in
            : Number(body.expires_in) || DEFAULT_TTL_S) * 1000;
        const now = ctx.now();
        if (typeof body.refresh_token === 'string' && body.refresh_token)
          refreshToken = body.refresh_token;
        return {
          accessToken: body.access_token,
          refreshToken,
          expiresAt: now + ttlMs,
          renewAt: now + ttlMs - Math.min(refreshSkewMs, ttlMs * 0.1),
        };
      }
      const hint = serverDelayHint(res.status, res.headers, ctx.now());
      if (isRetryableStatus(res.status) && attempt < ctx.policy.maxRetries) {
        const delay = retryDelay(attempt, ctx.policy, hint, ctx.random);
        if (delay !== undefined) {
          await sleep(delay, signal);
          continue;
        }
      }
      const { message, detail } = parseErrorBody(res.json);
      // The token endpoint answers 400/401 for a wrong secret, unknown client or disabled grant.
      const kind =
        res.status === 200 || (res.status >= 400 && res.status < 429)
          ? 'auth'
          : res.status === 429
            ? 'rate_limited'
            : 'unavailable';
      throw new ServiceNowError({
        kind,
        instance: ctx.label,
        endpoint,
        status: res.status,
        snMessage: message,
        snDetail: detail,
        reason: res.status === 200 ? 'no access_token in the answer' : undefined,
        retryAfterMs: hint,
        fix: fixFor({ kind, path: TOKEN_ROUTE, auth: mode }),
      });
    }
  }

  return {
    mode,
    get tokenRequests() {
      return requests;
    },
    async authorize() {
      if (token && ctx.now() < token.renewAt) return `Bearer ${token.accessToken}`;
      // No caller's signal: one caller giving up must not fail the others sharing this request.
      inflight ??= obtain()
        .then((t) => {
          token = t;
          return t;
        })
        .finally(() => {
          inflight = undefined;
        });
      const t = await inflight;
      return `Bearer ${t.accessToken}`;
    },
    invalidate(header) {
      // Only drop the token the 401 was for: N concurrent 401s on one token cause one renewal.
      if (token && header === `Bearer ${token.accessToken}`) token = undefined;
      return true;
    },
  };
}
