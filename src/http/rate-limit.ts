import type { Context, MiddlewareHandler } from 'hono';

/**
 * Per-source token bucket for the webhook routes: a sender that floods gets 429 with
 * `Retry-After`, everyone else keeps their own budget. The source is the route's source
 * (`github`, `generic/<name>` for configured names, `generic/*` for any other) plus the client
 * address, so a flood of forged requests to one
 * route does not spend the budget of the real sender of that route. It runs before the body is
 * read or a signature checked: refusing must cost less than accepting.
 *
 * In memory, per process: with N receivers behind a load balancer the effective budget is up to
 * N × the configured one. Behind a proxy every client has the proxy's address; the route part
 * still isolates sources from each other.
 *
 * @module
 */

export interface RateLimitOptions {
  /** Tokens added per second, per source. */
  perSourcePerSecond: number;
  /** Bucket size: how many requests a quiet source may send at once. */
  burst: number;
  /** Buckets kept at most; full (idle) buckets are dropped first. Default 10 000. */
  maxSources?: number;
  clock?: () => number;
  onLimited?: (source: string) => void;
}

export interface RateLimitMiddlewareOptions extends RateLimitOptions {
  /** The route's source name from the path; only configured names, see source-label.ts. */
  label: (path: string) => string;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The token bucket itself, apart from HTTP, so its arithmetic is testable. */
export function createTokenBuckets({
  perSourcePerSecond,
  burst,
  maxSources = 10_000,
  clock = Date.now,
}: RateLimitOptions) {
  const buckets = new Map<string, Bucket>();
  const refill = (b: Bucket, now: number) => {
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSourcePerSecond);
    b.at = now;
  };
  const prune = (now: number) => {
    for (const [key, b] of buckets) {
      refill(b, now);
      if (b.tokens >= burst) buckets.delete(key);
    }
    // Still full of busy sources: forget the ones seen longest ago (Map keeps insertion order).
    while (buckets.size >= maxSources) buckets.delete(buckets.keys().next().value!);
  };
  return {
    /** Take one token: 0 when allowed, else the seconds until one is available. */
    take(source: string): number {
      const now = clock();
      let b = buckets.get(source);
      if (!b) {
        if (buckets.size >= maxSources) prune(now);
        b = { tokens: burst, at: now };
        buckets.set(source, b);
      } else refill(b, now);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perSourcePerSecond));
    },
    size: () => buckets.size,
  };
}

/** The client address on @hono/node-server (`c.env.incoming`), or undefined elsewhere. */
function clientAddress(c: Context): string | undefined {
  const env = c.env as
    { incoming?: { socket?: { remoteAddress?: string } }; server?: unknown } | undefined;
  const bindings = (env?.server ?? env) as typeof env;
  return bindings?.incoming?.socket?.remoteAddress;
}

/**
 * Hono middleware answering 429 `{ error: 'rate_limited' }` with `Retry-After` (seconds) to a
 * source over its budget.
 * @example app.use('*', rateLimit({ perSourcePerSecond: 50, burst: 100, label }))
 */
export function rateLimit(options: RateLimitMiddlewareOptions): MiddlewareHandler {
  const buckets = createTokenBuckets(options);
  return async (c, next) => {
    const route = options.label(c.req.path);
    const source = `${route}|${clientAddress(c) ?? 'unknown'}`;
    const wait = buckets.take(source);
    if (wait === 0) return next();
    options.onLimited?.(route);
    c.header('Retry-After', String(wait));
    return c.json(
      { error: 'rate_limited', message: `too many requests from this source; retry in ${wait} s` },
      429,
    );
  };
}
