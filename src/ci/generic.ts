import { createHash } from 'node:crypto';
import { sign } from '../security/standard-webhooks.js';
import { CallbackRefusedError } from './errors.js';
import { failure, send, type HttpDeps } from './http.js';
import type { CallbackClient, DecideResult, Decision } from './port.js';

/**
 * Generic callback: a Standard-Webhooks-signed POST of `{type, timestamp, data}`
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
 * 2xx is done; 409 is the receiver's "already decided".
 *
 * @module
 */

const PROVIDER = 'generic';

/**
 * The `webhook-id` is derived from the gate and the outcome, so a retried or redelivered
 * decision carries the same id and the receiver can dedupe it (the spec's idempotency key).
 */
export function messageId(url: string, decision: Decision): string {
  const digest = createHash('sha256')
    .update(`${url}\n${decision.outcome}\n${decision.changeNumber ?? ''}`)
    .digest('base64url');
  return `msg_${digest.slice(0, 27)}`;
}

/** @example createGenericClient({ secret: 'whsec_…' }, { fetchImpl: fetch, timeoutMs: 10_000 }) */
export function createGenericClient(
  opts: { secret?: string | undefined; now?: () => Date },
  deps: HttpDeps,
): CallbackClient {
  const now = opts.now ?? (() => new Date());
  return {
    async decide(callback, decision): Promise<DecideResult> {
      if (!opts.secret) throw new CallbackRefusedError('no ci.generic.secret to sign callbacks');
      const at = now();
      const body = JSON.stringify({
        type: decision.outcome === 'approve' ? 'gate.released' : 'gate.rejected',
        timestamp: at.toISOString(),
        data: {
          outcome: decision.outcome,
          comment: decision.comment,
          ...(decision.changeNumber ? { changeNumber: decision.changeNumber } : {}),
          params: callback.params,
        },
      });
      const reply = await send(deps, PROVIDER, callback.url, {
        method: 'POST',
        headers: {
          ...sign(opts.secret, messageId(callback.url, decision), at, body),
          'content-type': 'application/json',
        },
        body,
      });
      if (reply.status >= 200 && reply.status < 300) {
        return { status: 'done', httpStatus: reply.status };
      }
      if (reply.status === 409) return { status: 'already-decided', httpStatus: reply.status };
      throw failure(PROVIDER, reply, {
        401: 'signature refused: the receiver does not share ci.generic.secret',
        404: 'no gate at this URL on the receiver',
      });
    },
  };
}
