import { basicError } from './emulator-shapes.js';

/**
 * GitHub's rate-limit answers, switchable for tests. Follows "Rate limits for the REST API"
 * (github/docs content/rest/using-the-rest-api/rate-limits-for-the-rest-api.md):
 * - primary: "you will receive a `403` or `429` response, and the `x-ratelimit-remaining` header
 *   will be `0`. You should not retry your request until after the time specified by the
 *   `x-ratelimit-reset` header" (UTC epoch seconds); every answer carries `x-ratelimit-limit`,
 *   `-remaining`, `-used`, `-reset`, `-resource`.
 * - secondary: "a `403` or `429` response and an error message that indicates that you exceeded
 *   a secondary rate limit. If the `retry-after` response header is present, you should not retry
 *   your request until after that many seconds has elapsed."
 *
 * @module
 */

const DOC = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';

export interface RateLimitFault {
  kind: 'primary' | 'secondary';
  status: 403 | 429;
  /** Answers left to refuse; undefined: until switched off. */
  times?: number | undefined;
  /** Primary: the window resets this many seconds from now (default 1). */
  resetInSeconds?: number | undefined;
  /** Secondary: the `retry-after` value (default 1); omitted from the answer when 0. */
  retryAfterSeconds?: number | undefined;
}

export interface RateLimitAnswer {
  status: number;
  body: ReturnType<typeof basicError>;
  headers: Record<string, string>;
}

export interface RateLimiter {
  set(fault: RateLimitFault): void;
  clear(): void;
  /** The answer for this request when a limit is switched on, consuming one of its `times`. */
  take(now?: number): RateLimitAnswer | undefined;
}

const LIMIT = 5000;

export function createRateLimiter(): RateLimiter {
  let current: RateLimitFault | undefined;
  return {
    set(fault) {
      current = { ...fault };
    },
    clear() {
      current = undefined;
    },
    take(now = Date.now()) {
      if (!current) return undefined;
      const fault = current;
      if (fault.times !== undefined) {
        fault.times -= 1;
        if (fault.times <= 0) current = undefined;
      }
      const resetAt = Math.ceil(now / 1000) + (fault.resetInSeconds ?? 1);
      if (fault.kind === 'primary') {
        return {
          status: fault.status,
          body: basicError(
            'API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.',
            fault.status,
            DOC,
          ),
          headers: {
            'x-ratelimit-limit': String(LIMIT),
            'x-ratelimit-remaining': '0',
            'x-ratelimit-used': String(LIMIT),
            'x-ratelimit-reset': String(resetAt),
            'x-ratelimit-resource': 'core',
          },
        };
      }
      const retryAfter = fault.retryAfterSeconds ?? 1;
      return {
        status: fault.status,
        body: basicError(
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          fault.status,
          DOC,
        ),
        headers: {
          ...(retryAfter > 0 ? { 'retry-after': String(retryAfter) } : {}),
          // A secondary limit leaves the primary window untouched.
          'x-ratelimit-limit': String(LIMIT),
          'x-ratelimit-remaining': String(LIMIT - 1),
          'x-ratelimit-used': '1',
          'x-ratelimit-reset': String(Math.ceil(now / 1000) + 3600),
          'x-ratelimit-resource': 'core',
        },
      };
    },
  };
}
