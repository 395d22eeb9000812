import { createHash } from 'node:crypto';
import { firstHeader } from '../../../receivers/parse-payload.js';

/**
 * Headers that name a GitLab delivery, most stable first:
 * - `Idempotency-Key`: the same on every retry of one event to one hook (added for exactly this).
 * - `webhook-id`: the Standard-Webhooks id of signed deliveries, equal to the Idempotency-Key.
 * - `X-Gitlab-Event-UUID`: one per event, seen on older instances.
 * - `X-Gitlab-Webhook-UUID`: one per request; better than nothing for log correlation.
 */
const DELIVERY_HEADERS = [
  'idempotency-key',
  'webhook-id',
  'x-gitlab-event-uuid',
  'x-gitlab-webhook-uuid',
] as const;
const MAX_LENGTH = 200;

/**
 * The dedupe key of a GitLab delivery. When an (older) instance sends none of the id headers, the
 * key is `sha256:<hex of the body>`: a retry re-sends the same bytes, so identical retries still
 * dedupe, while two distinct events practically never share a body (GitLab payloads carry
 * statuses, ids and timestamps). The cost: a byte-identical body sent twice on purpose is
 * published once.
 */
export function gitlabDeliveryId(headers: Headers, body: Uint8Array): string {
  const id = firstHeader(headers, DELIVERY_HEADERS);
  if (id && id.length <= MAX_LENGTH) return id;
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}
