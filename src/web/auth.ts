import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';

/** The cookie the sign-in form sets, so a browser (and its EventSource) can carry the token. */
export const SESSION_COOKIE = 'changegate_status';

/**
 * Constant-time token check. Both sides are hashed first so the comparison has one length and
 * the token's length is not learned either.
 */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined || presented === '') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The token a request presents: `Authorization: Bearer …` first, else the session cookie. */
export function presentedToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (match) return match[1];
  return getCookie(c, SESSION_COOKIE);
}

/**
 * A state-changing request must come from the page itself. The session cookie is
 * SameSite=Strict already; this also covers the embedded mode, which has no token at all, so a
 * site the user visits cannot post decisions to a demo on localhost.
 */
export function sameOrigin(c: Context): boolean {
  // Browsers say where a request comes from in Sec-Fetch-Site; Origin can be "null" (e.g. under
  // a no-referrer policy), so it is only the fallback for clients that send no fetch metadata.
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = c.req.header('origin');
  return origin === undefined || origin === new URL(c.req.url).origin;
}
