/**
 * Creating a record exactly once over an unreliable network.
 *
 * INVARIANT: a non-idempotent POST is never sent twice unless a lookup has just proved that the
 * first one did not create anything.
 *
 * - Every creation API takes an optional `correlationId`, written to the record's
 *   `correlation_id` field (the task table's external-key field).
 * - The request pipeline itself retries a POST only when the failure proves the request never
 *   reached the instance: DNS failure, connection refused, TLS failure before sending, a 401
 *   followed by a token renewal, or a 429 (the rate-limit rule refused it before it ran).
 * - When the outcome is unknown (timeout, connection reset after sending, a 5xx), the error
 *   carries `maybeCommitted`. With a correlation id we then wait out a backoff, query the table
 *   for `correlation_id=<id>`, return the record if it exists, and only otherwise POST again.
 *   If the lookup itself fails we give up rather than POST blind.
 * - Without a correlation id, an unknown outcome is surfaced to the caller as a retryable
 *   error; the caller (the worker, via Kafka redelivery) decides, and must look up first.
 *
 * Residual race: a request still running on the instance when our timeout fires may commit
 * after the lookup. The backoff before the lookup narrows that window; a timeout larger than
 * the instance's transaction quota closes it.
 *
 * @module
 */
import type { Logger } from 'pino';
import { ServiceNowError } from './errors.js';
import { backoffDelay, sleep, type RetryPolicy } from './retry.js';

export interface CorrelatedCreateOptions<T> {
  correlationId: string | undefined;
  /** One POST through the pipeline (which never retries it once it may have been sent). */
  post: () => Promise<T>;
  /** The record with this correlation id, if it exists. */
  lookup: () => Promise<T | undefined>;
  policy: Pick<RetryPolicy, 'maxRetries' | 'baseDelayMs' | 'maxDelayMs'>;
  log: Logger;
  random?: () => number;
  signal?: AbortSignal | undefined;
}

/**
 * Create once, recovering from unknown outcomes by looking the record up.
 * @throws ServiceNowError when creation fails for good, or the outcome stays unknown.
 */
export async function createWithCorrelation<T>({
  correlationId,
  post,
  lookup,
  policy,
  log,
  random = Math.random,
  signal,
}: CorrelatedCreateOptions<T>): Promise<T> {
  if (correlationId === undefined) return post();
  for (let retries = 0; ; retries++) {
    try {
      return await post();
    } catch (err) {
      if (
        !(err instanceof ServiceNowError) ||
        !err.maybeCommitted ||
        retries >= policy.maxRetries
      ) {
        throw err;
      }
      await sleep(backoffDelay(retries, policy, random), signal);
      const existing = await lookup();
      if (existing !== undefined) {
        log.info(
          { correlationId, err: err.message },
          'servicenow create outcome was unknown; the record exists, reusing it',
        );
        return existing;
      }
      log.warn(
        { correlationId, err: err.message, attempt: retries + 1 },
        'servicenow create did not commit; posting again',
      );
    }
  }
}

const SAFE_ID = /^[^^\r\n]{1,100}$/;

/**
 * Correlation ids go into an encoded query, where `^` would start a new condition.
 * @throws TypeError for an id that cannot be queried safely.
 */
export function assertCorrelationId(id: string): void {
  if (!SAFE_ID.test(id)) {
    throw new TypeError(
      `[changegate/servicenow] correlationId must be 1-100 characters without "^" or line breaks: ${JSON.stringify(id)}`,
    );
  }
}
