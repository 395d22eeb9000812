import { UpstreamError } from '../errors.js';

/**
 * A callback URL was refused before any request was made (allow-list, scheme, userinfo, or a
 * credential that would leave its origin). Never retryable: the URL will not change.
 */
export class CallbackRefusedError extends UpstreamError {
  readonly reason: string;
  constructor(reason: string) {
    super(`[changegate/ci] callback refused: ${reason}`, { retryable: false });
    this.reason = reason;
  }
}
