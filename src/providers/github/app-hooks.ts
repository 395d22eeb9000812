import { z } from 'zod';
import { GITHUB_HEADERS } from './app.js';
import { failure, joinUrl, send, type HttpDeps } from '../../ci/http.js';

/**
 * The GitHub App's own webhook deliveries, read and redelivered with the App JWT
 * ("REST API endpoints for GitHub App webhooks", https://docs.github.com/en/rest/apps/webhooks):
 * - `GET /app/hook/deliveries?per_page=100[&cursor=…]` (apps/list-webhook-deliveries): newest
 *   first; the next page is the `Link` header's `rel="next"` URL;
 * - `POST /app/hook/deliveries/{delivery_id}/attempts` (apps/redeliver-webhook-delivery): 202.
 *
 * @module
 */

const PROVIDER = 'github';
const PER_PAGE = 100;
/** A bound on paging, so a misbehaving `Link` can never loop forever (100 000 deliveries). */
const MAX_PAGES = 1000;

/** `#/components/schemas/hook-delivery-item`: the fields recovery reads. */
export const HookDeliveryItem = z.object({
  id: z.number().int(),
  guid: z.string().min(1),
  delivered_at: z.string(),
  redelivery: z.boolean(),
  status: z.string(),
  status_code: z.number().int(),
  event: z.string(),
  action: z.string().nullish(),
});
export type HookDeliveryItem = z.infer<typeof HookDeliveryItem>;

export interface GithubAppHooks {
  /** Every delivery made at or after `fromMs` (epoch ms), newest first. */
  deliveriesFrom(fromMs: number): Promise<HookDeliveryItem[]>;
  /** Ask GitHub to send delivery `id` again. */
  redeliver(id: number): Promise<void>;
}

const HINTS = {
  401: 'App JWT refused: check ci.github.appId, ci.github.privateKey and this host clock',
  403: 'the GitHub App cannot read its webhook deliveries',
  404: 'the GitHub App has no webhook (or not on this ci.github.apiUrl)',
};

/** The `rel="next"` URL of a `Link` header, if any. */
export function nextLink(link: string | null): string | undefined {
  for (const part of link?.split(',') ?? []) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/** @example createGithubAppHooks({ apiUrl }, { fetchImpl, timeoutMs, appJwt }) */
export function createGithubAppHooks(
  opts: {
    apiUrl: string;
    /** Page size: GitHub's maximum, 100, unless a test wants pages. */
    perPage?: number;
  },
  deps: HttpDeps & { appJwt: () => Promise<string> },
): GithubAppHooks {
  const origin = new URL(opts.apiUrl).origin;
  const headers = async () => ({
    ...GITHUB_HEADERS,
    authorization: `Bearer ${await deps.appJwt()}`,
  });

  return {
    async deliveriesFrom(fromMs) {
      const found: HookDeliveryItem[] = [];
      let url: string | undefined = joinUrl(
        opts.apiUrl,
        `app/hook/deliveries?per_page=${opts.perPage ?? PER_PAGE}`,
      );
      for (let page = 0; url && page < MAX_PAGES; page++) {
        // The App JWT must never leave GitHub's API: follow `Link` only on that origin.
        if (new URL(url).origin !== origin) {
          throw failure(PROVIDER, {
            status: 502,
            text: `Link to another origin: ${new URL(url).origin}`,
          });
        }
        const reply = await send(deps, PROVIDER, url, { method: 'GET', headers: await headers() });
        if (reply.status !== 200) throw failure(PROVIDER, reply, HINTS);
        const items = z.array(HookDeliveryItem).parse(JSON.parse(reply.text));
        for (const item of items) {
          if (Date.parse(item.delivered_at) < fromMs) return found;
          found.push(item);
        }
        url = nextLink(reply.headers.get('link'));
      }
      return found;
    },

    async redeliver(id) {
      const url = joinUrl(opts.apiUrl, `app/hook/deliveries/${id}/attempts`);
      const reply = await send(deps, PROVIDER, url, { method: 'POST', headers: await headers() });
      if (reply.status !== 202 && reply.status !== 200) throw failure(PROVIDER, reply, HINTS);
    },
  };
}
