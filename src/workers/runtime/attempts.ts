import { ZodError } from 'zod';
import {
  BusUnavailableError,
  FencedError,
  PayloadError,
  UpstreamError,
  coerceError,
} from '../../errors.js';
import type { Logger } from '../../log.js';

/**
 * How often a handler is tried and how long it waits in between: the one retry rule of every
 * worker, stateless or stateful. Bus adapters only redeliver a record whose handler rejected;
 * deciding whether an error deserves another try, and when a record is poison, is done here.
 *
 * @module
 */

export interface RetryPolicy {
  /** Tries of one record before it is dead-lettered. */
  maxAttempts: number;
  /** First backoff ceiling; doubles per attempt (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 30_000 };

/**
 * Upstream errors say themselves; input that does not validate never will, however often it is
 * tried; anything else (a bug, a network blip) gets the benefit of the doubt.
 */
export function isRetryable(error: Error): boolean {
  if (error instanceof UpstreamError) return error.retryable;
  return !(error instanceof PayloadError || error instanceof ZodError);
}

/**
 * No fault of the record: the bus is down (the DLQ is on the same bus), or the task lost its
 * partition. The record must go back to the bus, to be redelivered here once the bus is back or
 * to the partition's new owner, without spending its attempts.
 */
export function mustRedeliver(error: Error): boolean {
  return error instanceof BusUnavailableError || error instanceof FencedError;
}

/** Full-jitter exponential backoff before try `attempt + 1` (AWS architecture blog's "full jitter"). */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

export type AttemptsOutcome = { kind: 'done' } | { kind: 'poison'; error: Error; attempts: number };

/**
 * Run `fn` until it resolves, its error is not retryable, or the policy's attempts are spent
 * (then `poison`: the caller dead-letters). Rejects, for the bus to redeliver, on errors that
 * {@link mustRedeliver}.
 */
export async function withAttempts(
  fn: (attempt: number) => Promise<void>,
  { policy, log, sleep = defaultSleep }: { policy: RetryPolicy; log: Logger; sleep?: Sleep },
): Promise<AttemptsOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn(attempt);
      return { kind: 'done' };
    } catch (err) {
      const error = coerceError(err);
      if (mustRedeliver(error)) {
        log.warn({ err: error.message, attempt }, 'not handled here; the bus redelivers it');
        throw error;
      }
      const retryable = isRetryable(error);
      if (!retryable || attempt >= policy.maxAttempts) {
        log.error(
          { err: error.message, retryable, attempt },
          `failed on attempt ${attempt} of ${policy.maxAttempts}; dead-lettered`,
        );
        return { kind: 'poison', error, attempts: attempt };
      }
      const delay = backoffMs(policy, attempt);
      log.warn(
        { err: error.message, attempt, retryInMs: Math.round(delay) },
        `failed on attempt ${attempt} of ${policy.maxAttempts}; retrying`,
      );
      await sleep(delay);
    }
  }
}

type Sleep = (ms: number) => Promise<void>;
const defaultSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));
