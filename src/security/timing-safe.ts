import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Per-process key for the comparison digests. Keyed, so the digests of a guess tell an observer
 * nothing they could precompute.
 */
const COMPARE_KEY = randomBytes(32);

const digest = (value: Uint8Array | string) =>
  createHmac('sha256', COMPARE_KEY).update(value).digest();

/**
 * Constant-time equality that reveals neither where two values differ nor how long the secret
 * is: both sides are reduced to HMAC-SHA256 digests of one length and those are compared, so
 * the time taken does not depend on either input's length or content.
 */
export function safeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** True when `candidate` equals any of `secrets`; every secret is compared, matched or not. */
export function matchesAny(candidate: string, secrets: readonly string[]): boolean {
  const offered = digest(candidate);
  let ok = false;
  for (const secret of secrets) ok = timingSafeEqual(offered, digest(secret)) || ok;
  return ok;
}
