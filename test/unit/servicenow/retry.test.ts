import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  isRetryableStatus,
  parseRateLimitReset,
  parseRetryAfter,
  retryDelay,
  serverDelayHint,
} from '../../../src/servicenow/retry.js';

const policy = { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

describe('servicenow retry schedule', () => {
  it('draws full-jitter delays between 0 and base * 2^attempt', () => {
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });

  it('caps the exponential ceiling at maxDelayMs', () => {
    expect(backoffDelay(20, policy, () => 0.999)).toBe(999);
  });

  it('reads Retry-After as delta seconds', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(' 0 ', 0)).toBe(0);
  });

  it('reads Retry-After as an HTTP-date relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores a malformed Retry-After', () => {
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });

  it('reads X-RateLimit-Reset as Unix seconds', () => {
    expect(parseRateLimitReset('1767225610', 1767225600_000)).toBe(10_000);
    expect(parseRateLimitReset('nope', 0)).toBeUndefined();
  });

  it('prefers Retry-After and falls back to X-RateLimit-Reset only on 429/503', () => {
    const both = new Headers({ 'retry-after': '2', 'x-ratelimit-reset': '100' });
    expect(serverDelayHint(429, both, 0)).toBe(2000);
    const resetOnly = new Headers({ 'x-ratelimit-reset': '7' });
    expect(serverDelayHint(429, resetOnly, 0)).toBe(7000);
    expect(serverDelayHint(200, resetOnly, 0)).toBeUndefined();
  });

  it('waits out a server hint, and gives up on one beyond maxRetryAfterMs', () => {
    expect(retryDelay(0, policy, 2000, () => 0)).toBe(2000);
    expect(retryDelay(0, policy, 60_000, () => 0)).toBeUndefined();
    expect(retryDelay(1, policy, undefined, () => 0.5)).toBe(100);
  });

  it('retries 408, 429 and 5xx gateway errors but not 4xx caller errors', () => {
    for (const s of [408, 429, 500, 502, 503, 504]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 409, 501]) expect(isRetryableStatus(s)).toBe(false);
  });
});
