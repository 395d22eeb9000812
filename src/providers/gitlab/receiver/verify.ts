import { VerificationError } from '../../../errors.js';
import { verifyStandardWebhook } from '../../../security/standard-webhooks.js';
import { matchesAny } from '../../../security/timing-safe.js';
import type { Verified, VerifyOptions } from '../../../receivers/types.js';
import { gitlabDeliveryId } from './delivery-id.js';

/**
 * GitLab webhook authenticity. Two mechanisms:
 * - `signingTokens` (whsec_…): the Standard-Webhooks HMAC GitLab sends with a signing token, which
 *   covers the body and a timestamp (replay window applies).
 * - `tokens`: the plain `X-Gitlab-Token` secret, compared constant-time. It does not cover the body.
 *
 * @module
 */

const PREFIX = '[changegate/receivers/gitlab]';

/** `sources.gitlab` as the config schema defines it: at least one of the two lists. */
export interface GitlabSecrets {
  tokens?: string[] | undefined;
  signingTokens?: string[] | undefined;
}

/**
 * Verify a GitLab delivery.
 * - Signing tokens configured and `webhook-signature` present → the signature decides; a bad one
 *   is rejected even if a valid `X-Gitlab-Token` rides along (the token does not cover the body).
 * - Otherwise `X-Gitlab-Token` against `tokens`.
 * - Only signing tokens configured and the delivery unsigned → rejected: configuring a signing
 *   token means unsigned deliveries are not acceptable.
 *
 * @returns the delivery id, see {@link gitlabDeliveryId}.
 * @throws VerificationError with a short, stable message.
 */
export function verifyGitlab(
  headers: Headers,
  body: Uint8Array,
  { tokens = [], signingTokens = [] }: GitlabSecrets,
  options: VerifyOptions,
): Verified {
  if (signingTokens.length > 0 && headers.has('webhook-signature')) {
    try {
      verifyStandardWebhook(headers, body, signingTokens, options);
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/^\[[^\]]*\]\s*/, '') : 'invalid';
      throw new VerificationError(`${PREFIX} signing token: ${reason}`, { cause: err });
    }
    return { deliveryId: gitlabDeliveryId(headers, body) };
  }
  if (tokens.length === 0) {
    throw new VerificationError(
      `${PREFIX} unsigned delivery but only signing tokens are configured`,
    );
  }
  const token = headers.get('x-gitlab-token');
  if (!token) throw new VerificationError(`${PREFIX} missing X-Gitlab-Token`);
  if (!matchesAny(token, tokens)) throw new VerificationError(`${PREFIX} token mismatch`);
  return { deliveryId: gitlabDeliveryId(headers, body) };
}
