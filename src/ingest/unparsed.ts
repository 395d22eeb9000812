import { createHash } from 'node:crypto';
import { captureRaw, type NormalizedEvent } from '../events/build.js';
import type { WebhookReceivedData } from '../events/cicd.js';
import type { PayloadError } from '../errors.js';

/**
 * A verified delivery that no normalizer could read is still the sender's word: it is accepted
 * and published as `webhook.received` with the reason, never answered 4xx. A 4xx makes GitLab
 * disable the hook after 4 answers in a row, and GitHub and Azure DevOps never send it again.
 *
 * @module
 */

/** Where providers name their event type; the first present wins. */
const EVENT_HEADERS = ['x-github-event', 'x-gitlab-event', 'x-event-key'] as const;
const UNKNOWN = '(unknown)';
const MAX_REASON = 300;

/** A delivery id for an authenticated request whose own id could not be read: its body hash. */
export function bodyDeliveryId(body: Uint8Array): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** `reason: message`, cut to a length that fits a log line and an event field. */
export function describeFailure(err: PayloadError): string {
  const text = `${err.reason}: ${err.message}`;
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/**
 * The `webhook.received` event for a verified delivery that could not be normalized.
 * `json` is the parsed body when it was JSON; otherwise the text is kept (or nothing, when it is
 * not UTF-8), so subscribers still see what was sent.
 */
export function unparsedEvent({
  provider,
  source,
  deliveryId,
  headers,
  body,
  json,
  rawMaxBytes,
  reason,
}: {
  provider: string;
  source?: string | undefined;
  deliveryId: string;
  headers: Headers;
  body: Uint8Array;
  json: { value: unknown } | undefined;
  rawMaxBytes: number;
  reason: string;
}): NormalizedEvent {
  const event = EVENT_HEADERS.map((h) => headers.get(h)?.trim()).find(Boolean) ?? UNKNOWN;
  const key = `${provider}/${source ?? UNKNOWN}/${deliveryId}`;
  let payload: unknown = json?.value;
  if (json === undefined) {
    try {
      payload = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      payload = null;
    }
  }
  return {
    type: 'dev.changegate.webhook.received',
    key,
    subject: key,
    data: {
      provider: provider as WebhookReceivedData['provider'],
      ...(source ? { source } : {}),
      project: UNKNOWN,
      event: event.slice(0, 200),
      deliveryId,
      raw: captureRaw(payload, body.length, rawMaxBytes),
      reason,
    },
  };
}
