import type { Context } from 'hono';
import {
  ChangegateError,
  BusUnavailableError,
  PayloadError,
  PayloadTooLargeError,
  coerceError,
} from '../errors.js';
import type { Logger } from '../log.js';

/**
 * Map a typed error to a response. Anything else is a bug: logged with its stack, answered 500
 * with no detail (the detail could carry request data).
 */
export function errorResponse(err: unknown, c: Context, log: Logger): Response {
  if (err instanceof ChangegateError) {
    if (err instanceof BusUnavailableError) {
      c.header('Retry-After', String(err.retryAfterSeconds));
    }
    // Close rather than drain the rest of a body we refused: it may be megabytes still coming.
    if (err instanceof PayloadTooLargeError) c.header('Connection', 'close');
    const reason = err instanceof PayloadError ? err.reason : err.code;
    return c.json({ error: err.code, reason, message: err.message }, err.status as 400);
  }
  log.error({ err: coerceError(err), path: c.req.path }, 'unhandled error in request');
  return c.json({ error: 'internal', message: 'internal error' }, 500);
}
