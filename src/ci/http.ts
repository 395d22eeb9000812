import { UpstreamError, coerceError } from '../errors.js';

/**
 * The one place CI clients touch the network: timeouts, no redirects, rate limits, and the
 * mapping of HTTP outcomes to `UpstreamError { retryable }`.
 *
 * Rate limits are waited out, never final. A 429, or a 403 that carries the signs GitHub
 * documents for its primary and secondary limits (`x-ratelimit-remaining: 0` with
 * `x-ratelimit-reset`, a `retry-after`, or a body naming a rate limit), means "not processed, ask
 * again later" ("Rate limits for the REST API", github/docs
 * content/rest/using-the-rest-api/rate-limits-for-the-rest-api.md; RFC 9110 §10.2.3 for
 * `retry-after`). `send` remembers per origin until when the server asked us to wait, sleeps
 * through a wait up to `maxRateLimitWaitMs` and sends again, and otherwise sends nothing until
 * then: the reply (or a {@link RateLimitedError} without a request) is mapped by `failure` to a
 * retryable error, so the caller retries later instead of failing the gate, and does not keep
 * calling an API that asked it to stop ("Continuing to make requests while you are rate limited
 * may result in the banning of your integration").
 *
 * @module
 */

export interface HttpDeps {
  fetchImpl: typeof fetch;
  timeoutMs: number;
  /** Longest wait for a rate limit inside one `send` (default 10 s); longer waits are the caller's. */
  maxRateLimitWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** Error bodies are echoed into messages; keep them short. */
const MAX_DETAIL = 300;
const DEFAULT_MAX_WAIT_MS = 10_000;
/** GitHub, secondary limit without headers: "Otherwise, wait for at least one minute". */
const UNSPECIFIED_WAIT_MS = 60_000;
/** Rate-limited answers one `send` waits out before handing the reply back. */
const RATE_LIMIT_ATTEMPTS = 3;
const RATE_LIMIT_TEXT = /rate limit/i;

/** Per provider and origin: epoch ms before which the server asked for no request. Process-wide
 * on purpose: every client of one API shares its limit. */
const quietUntil = new Map<string, number>();

/**
 * A request not sent because the origin asked us to wait (a rate limit seen earlier). Retryable;
 * `retryAfterMs` says how long is left.
 */
export class RateLimitedError extends UpstreamError {
  readonly retryAfterMs: number;
  /** `status`/`body`: the rate-limited answer, when this error maps one. */
  constructor(provider: string, retryAfterMs: number, status?: number, body?: string) {
    const wait = `rate limited, retry in ${Math.ceil(retryAfterMs / 1000)} s`;
    super(
      status === undefined
        ? `[changegate/ci/${provider}] ${wait} (no request sent)`
        : `[changegate/ci/${provider}] HTTP ${status}: ${wait}${body ? ` (${body})` : ''}`,
      { retryable: true, upstreamStatus: status },
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * How long a rate-limited reply asks us to wait, or undefined when it is no rate limit.
 * @example rateLimitWaitMs({ status: 429, headers: new Headers({ 'retry-after': '7' }), text: '' }, now) // 7000
 */
export function rateLimitWaitMs(
  reply: Pick<HttpReply, 'status' | 'text'> & { headers?: Headers | undefined },
  now: number,
): number | undefined {
  if (reply.status !== 429 && reply.status !== 403) return undefined;
  const h = reply.headers;
  const retryAfter = h?.get('retry-after')?.trim();
  if (retryAfter) {
    const seconds = /^\d+$/.test(retryAfter)
      ? Number(retryAfter) * 1000
      : Date.parse(retryAfter) - now;
    if (Number.isFinite(seconds)) return Math.max(0, seconds);
  }
  const reset = Number(h?.get('x-ratelimit-reset'));
  if (h?.get('x-ratelimit-remaining')?.trim() === '0' && Number.isFinite(reset) && reset > 0) {
    return Math.max(0, reset * 1000 - now);
  }
  if (reply.status === 429 || RATE_LIMIT_TEXT.test(reply.text)) return UNSPECIFIED_WAIT_MS;
  return undefined;
}

/**
 * Send one request. Redirects are returned, not followed (SSRF guard: an allowed host must not
 * bounce credentials elsewhere).
 * @throws UpstreamError retryable on network errors and timeouts.
 */
export async function send(
  deps: HttpDeps,
  provider: string,
  url: string,
  req: HttpRequest,
): Promise<HttpReply> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWait = deps.maxRateLimitWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const origin = `${provider} ${originOf(url)}`;
  for (let attempt = 1; ; attempt++) {
    const waitMs = (quietUntil.get(origin) ?? 0) - now();
    if (waitMs > maxWait) throw new RateLimitedError(provider, waitMs);
    if (waitMs > 0) await sleep(waitMs);
    const reply = await sendOnce(deps, provider, url, req);
    const asked = rateLimitWaitMs(reply, now());
    if (asked === undefined) {
      if (quietUntil.get(origin) !== undefined && quietUntil.get(origin)! <= now()) {
        quietUntil.delete(origin);
      }
      return reply;
    }
    quietUntil.set(origin, Math.max(quietUntil.get(origin) ?? 0, now() + asked));
    // Handed back: `failure` maps a rate-limited reply to a retryable error.
    if (attempt >= RATE_LIMIT_ATTEMPTS || asked > maxWait) return reply;
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

async function sendOnce(
  deps: HttpDeps,
  provider: string,
  url: string,
  req: HttpRequest,
): Promise<HttpReply> {
  let res: Response;
  try {
    res = await deps.fetchImpl(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (err) {
    const e = coerceError(err);
    const what = e.name === 'TimeoutError' ? `timed out after ${deps.timeoutMs} ms` : e.message;
    throw new UpstreamError(`[changegate/ci/${provider}] request failed: ${what}`, {
      retryable: true,
      cause: e,
    });
  }
  return { status: res.status, headers: res.headers, text: await res.text().catch(() => '') };
}

/** True when a retry can help: 5xx, 429 (rate limit), 408 (request timeout). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** A short, single-line excerpt of an error body for messages. */
export function detail(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}

/**
 * Map a non-success reply to an `UpstreamError`. `hints` name the fix per status, e.g.
 * `{ 403: 'the GitHub App lacks Deployments: write' }`.
 */
export function failure(
  provider: string,
  reply: Pick<HttpReply, 'status' | 'text'> & { headers?: Headers },
  hints: Partial<Record<number, string>> = {},
): UpstreamError {
  const { status } = reply;
  const waitMs = rateLimitWaitMs(reply, Date.now());
  if (waitMs !== undefined)
    return new RateLimitedError(provider, waitMs, status, detail(reply.text));
  const retryable = isRetryableStatus(status);
  let hint = hints[status];
  if (!hint && status >= 300 && status < 400) {
    const to = reply.headers?.get('location');
    hint = `redirect${to ? ` to ${to}` : ''} not followed; configure the final URL`;
  }
  const body = detail(reply.text);
  const message = `[changegate/ci/${provider}] HTTP ${status}${hint ? `: ${hint}` : ''}${body ? ` (${body})` : ''}`;
  return new UpstreamError(message, { retryable, upstreamStatus: status });
}

/** `a/` + `b` without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
