import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './address-guard.js';

/**
 * A `fetch` for CI callbacks that connects only to addresses vetted beforehand
 * (address-guard.ts). A plain `fetch(url)` resolves the name again when it connects, so a name
 * that answered with a public address for the check could answer 127.0.0.1 for the connection
 * (DNS rebinding). Here node:http(s) gets a `lookup` that returns the vetted address and never
 * asks DNS; TLS still verifies the certificate against the URL's host name (SNI and the check
 * use the name, not the address).
 *
 * Only what the callback clients use: string URL, method, headers, string body, signal;
 * redirects are returned, never followed (like `redirect: 'manual'`). The reply body is capped.
 *
 * @module
 */

const MAX_REPLY_BYTES = 1024 * 1024;

export type PinnedFetch = (
  url: string,
  init: RequestInit,
  to: ResolvedAddress,
) => Promise<Response>;

export const pinnedFetch: PinnedFetch = (url, init, to) =>
  new Promise<Response>((resolve, reject) => {
    const target = new URL(url);
    const lookup: LookupFunction = (_host, options, callback) => {
      if (options.all) callback(null, [{ address: to.address, family: to.family }]);
      else callback(null, to.address, to.family);
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = new Headers(init.headers);
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (body !== undefined && !headers.has('content-length'))
      headers.set('content-length', String(Buffer.byteLength(body)));
    const req = send(
      target,
      {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers),
        lookup,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) res.destroy(new Error('callback reply too large'));
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          const replyHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) replyHeaders.append(name, v);
          }
          const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
          resolve(
            new Response(noBody ? null : Buffer.concat(chunks), {
              status,
              ...(res.statusMessage ? { statusText: res.statusMessage } : {}),
              headers: replyHeaders,
            }),
          );
        });
      },
    );
    // An abort (the callers' AbortSignal.timeout) rejects with the signal's reason, as fetch
    // does, so a timeout still reads as one.
    req.on('error', (err) => reject(init.signal?.aborted ? (init.signal.reason as Error) : err));
    req.end(body);
  });
