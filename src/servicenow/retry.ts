/**
 * Backoff arithmetic: exponential with full jitter, and the server's own hints (`Retry-After`,
 * `X-RateLimit-Reset`). Pure functions, so the schedule is unit-tested without a server.
 *
 * @module
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server hint beyond this is not waited for: the caller fails and reschedules instead. */
  maxRetryAfterMs: number;
}

/** Statuses where the instance did not do the work, or may do it if asked again. */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 ||
    status === 429 ||
    status === 500 ||
    status === 502 ||
    status === 503 ||
    status === 504
  );
}

/**
 * Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in
 * [0, min(maxDelay, base * 2^attempt)], so many clients after one outage do not retry in step.
 * @param attempt 0 for the first retry.
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `nowMs`. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** `X-RateLimit-Reset`: Unix time in seconds at which the instance's hourly window resets. */
export function parseRateLimitReset(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Math.max(0, Math.round(Number(value) * 1000 - nowMs));
}

/**
 * How long the server asked us to wait. `Retry-After` wins because ServiceNow sends it with the
 * 429 itself (seconds until the next allowed request); `X-RateLimit-Reset` is sent on every
 * response that matches a rule and is only the fallback on a 429/503 without `Retry-After`.
 */
export function serverDelayHint(
  status: number,
  headers: Headers,
  nowMs: number,
): number | undefined {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), nowMs);
  if (retryAfter !== undefined) return retryAfter;
  if (status === 429 || status === 503) {
    return parseRateLimitReset(headers.get('x-ratelimit-reset'), nowMs);
  }
  return undefined;
}

/**
 * The wait before retry number `attempt`, or `undefined` when the server's hint is beyond
 * `maxRetryAfterMs` (do not retry now).
 */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  hintMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (hintMs !== undefined) {
    if (hintMs > policy.maxRetryAfterMs) return undefined;
    // A small jitter on top of the hint so clients released by one reset do not collide.
    return hintMs + Math.floor(random() * Math.min(250, policy.baseDelayMs));
  }
  return backoffDelay(attempt, policy, random);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
