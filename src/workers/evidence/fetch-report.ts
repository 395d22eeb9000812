import { checkCallbackUrl, type AllowListPolicy } from '../../ci/allow-list.js';
import { UpstreamError, coerceError } from '../../errors.js';

/**
 * Download a report named by URL. The URL comes from a webhook, so it is input: it must match
 * `evidence.fetch.allowList` before any request is made (the callback SSRF guard, reused);
 * redirects are not followed (an allowed host must not bounce us elsewhere); the download has a
 * timeout and stops reading at `maxBytes`.
 *
 * @module
 */

const PREFIX = '[changegate/workers/evidence]';

/** The URL was refused before any request. Never retryable: the URL will not change. */
export class ReportRefusedError extends UpstreamError {
  readonly reason: string;
  constructor(url: string, reason: string) {
    super(`${PREFIX} report URL refused: ${reason} (${redactUrl(url)})`, { retryable: false });
    this.reason = reason;
  }
}

export interface FetchReportOptions {
  policy: AllowListPolicy;
  timeoutMs: number;
  maxBytes: number;
  authorization?: string | undefined;
  fetchImpl?: typeof fetch;
}

export interface FetchedReport {
  bytes: Uint8Array;
  /** True when the body was longer than `maxBytes` and the rest was not read. */
  cut: boolean;
  /** Content-Length when the server sent one. */
  declaredBytes?: number;
}

/** Scheme, host and path only: query strings often carry tokens. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * @throws ReportRefusedError when the URL is not allow-listed (no request made).
 * @throws UpstreamError retryable on network errors, timeouts, 408/429/5xx; not retryable on
 *   other statuses (404: the artifact is gone; 3xx: redirect not followed).
 */
export async function fetchReport(
  url: string,
  options: FetchReportOptions,
): Promise<FetchedReport> {
  const verdict = checkCallbackUrl(url, options.policy);
  if (!verdict.ok)
    throw new ReportRefusedError(
      url,
      verdict.reason.replace('ci.allowList', 'evidence.fetch.allowList'),
    );
  const where = redactUrl(url);
  const signal = AbortSignal.timeout(options.timeoutMs);
  let res: Response;
  try {
    res = await (options.fetchImpl ?? fetch)(verdict.url, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: options.authorization ? { authorization: options.authorization } : {},
    });
  } catch (err) {
    throw failed(where, err, options.timeoutMs);
  }
  if (res.status < 200 || res.status >= 300) {
    await res.body?.cancel().catch(() => undefined);
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    const hint = res.status >= 300 && res.status < 400 ? ': redirect not followed' : '';
    throw new UpstreamError(
      `${PREFIX} report download answered HTTP ${res.status}${hint} (${where})`,
      {
        retryable,
        upstreamStatus: res.status,
      },
    );
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  try {
    const reader = res.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = options.maxBytes - size;
      if (value.length > room) {
        chunks.push(value.subarray(0, room));
        size += room;
        cut = true;
        await reader.cancel();
        break;
      }
      chunks.push(value);
      size += value.length;
    }
  } catch (err) {
    throw failed(where, err, options.timeoutMs);
  }
  return {
    bytes: Buffer.concat(chunks, size),
    cut,
    ...(Number.isFinite(declared) ? { declaredBytes: declared } : {}),
  };
}

function failed(where: string, err: unknown, timeoutMs: number): UpstreamError {
  const e = coerceError(err);
  const what = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : e.message;
  return new UpstreamError(`${PREFIX} report download failed: ${what} (${where})`, {
    retryable: true,
    cause: e,
  });
}
