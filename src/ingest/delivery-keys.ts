import { createHash } from 'node:crypto';
import { PayloadError } from '../errors.js';

/**
 * Which deliveries count as "the same one" (replay-proof dedupe), and how long an id may be.
 * Pure functions of the request and the route, shared by every provider.
 *
 * @module
 */

/** Longer ids are refused (400) before anything is verified or stored in the dedupe window. */
export const MAX_ID_LENGTH = 200;

/**
 * Every header a receiver reads a delivery id from (github, gitlab, azure-devops, Standard
 * Webhooks). `traceparent` has its own fixed format and is not an id of the delivery.
 */
export const ID_HEADERS = [
  'webhook-id',
  'x-github-delivery',
  'x-gitlab-event-uuid',
  'x-gitlab-webhook-uuid',
  'idempotency-key',
  'planid',
  'taskinstanceid',
] as const;

/** @throws PayloadError `invalid_header:<name>` when an id header exceeds {@link MAX_ID_LENGTH}. */
export function checkIdHeaders(headers: Headers): void {
  for (const name of ID_HEADERS) {
    const value = headers.get(name);
    if (value !== null && value.length > MAX_ID_LENGTH) {
      throw new PayloadError(
        `invalid_header:${name}`,
        `${name} is ${value.length} characters; at most ${MAX_ID_LENGTH} are accepted`,
      );
    }
  }
}

/** @throws PayloadError `invalid_field:deliveryId` when a (body-derived) id is too long. */
export function checkDeliveryId(deliveryId: string): void {
  if (deliveryId.length > MAX_ID_LENGTH) {
    throw new PayloadError(
      'invalid_field:deliveryId',
      `the delivery id is ${deliveryId.length} characters; at most ${MAX_ID_LENGTH} are accepted`,
    );
  }
}

/**
 * The dedupe keys of one delivery; it is a duplicate when any of them was seen. The first is the
 * route-scoped delivery id (`<route>:<id>`), the marker every receiver always wrote. Then:
 * - GitHub: `github:sig:<sha256 of signature and body>`. `X-GitHub-Delivery` is not signed, so a
 *   captured delivery resent under a new id would pass; the signed bytes do not change (GitHub's
 *   own redelivery resends them identically), so they are a second key. The signature is part of
 *   the hash so that one body signed under two secrets during a rotation stays two keys.
 * - generic (Standard Webhooks): `generic:<webhook-id>`, across every `:source` name. With one
 *   secret for every name (`*`, `CHANGEGATE_GENERIC_SECRET`) a captured delivery would verify on
 *   `/hooks/generic/a`, `/b`, `/c`…; the id is signed and unique per message, so one message is
 *   accepted once whichever name it arrives on. The cost: a sender that fans one message out to
 *   two generic names under the same id gets the second answered as a duplicate.
 */
export function dedupeKeys(
  provider: string,
  route: string,
  deliveryId: string,
  request: { headers: Headers; body: Uint8Array },
): string[] {
  const keys = [`${route}:${deliveryId}`];
  if (provider === 'github') {
    const signature = request.headers.get('x-hub-signature-256')?.trim().toLowerCase() ?? '';
    const hash = createHash('sha256').update(signature).update('\n').update(request.body);
    keys.push(`github:sig:${hash.digest('hex')}`);
  } else if (provider === 'generic') {
    keys.push(`generic:${deliveryId}`);
  }
  return keys;
}
