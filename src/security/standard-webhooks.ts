import { createHmac } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { safeEqual } from './timing-safe.js';

/**
 * Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, key = base64 of the
 * secret after `whsec_`. Used by Jenkins, generic sources, ServiceNow business rules and GitLab's
 * signing token.
 *
 * @module
 */

const PREFIX = '[changegate/receivers/standard-webhooks]';

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

function mac(secret: string, id: string, timestamp: string, body: Uint8Array | string): string {
  return createHmac('sha256', keyOf(secret))
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest('base64');
}

/**
 * Sign a message: what a sender (our Jenkins step, the ServiceNow business rule, tests) does.
 * @example sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', new Date(), '{"a":1}')
 */
export function sign(
  secret: string,
  id: string,
  at: Date,
  body: Uint8Array | string,
): StandardWebhookHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${mac(secret, id, timestamp, body)}`,
  };
}

/**
 * Verify a Standard-Webhooks delivery against any of `secrets` (rotation) and the replay window.
 * @returns the `webhook-id`, the idempotency key.
 * @throws VerificationError with a short, stable message.
 */
export function verifyStandardWebhook(
  headers: Headers,
  body: Uint8Array,
  secrets: readonly string[],
  { now, toleranceSeconds }: { now: Date; toleranceSeconds: number },
): string {
  const id = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const signature = headers.get('webhook-signature');
  if (!id || !timestamp || !signature) {
    throw new VerificationError(
      `${PREFIX} missing webhook-id, webhook-timestamp or webhook-signature`,
    );
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new VerificationError(`${PREFIX} webhook-timestamp is not unix seconds`);
  }
  const skew = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (skew > toleranceSeconds) throw new VerificationError(`${PREFIX} message timestamp too old`);
  if (skew < -toleranceSeconds) throw new VerificationError(`${PREFIX} message timestamp too new`);

  const offered = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3));
  let matched = false;
  for (const secret of secrets) {
    const expected = mac(secret, id, timestamp, body);
    for (const candidate of offered) matched = safeEqual(candidate, expected) || matched;
  }
  if (!matched) throw new VerificationError(`${PREFIX} no matching signature found`);
  return id;
}
