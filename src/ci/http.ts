import { UpstreamError, coerceError } from '../errors.js';

/**
 * The one place CI clients touch the network: timeouts, no redirects, and the mapping of HTTP
 * outcomes to `UpstreamError { retryable }`.
 *
 * @module
 */

export interface HttpDeps {
  fetchImpl: typeof fetch;
  timeoutMs: number;
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
