/**
 * The small family of errors changegate throws. Each carries what the edge needs to route it
 * (an HTTP status, whether a retry can help) and a message that says what to fix.
 *
 * @module
 */

export type ErrorCode =
  | 'verification_failed'
  | 'invalid_payload'
  | 'not_found'
  | 'payload_too_large'
  | 'bus_unavailable'
  | 'config_invalid'
  | 'upstream_failed'
  | 'partition_fenced';

export class ChangegateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** Signature, token or timestamp check failed: the sender is not who it claims (401). */
export class VerificationError extends ChangegateError {
  constructor(message: string, options?: ErrorOptions) {
    super('verification_failed', 401, message, options);
  }
}

/** The body is not JSON, or not the shape the provider sends (400). `reason` is machine-readable. */
export class PayloadError extends ChangegateError {
  readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super('invalid_payload', 400, message, options);
    this.reason = reason;
  }
}

/** Unknown route or a source with no secret configured (404): no route accepts unsigned input. */
export class NotFoundError extends ChangegateError {
  constructor(message: string) {
    super('not_found', 404, message);
  }
}

export class PayloadTooLargeError extends ChangegateError {
  constructor(limitBytes: number) {
    super('payload_too_large', 413, `body exceeds the limit of ${limitBytes} bytes`);
  }
}

/** The bus did not acknowledge a write in time; the sender must redeliver (503 + Retry-After). */
export class BusUnavailableError extends ChangegateError {
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super('bus_unavailable', 503, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 5;
  }
}

/** Configuration does not validate; `issues` name every bad key. */
export class ConfigError extends ChangegateError {
  readonly issues: string[];
  constructor(issues: string[], source: string) {
    super(
      'config_invalid',
      500,
      `invalid configuration (${source}):\n  - ${issues.join('\n  - ')}`,
    );
    this.issues = issues;
  }
}

/** A call to ServiceNow or a CI system failed. `retryable` tells the worker whether to try again. */
export class UpstreamError extends ChangegateError {
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;
  constructor(
    message: string,
    options: ErrorOptions & { retryable: boolean; upstreamStatus?: number | undefined },
  ) {
    super('upstream_failed', 502, message, options);
    this.retryable = options.retryable;
    this.upstreamStatus = options.upstreamStatus;
  }
}

/**
 * A stateful task lost its partition (a rebalance, a close): it must not write, and the record
 * it was handling belongs to the partition's new owner, which will handle it (503: try again
 * elsewhere). No fault of the record, so it never counts against its attempts.
 */
export class FencedError extends ChangegateError {
  constructor(message: string) {
    super('partition_fenced', 503, message);
  }
}

/** Normalize anything thrown into an Error, once, so callers never handle `unknown`. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  const message = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  return new Error(message, { cause: err });
}
