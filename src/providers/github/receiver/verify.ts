import { VerificationError } from '../../../errors.js';
import type { Verified } from '../../../receivers/types.js';
import { matchesAny } from '../../../security/timing-safe.js';
import { signGithub } from './sign.js';

/**
 * GitHub webhook authenticity: `X-Hub-Signature-256` over the raw body, any configured secret.
 * The legacy SHA-1 `X-Hub-Signature` is ignored on purpose: accepting it would let a downgrade
 * through. GitHub signs no timestamp, so there is no replay window here; redeliveries and
 * replays are caught by the delivery-id dedupe in front of Kafka.
 *
 * @module
 */

const PREFIX = '[changegate/receivers/github]';
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;
/** Delivery ids are GUIDs; the cap only keeps junk out of dedupe keys and logs. */
const MAX_DELIVERY_ID = 200;

/**
 * Verify a GitHub delivery against every secret in `secrets` (several during a rotation).
 *
 * A missing `X-GitHub-Delivery` is a {@link VerificationError}, checked after the signature: every
 * delivery GitHub makes carries one, and with no signed timestamp the delivery id is the only
 * thing that stops the same body from being accepted twice. A signed body without it was not sent
 * by GitHub's webhook sender, and we would rather refuse it than publish it undeduplicated.
 *
 * @returns the delivery id (stable across GitHub's redeliveries of the same event).
 * @throws VerificationError with a short, stable message.
 */
export function verifyGithub(
  headers: Headers,
  body: Uint8Array,
  secrets: readonly string[],
): Verified {
  if (secrets.length === 0) throw new VerificationError(`${PREFIX} no secret configured`);
  const offered = headers.get('x-hub-signature-256')?.trim().toLowerCase();
  if (!offered) throw new VerificationError(`${PREFIX} missing X-Hub-Signature-256`);
  if (!SIGNATURE.test(offered)) throw new VerificationError(`${PREFIX} malformed signature`);
  const expected = secrets.map((secret) => signGithub(secret, body));
  if (!matchesAny(offered, expected)) throw new VerificationError(`${PREFIX} signature mismatch`);

  const deliveryId = headers.get('x-github-delivery')?.trim();
  if (!deliveryId) throw new VerificationError(`${PREFIX} missing X-GitHub-Delivery`);
  if (deliveryId.length > MAX_DELIVERY_ID) {
    throw new VerificationError(`${PREFIX} X-GitHub-Delivery too long`);
  }
  return { deliveryId };
}
