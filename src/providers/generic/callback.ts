import { createHash } from 'node:crypto';
import type { Callback } from '../../events/common.js';
import { sign } from '../../security/standard-webhooks.js';
import type { AllowListPolicy } from '../../ci/allow-list.js';
import { CallbackRefusedError } from '../../ci/errors.js';
import { failure, send, type HttpDeps } from '../../ci/http.js';
import type { CallbackClient, DecideResult, Decision } from '../../ci/port.js';
import type { GenericCiConfig } from './config.js';

/**
 * Generic callback: a Standard-Webhooks-signed POST of `{type, timestamp, data}`
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
 * 2xx is done; 409 is the receiver's "already decided".
 *
 * The signed `data` names the gate, the generic source and the CR, so a receiver can check
 * that a release is for the gate it holds: a signature alone says only that changegate sent
 * it, not for which deployment. Each source may have its own secret and allow-list
 * (`ci.generic.sources.<name>`): one source's receiver then cannot be sent, nor forge, another's
 * releases.
 *
 * @module
 */

const PROVIDER = 'generic';

type GenericConfig = GenericCiConfig;

/**
 * The `webhook-id` is derived from the gate and the outcome, so a retried or redelivered
 * decision carries the same id and the receiver can dedupe it (the spec's idempotency key).
 */
export function messageId(url: string, decision: Decision): string {
  const digest = createHash('sha256')
    .update(`${url}\n${decision.outcome}\n${decision.changeNumber ?? ''}\n${decision.gateId ?? ''}`)
    .digest('base64url');
  return `msg_${digest.slice(0, 27)}`;
}

/** The generic source a callback belongs to (the normalizer puts it in `params.source`). */
export function callbackSource(callback: Callback): string | undefined {
  return callback.params?.source;
}

/**
 * Where a generic callback may go: its source's own allow-list when the source has one,
 * otherwise the global `ci.allowList`.
 */
export function genericAllowPolicy(
  callback: Callback,
  generic: GenericConfig | undefined,
  global: AllowListPolicy,
): AllowListPolicy {
  const source = callbackSource(callback);
  const own = source !== undefined ? generic?.sources[source] : undefined;
  return own ? { allowList: own.allowList, allowLoopback: global.allowLoopback } : global;
}

/** @example createGenericClient({ secret: 'whsec_…', sources: {} }, { fetchImpl: fetch, timeoutMs: 10_000 }) */
export function createGenericClient(
  opts: Partial<GenericConfig> & { now?: () => Date },
  deps: HttpDeps,
): CallbackClient {
  const now = opts.now ?? (() => new Date());
  const sources = opts.sources ?? {};
  return {
    async decide(callback, decision): Promise<DecideResult> {
      const source = callbackSource(callback);
      const secret = (source !== undefined ? sources[source]?.secret : undefined) ?? opts.secret;
      if (!secret) {
        throw new CallbackRefusedError(
          `no ci.generic secret for source ${source ?? '(none)'}: set ci.generic.sources.<name> or ci.generic.secret`,
        );
      }
      const at = now();
      const body = JSON.stringify({
        type: decision.outcome === 'approve' ? 'gate.released' : 'gate.rejected',
        timestamp: at.toISOString(),
        data: {
          outcome: decision.outcome,
          comment: decision.comment,
          ...(decision.gateId ? { gateId: decision.gateId } : {}),
          ...(source !== undefined ? { source } : {}),
          ...(decision.changeNumber ? { changeNumber: decision.changeNumber } : {}),
          params: callback.params,
        },
      });
      const reply = await send(deps, PROVIDER, callback.url, {
        method: 'POST',
        headers: {
          ...sign(secret, messageId(callback.url, decision), at, body),
          'content-type': 'application/json',
        },
        body,
      });
      if (reply.status >= 200 && reply.status < 300) {
        return { status: 'done', httpStatus: reply.status };
      }
      if (reply.status === 409) return { status: 'already-decided', httpStatus: reply.status };
      throw failure(PROVIDER, reply, {
        401: 'signature refused: the receiver does not share this source’s ci.generic secret',
        404: 'no gate at this URL on the receiver',
      });
    },
  };
}
