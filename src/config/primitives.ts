import { z } from 'zod';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const MIB = 1024 * 1024;

/** Shortest HMAC key accepted: 192 bits, so a key cannot be guessed offline from one signature. */
export const MIN_HMAC_KEY_BYTES = 24;

/**
 * Canonical base64 (RFC 4648 §4, padded) decoded, or undefined. Node's decoder skips what it
 * does not understand, so `Buffer.from('whsec_A', 'base64')` is a 0-byte key: the text must
 * re-encode to itself to count.
 */
export function strictBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text))
    return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

const allZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

/**
 * Issues of a key, never its value: zod puts the path in front (`sources.jenkins.secrets.0`),
 * so the message names the key and says what is wrong with it.
 */
function checkKey(
  bytes: Buffer | undefined,
  ctx: z.RefinementCtx,
  { exact, min }: { exact?: number; min?: number },
): void {
  if (!bytes) {
    ctx.addIssue({ code: 'custom', message: 'must be canonical base64 (A–Z a–z 0–9 + /, padded)' });
    return;
  }
  if (exact !== undefined && bytes.length !== exact)
    ctx.addIssue({
      code: 'custom',
      message: `must be base64 of exactly ${exact} bytes (is ${bytes.length})`,
    });
  if (min !== undefined && bytes.length < min)
    ctx.addIssue({ code: 'custom', message: `must be at least ${min} bytes (is ${bytes.length})` });
  if (bytes.length > 0 && allZero(bytes))
    ctx.addIssue({ code: 'custom', message: 'is all zero bytes: generate a random key' });
}

/**
 * A Standard Webhooks secret: `whsec_` + base64 of the key bytes (the prefix is optional), at
 * least {@link MIN_HMAC_KEY_BYTES} random bytes.
 */
export const WhsecSchema = z.string().superRefine((secret, ctx) => {
  const body = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  checkKey(strictBase64(body), ctx, { min: MIN_HMAC_KEY_BYTES });
});

/** A plain HMAC secret used as UTF-8 bytes (GitHub's webhook secret). */
export const HmacSecretSchema = z.string().superRefine((secret, ctx) => {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_HMAC_KEY_BYTES)
    ctx.addIssue({
      code: 'custom',
      message: `must be at least ${MIN_HMAC_KEY_BYTES} bytes (is ${bytes})`,
    });
});

/** A 256-bit symmetric key as base64: the sealing key (A256GCM) and the audit signing key. */
export const Key256Schema = z.string().superRefine((key, ctx) => {
  checkKey(strictBase64(key), ctx, { exact: 32 });
});
