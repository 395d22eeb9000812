import type { RawRequest } from '../../../src/receivers/types.js';

/**
 * The sending side of every delivery in the fault suite, as a real webhook sender behaves: POST,
 * and on anything but 2xx (a 503, a reset connection, a receiver that is gone) wait and send the
 * same delivery again until it is accepted. It remembers which delivery ids the receiver
 * acknowledged, which is what "lost" is measured against.
 *
 * @module
 */

export interface SendResult {
  status: number;
  attempts: number;
  /** The receiver's delivery id: `ids[0]` of a 202, `deliveryId` of a duplicate 200. */
  deliveryId?: string;
  /** Every event id of a 202 (a delivery may yield several). */
  ids: string[];
}

export interface SenderStats {
  /** Answers by status; `0` is a connection error or timeout (no answer at all). */
  statuses: Map<number, number>;
  accepted: number;
  duplicates: number;
  retries: number;
  gaveUp: number;
}

/** `Retry-After` in ms when present and sane, else undefined. */
function retryAfterMs(res: Response): number | undefined {
  const value = Number(res.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
}

export interface Sender {
  /**
   * Send until a 2xx answer (or `maxAttempts`). `request` is called per attempt, so a Standard
   * Webhooks sender can re-sign with a fresh timestamp under the same id.
   */
  send(url: string, request: () => RawRequest): Promise<SendResult>;
  /** Requests on the wire right now (to kill the receiver mid-request). */
  inFlight(): number;
  /** Delivery ids the receiver acknowledged (202, or 200 for one it already had). */
  acknowledged: Set<string>;
  /** Every event id any 202 named. */
  eventIds: Set<string>;
  stats: SenderStats;
}

/** @example const sender = createSender(); await sender.send(`${url}/hooks/github`, () => req) */
export function createSender({
  maxAttempts = 400,
  maxBackoffMs = 2000,
  requestTimeoutMs = 10_000,
} = {}): Sender {
  const stats: SenderStats = {
    statuses: new Map(),
    accepted: 0,
    duplicates: 0,
    retries: 0,
    gaveUp: 0,
  };
  const acknowledged = new Set<string>();
  const eventIds = new Set<string>();
  let inFlight = 0;
  const count = (status: number) =>
    stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);

  const attempt = async (url: string, request: RawRequest) => {
    inFlight += 1;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await res.text();
      return { res, text };
    } catch {
      return undefined;
    } finally {
      inFlight -= 1;
    }
  };

  return {
    acknowledged,
    eventIds,
    stats,
    inFlight: () => inFlight,
    async send(url, request) {
      for (let n = 1; n <= maxAttempts; n++) {
        const answer = await attempt(url, request());
        const status = answer?.res.status ?? 0;
        count(status);
        if (answer && status >= 200 && status < 300) {
          const body = JSON.parse(answer.text || '{}') as { ids?: string[]; deliveryId?: string };
          const ids = status === 202 ? (body.ids ?? []) : [];
          const deliveryId = ids[0] ?? body.deliveryId;
          if (deliveryId) acknowledged.add(deliveryId);
          for (const id of ids) eventIds.add(id);
          if (status === 202) stats.accepted += 1;
          else stats.duplicates += 1;
          return { status, attempts: n, ids, ...(deliveryId ? { deliveryId } : {}) };
        }
        // A refusal that repeats is a bug in the delivery or the receiver, not a fault to wait out.
        const refused = status >= 400 && status < 500 && status !== 408 && status !== 429;
        if (refused && n >= 5) break;
        stats.retries += 1;
        const backoff = Math.min(maxBackoffMs, 100 * 2 ** Math.min(n, 5));
        const wait = Math.min(maxBackoffMs, (answer && retryAfterMs(answer.res)) ?? backoff);
        await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random() / 2)));
      }
      stats.gaveUp += 1;
      return { status: 0, attempts: maxAttempts, ids: [] };
    },
  };
}
