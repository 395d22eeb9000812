/**
 * Batch API (`POST /api/now/v1/batch`, ServiceNowDocs rest-apis/batch-api.md): each item of
 * `rest_requests` (`id, method, url, headers[{name,value}], body` base64) runs as a request of
 * its own, with the batch's credentials and under the same ACLs, and comes back in
 * `serviced_requests` (`id, status_code, status_text, headers, body` base64, `execution_time`).
 * pysnc sends its `update_multiple`, `delete_multiple` and very long queries this way.
 *
 * @module
 */
import { STATUS_CODES } from 'node:http';
import { Hono } from 'hono';
import { badJson, fail, jsonObject, type SandboxEnv } from './http.js';

/** Runs one item through the whole app, with the batch request's node bindings. */
type Fetch = (request: Request, env: SandboxEnv['Bindings']) => Response | Promise<Response>;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  body?: string;
  exclude_response_headers?: boolean;
}

function item(raw: unknown): BatchItem | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string')
    return undefined;
  if (!r.url.startsWith('/')) return undefined;
  const headers = Array.isArray(r.headers)
    ? (r.headers as unknown[]).flatMap((h) => {
        const o = (h ?? {}) as Record<string, unknown>;
        return typeof o.name === 'string' && typeof o.value === 'string'
          ? [{ name: o.name, value: o.value }]
          : [];
      })
    : [];
  return {
    id: r.id,
    method: r.method.toUpperCase(),
    url: r.url,
    headers,
    ...(typeof r.body === 'string' ? { body: r.body } : {}),
    exclude_response_headers: r.exclude_response_headers === true,
  };
}

/** Build the Batch router (mount at `/api/now/v1/batch`); `dispatch` runs one item. */
export function batchRoutes(dispatch: Fetch): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  app.post('/', async (c) => {
    const body = await jsonObject(c);
    if (!body) return badJson(c);
    if (!Array.isArray(body.rest_requests)) {
      return fail(c, 400, 'Invalid batch request', 'rest_requests is required (an array)');
    }
    const items = (body.rest_requests as unknown[]).map(item);
    const bad = items.findIndex((i) => !i);
    if (bad >= 0) {
      return fail(
        c,
        400,
        'Invalid batch request',
        `rest_requests[${bad}] needs id, method and a relative url`,
      );
    }
    const origin = new URL(c.req.url).origin;
    const authorization = c.req.header('authorization') ?? '';
    const serviced = [];
    for (const it of items as BatchItem[]) {
      const started = Date.now();
      const headers = new Headers(it.headers.map((h) => [h.name, h.value] as [string, string]));
      if (!headers.has('authorization')) headers.set('authorization', authorization);
      const res = await dispatch(
        new Request(`${origin}${it.url}`, {
          method: it.method,
          headers,
          ...(it.body !== undefined && it.method !== 'GET' && it.method !== 'HEAD'
            ? { body: Buffer.from(it.body, 'base64') }
            : {}),
        }),
        c.env,
      );
      const bytes = Buffer.from(await res.arrayBuffer());
      serviced.push({
        id: it.id,
        body: bytes.toString('base64'),
        status_code: res.status,
        status_text: STATUS_CODES[res.status] ?? '',
        headers: it.exclude_response_headers
          ? []
          : [...res.headers.entries()].map(([name, value]) => ({ name, value })),
        execution_time: Date.now() - started,
      });
    }
    return c.json({
      batch_request_id: String(body.batch_request_id ?? ''),
      serviced_requests: serviced,
      unserviced_requests: [],
    });
  });
  return app;
}
