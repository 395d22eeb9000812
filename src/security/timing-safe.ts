import { timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two byte strings; unequal lengths compare false without leaking where. */
export function safeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a);
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b);
  if (x.length !== y.length) {
    // Still spend the time of one comparison so the length is the only thing learned.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** True when `candidate` equals any of `secrets`; every secret is compared, matched or not. */
export function matchesAny(candidate: string, secrets: readonly string[]): boolean {
  let ok = false;
  for (const secret of secrets) ok = safeEqual(candidate, secret) || ok;
  return ok;
}
