import { randomUUID } from 'node:crypto';
import { signGithub } from './receiver/sign.js';

/**
 * The emulated GitHub App's webhook: it sends deliveries the way GitHub does and keeps the
 * delivery log that "REST API endpoints for GitHub App webhooks" serves
 * (https://docs.github.com/en/rest/apps/webhooks; operations apps/list-webhook-deliveries,
 * apps/get-webhook-delivery, apps/redeliver-webhook-delivery in `@octokit/openapi`):
 * - a delivery has a new numeric `id`; a redelivery keeps the event's `guid` (sent as
 *   `X-GitHub-Delivery`), has `redelivery: true` and the same bytes
 *   (components/schemas/hook-delivery-item, and the description's examples: two deliveries of one
 *   guid, the second `redelivery: true`);
 * - `status` is `OK` for a 2xx answer; GitHub documents no list of the other values. The schema's
 *   example is "failed to connect" with 502, which this emulator uses when the target cannot be
 *   reached; for an HTTP error answer it writes `Invalid HTTP Response: <code>` (not confirmed
 *   against GitHub);
 * - GitHub records a delivery as failed when the server takes longer than 10 s (github/docs
 *   content/webhooks/using-webhooks/handling-failed-webhook-deliveries.md).
 * The list is newest first, as GitHub's own redelivery script assumes (github/docs
 * content/webhooks/using-webhooks/automatically-redelivering-failed-deliveries-for-a-github-app-webhook.md:
 * "oldestDeliveryTimestamp = … data[data.length - 1].delivered_at").
 *
 * @module
 */

const TIMEOUT_MS = 10_000;

export interface HookTarget {
  url: string;
  secret: string;
}

export interface HookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: string | null;
  url: string;
  request: { headers: Record<string, string>; payload: Record<string, unknown> };
  response: { headers: Record<string, string>; payload: string | null };
}

/** The list item (`hook-delivery-item`): a delivery without request, response and url. */
export function deliveryItem(d: HookDelivery) {
  const { request: _request, response: _response, url: _url, ...item } = d;
  return item;
}

export interface HookSender {
  configure(target: HookTarget): void;
  /** Send a new delivery of `event` (a new guid). */
  deliver(event: string, payload: Record<string, unknown>): Promise<HookDelivery>;
  /** Send delivery `id` again (same guid and bytes); undefined when there is no such delivery. */
  redeliver(id: number): Promise<HookDelivery | undefined>;
  /** Newest first. */
  log(): HookDelivery[];
  get(id: number): HookDelivery | undefined;
}

const numberAt = (payload: Record<string, unknown>, key: string): number | null => {
  const v = (payload[key] as { id?: unknown } | undefined)?.id;
  return typeof v === 'number' ? v : null;
};

export function createHookSender(hookId = 498_123_456): HookSender {
  let target: HookTarget | undefined;
  const deliveries: HookDelivery[] = [];
  let nextId = 12_000_000_001;

  async function send(
    event: string,
    payload: Record<string, unknown>,
    guid: string,
    redelivery: boolean,
  ): Promise<HookDelivery> {
    if (!target) throw new Error('[changegate/sandbox/ci] github webhook has no target URL');
    const body = JSON.stringify(payload);
    const installation = numberAt(payload, 'installation');
    const headers: Record<string, string> = {
      Accept: '*/*',
      'content-type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/changegate-emulator',
      'X-GitHub-Delivery': guid,
      'X-GitHub-Event': event,
      'X-GitHub-Hook-ID': String(hookId),
      'X-GitHub-Hook-Installation-Target-ID': String(installation ?? 0),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
      'X-Hub-Signature-256': signGithub(target.secret, body),
    };
    const started = performance.now();
    let status = 'OK';
    let statusCode = 0;
    let responseHeaders: Record<string, string> = {};
    let responseText: string | null = null;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      statusCode = res.status;
      responseHeaders = Object.fromEntries(res.headers);
      responseText = await res.text();
      if (res.status < 200 || res.status > 299) status = `Invalid HTTP Response: ${res.status}`;
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      status = timedOut ? 'timed out' : 'failed to connect';
      statusCode = 502;
    }
    const delivery: HookDelivery = {
      id: nextId++,
      guid,
      delivered_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      redelivery,
      duration: Math.round(performance.now() - started) / 1000,
      status,
      status_code: statusCode,
      event,
      action: typeof payload.action === 'string' ? payload.action : null,
      installation_id: installation,
      repository_id: numberAt(payload, 'repository'),
      throttled_at: null,
      url: target.url,
      request: { headers, payload },
      response: { headers: responseHeaders, payload: responseText },
    };
    deliveries.unshift(delivery);
    return delivery;
  }

  return {
    configure(t) {
      target = t;
    },
    deliver: (event, payload) => send(event, payload, randomUUID(), false),
    async redeliver(id) {
      const original = deliveries.find((d) => d.id === id);
      if (!original) return undefined;
      return send(original.event, original.request.payload, original.guid, true);
    },
    log: () => [...deliveries],
    get: (id) => deliveries.find((d) => d.id === id),
  };
}
