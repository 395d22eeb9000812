/**
 * The request pipeline every API call goes through: rate limit → credentials → HTTP → one
 * re-authentication on 401 → typed error → retry with backoff when that is safe.
 *
 * @module
 */
import type { Authenticator } from './auth.js';
import { reportCall, type ConnectionContext } from './context.js';
import { ServiceNowError, fixFor, kindForStatus } from './errors.js';
import { NetworkError, parseErrorBody, sendHttp, type HttpResponse } from './http.js';
import type { TokenBucket } from './rate-limit.js';
import { backoffDelay, isRetryableStatus, retryDelay, serverDelayHint, sleep } from './retry.js';

export type QueryValue = string | number | boolean | undefined;

export interface SnRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the instance URL, e.g. `/api/now/table/incident`. */
  path: string;
  /** Templated path for metrics, e.g. `/api/now/table/{table}`. */
  route: string;
  query?: Record<string, QueryValue> | undefined;
  /** JSON body. */
  json?: unknown;
  /** Raw body (attachments). */
  raw?: { data: string | Uint8Array; contentType: string } | undefined;
  table?: string | undefined;
  /**
   * Whether sending it twice has the effect of sending it once. Defaults to true for every
   * method but POST. A non-idempotent request is retried only when it provably did not reach
   * the instance (see `createWithCorrelation` for how creates recover from the other case).
   */
  idempotent?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export type SnResponse = HttpResponse;

export type Requester = (req: SnRequest) => Promise<SnResponse>;

/**
 * Build the requester of one connection.
 * @throws ServiceNowError from the returned function for any non-2xx answer or network failure
 *   left after the retries.
 */
export function createRequester(
  ctx: ConnectionContext,
  auth: Authenticator,
  bucket: TokenBucket,
): Requester {
  return async function request(req) {
    const idempotent = req.idempotent ?? req.method !== 'POST';
    const url = buildUrl(ctx.baseUrl, req.path, req.query);
    const endpoint = `${req.method} ${req.path}`;
    let retries = 0;
    let reauthenticated = false;
    for (;;) {
      await bucket.take(req.signal);
      const authorization = await auth.authorize(req.signal);
      const headers: Record<string, string> = {
        Accept: 'application/json',
        Authorization: authorization,
        'User-Agent': 'changegate',
      };
      let body: string | Uint8Array | undefined;
      if (req.raw) {
        headers['Content-Type'] = req.raw.contentType;
        body = req.raw.data;
      } else if (req.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(req.json);
      }
      const started = performance.now();
      let res: HttpResponse;
      try {
        res = await sendHttp(ctx.fetchImpl, {
          method: req.method,
          url,
          headers,
          body,
          timeoutMs: ctx.timeoutMs,
          signal: req.signal,
        });
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        const durationMs = performance.now() - started;
        reportCall(ctx, {
          method: req.method,
          route: req.route,
          status: 0,
          durationMs,
          error: err.phase,
        });
        const safe = idempotent || !err.sent;
        if (safe && retries < ctx.policy.maxRetries) {
          const delay = backoffDelay(retries++, ctx.policy, ctx.random);
          ctx.log.warn(
            {
              connection: ctx.name,
              endpoint: `${req.method} ${req.route}`,
              attempt: retries,
              of: ctx.policy.maxRetries,
              delayMs: delay,
              err: err.message,
            },
            'servicenow call failed; retrying',
          );
          await sleep(delay, req.signal);
          continue;
        }
        throw new ServiceNowError({
          kind: 'unavailable',
          instance: ctx.label,
          endpoint,
          table: req.table,
          reason: err.message,
          fix: fixFor({
            kind: 'unavailable',
            path: req.path,
            table: req.table,
            auth: ctx.authMode,
          }),
          maybeCommitted: !idempotent && err.sent,
          cause: err,
        });
      }
      const durationMs = performance.now() - started;
      reportCall(ctx, { method: req.method, route: req.route, status: res.status, durationMs });
      if (
        res.status < 300 &&
        (res.json !== undefined || res.text === '' || !req.path.startsWith('/api/'))
      ) {
        return res;
      }
      if (res.status < 400) {
        // A redirect or an HTML page where the REST API answers JSON: a hibernating developer
        // instance, an SSO proxy or a maintenance page — not data, and not our request's fault.
        throw new ServiceNowError({
          kind: 'unavailable',
          instance: ctx.label,
          endpoint,
          table: req.table,
          status: res.status,
          reason: `answered ${res.status} with ${res.status >= 300 ? `a redirect to ${res.headers.get('location') ?? '(no location)'}` : 'a page that is not JSON'}`,
          fix: 'the instance did not answer as the REST API: wake a hibernating developer instance (developer.servicenow.com), or let the integration bypass SSO/proxy pages for /api/ and /oauth_token.do',
          maybeCommitted: false,
        });
      }

      // A 401 on a bearer token is usually expiry or revocation: renew once and try again.
      // The instance rejected the request before doing anything, so this is safe for any method.
      if (res.status === 401 && !reauthenticated && auth.invalidate(authorization)) {
        reauthenticated = true;
        ctx.log.info({ connection: ctx.name }, 'servicenow answered 401; renewing the token once');
        continue;
      }
      const hint = serverDelayHint(res.status, res.headers, ctx.now());
      // 429 means the rule refused the request before it ran: safe to repeat even a POST.
      const safe = idempotent || res.status === 429;
      if (isRetryableStatus(res.status) && safe && retries < ctx.policy.maxRetries) {
        const delay = retryDelay(retries, ctx.policy, hint, ctx.random);
        if (delay !== undefined) {
          retries++;
          ctx.log.warn(
            {
              connection: ctx.name,
              endpoint: `${req.method} ${req.route}`,
              status: res.status,
              attempt: retries,
              of: ctx.policy.maxRetries,
              delayMs: delay,
            },
            'servicenow call failed; retrying',
          );
          await sleep(delay, req.signal);
          continue;
        }
      }
      throw errorFromResponse(ctx, req, res, {
        retryAfterMs: hint,
        maybeCommitted: !idempotent && res.status >= 500,
      });
    }
  };
}

/** Turn a non-2xx answer into a typed error with a fix. */
export function errorFromResponse(
  ctx: Pick<ConnectionContext, 'label' | 'authMode'>,
  req: Pick<SnRequest, 'method' | 'path' | 'table'>,
  res: Pick<HttpResponse, 'status' | 'json'>,
  extra: { retryAfterMs?: number | undefined; maybeCommitted?: boolean } = {},
): ServiceNowError {
  const { message, detail } = parseErrorBody(res.json);
  const kind = kindForStatus(res.status) ?? 'invalid';
  return new ServiceNowError({
    kind,
    instance: ctx.label,
    endpoint: `${req.method} ${req.path}`,
    table: req.table,
    status: res.status,
    snMessage: message,
    snDetail: detail,
    fix: fixFor({
      kind,
      path: req.path,
      table: req.table,
      auth: ctx.authMode,
      snMessage: message,
      snDetail: detail,
    }),
    retryAfterMs: extra.retryAfterMs,
    maybeCommitted: extra.maybeCommitted,
  });
}

function buildUrl(
  base: string,
  path: string,
  query: Record<string, QueryValue> | undefined,
): string {
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url.toString();
}
