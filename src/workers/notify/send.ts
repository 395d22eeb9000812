import type { NotifyChannel } from '../../config/notify.js';
import { UpstreamError, coerceError } from '../../errors.js';
import type { ChannelRequest } from './channels.js';

/**
 * POST one chat message. The webhook URL is the credential (anyone holding it can post), so it
 * appears in no message or log: errors name the channel, never the URL. Redirects are not
 * followed; 429 and 5xx are retried with backoff honouring `Retry-After`.
 *
 * @module
 */

const PREFIX = '[changegate/workers/notify]';
const MAX_RETRY_AFTER_MS = 60_000;

export interface SendOptions {
  timeoutMs: number;
  attempts: number;
  fetchImpl?: typeof fetch;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `Retry-After` in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * @returns the HTTP status of the accepted request.
 * @throws UpstreamError naming the channel when every attempt failed or the answer is final.
 */
export async function sendToChannel(
  channel: NotifyChannel,
  request: ChannelRequest,
  { timeoutMs, attempts, fetchImpl = fetch, baseDelayMs = 250, sleep = defaultSleep }: SendOptions,
): Promise<number> {
  let last: UpstreamError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let wait = Math.random() * baseDelayMs * 2 ** (attempt - 1);
    try {
      const res = await fetchImpl(channel.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return res.status;
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      const detail = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      last = new UpstreamError(
        `${PREFIX} channel ${channel.name} (${channel.kind}) answered HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
        { retryable, upstreamStatus: res.status },
      );
      if (!retryable) throw last;
      wait = Math.min(MAX_RETRY_AFTER_MS, retryAfterMs(res.headers.get('retry-after')) ?? wait);
    } catch (err) {
      if (err === last) throw err;
      const e = coerceError(err);
      const what = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : e.name;
      // e.message of a fetch failure may quote the URL: keep only its name.
      last = new UpstreamError(
        `${PREFIX} channel ${channel.name} (${channel.kind}) unreachable: ${what}`,
        {
          retryable: true,
        },
      );
    }
    if (attempt < attempts) await sleep(wait);
  }
  throw last!;
}
