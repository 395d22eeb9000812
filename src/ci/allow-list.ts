import { isIP } from 'node:net';

/**
 * The SSRF guard for callback URLs. Callback URLs arrive inside webhooks, so they are input: a
 * URL is called only when it matches a configured entry. Pure; the caller turns a refusal into
 * a `CallbackRefusedError` and also fetches with `redirect: 'manual'`, so an allowed host
 * cannot bounce the request elsewhere.
 *
 * @module
 */

export interface AllowListPolicy {
  /** URL prefixes (`https://host/path/`) or host patterns (`host`, `*.domain`, `host:port`). */
  allowList: readonly string[];
  /** Loopback URLs (http or https) pass without an entry: tests and the demo. */
  allowLoopback: boolean;
}

export type AllowVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** True for `localhost`, 127.0.0.0/8 and ::1 (as `URL` spells hosts: IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : protocol === 'http:' ? '80' : '';
}

/** `host[:port]` with the scheme's default port spelled out, so `a.com` and `a.com:443` agree. */
function hostPort(u: URL): string {
  return `${u.hostname}:${u.port || defaultPort(u.protocol)}`;
}

function matchesPrefix(url: URL, entry: string): boolean {
  const prefix = new URL(entry);
  if (prefix.protocol !== url.protocol || hostPort(prefix) !== hostPort(url)) return false;
  const base = prefix.pathname;
  // Segment boundary: `/projects/1` must not admit `/projects/12`.
  return url.pathname === base || url.pathname.startsWith(base.endsWith('/') ? base : `${base}/`);
}

function matchesHostPattern(url: URL, pattern: string): boolean {
  const p = pattern.toLowerCase();
  const colon = p.lastIndexOf(':');
  const [hostPat, port] = colon > 0 ? [p.slice(0, colon), p.slice(colon + 1)] : [p, undefined];
  if (port !== undefined && port !== (url.port || defaultPort(url.protocol))) return false;
  if (port === undefined && url.port && url.port !== defaultPort(url.protocol)) return false;
  const host = url.hostname;
  if (hostPat.startsWith('*.')) {
    const suffix = hostPat.slice(1); // ".example.com": subdomains only, not the apex
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return host === hostPat;
}

/**
 * Decide whether a callback URL may be called.
 * @example checkCallbackUrl('https://gitlab.example.com/api/v4/projects/1/deployments/2/approval',
 *   { allowList: ['gitlab.example.com'], allowLoopback: false }) // { ok: true, url }
 */
export function checkCallbackUrl(raw: string, policy: AllowListPolicy): AllowVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  // `https://allowed.com@evil.com/` has host evil.com; refusing userinfo outright also keeps
  // credentials out of URLs that end up in logs.
  if (url.username || url.password) return { ok: false, reason: 'userinfo in URL' };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: `scheme ${url.protocol} not allowed` };
  }
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && policy.allowLoopback) return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, reason: 'https required' };
  for (const entry of policy.allowList) {
    const hit = entry.includes('://') ? matchesPrefix(url, entry) : matchesHostPattern(url, entry);
    if (hit) return { ok: true, url };
  }
  return { ok: false, reason: `${url.host} matches no ci.allowList entry` };
}
