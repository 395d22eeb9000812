import type { Context } from 'hono';
import type { CiProvider, Effect, Recorder } from './recorder.js';

/** Shared plumbing of the emulated providers: read, answer and record in one step. */

export interface Exchange {
  provider: CiProvider;
  rec: Recorder;
  c: Context;
  raw: string;
  body: unknown;
}

/** Read the body once (JSON, form or text) so the handler and the record see the same thing. */
export async function open(c: Context, provider: CiProvider, rec: Recorder): Promise<Exchange> {
  const raw = await c.req.text();
  let body: unknown = raw;
  const type = c.req.header('content-type') ?? '';
  if (type.includes('json')) {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
  } else if (type.includes('form-urlencoded')) {
    body = Object.fromEntries(new URLSearchParams(raw));
  }
  return { provider, rec, c, raw, body };
}

/** Answer and record. `payload` undefined means no body (e.g. 204). */
export function reply(
  x: Exchange,
  status: number,
  effect: Effect,
  payload?: unknown,
  headers: Record<string, string> = {},
): Response {
  x.rec.record({
    provider: x.provider,
    method: x.c.req.method,
    path: new URL(x.c.req.url).pathname + new URL(x.c.req.url).search,
    headers: Object.fromEntries(x.c.req.raw.headers),
    body: x.body,
    status,
    effect,
  });
  const isText = typeof payload === 'string';
  return new Response(payload === undefined ? null : isText ? payload : JSON.stringify(payload), {
    status,
    headers: {
      ...(payload === undefined
        ? {}
        : { 'content-type': isText ? 'text/plain' : 'application/json' }),
      ...headers,
    },
  });
}

/** Answer an injected fault, if one is queued for this provider. */
export function fault(x: Exchange): Response | undefined {
  const status = x.rec.takeFault(x.provider);
  return status === undefined
    ? undefined
    : reply(x, status, 'fault', { message: 'injected fault' });
}

/** The password of a Basic header (Azure: any user, token as password) or a Bearer token. */
export function credential(header: string | undefined): { user?: string; secret?: string } {
  if (!header) return {};
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return { secret: value };
  if (scheme?.toLowerCase() !== 'basic') return {};
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? {} : { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
