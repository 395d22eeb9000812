import type { Config } from '../config/schema.js';

/**
 * The name a webhook route is counted and rate-limited under. Only configured names appear:
 * `/hooks/generic/<name>` is `generic/<name>` when `sources.generic.<name>` exists and
 * `generic/*` otherwise; `/hooks/<provider>` is the provider when it is a receiver and
 * `unknown` otherwise. A path is input: taken as it comes, every random path would mint a
 * metric series and a rate-limit bucket, and an unauthenticated sender could grow both without
 * bound.
 *
 * @module
 */

export type SourceLabeler = (path: string) => string;

/**
 * @param providers the `/hooks/<name>` routes that exist (the receiver registry's keys).
 * @example sourceLabeler(config.sources, ['github', 'generic'])('/hooks/generic/x') // 'generic/*'
 */
export function sourceLabeler(
  sources: Pick<Config['sources'], 'generic'>,
  providers: readonly string[],
): SourceLabeler {
  const generic = new Set(Object.keys(sources.generic).filter((name) => name !== '*'));
  const known = new Set(providers);
  return (path) => {
    const parts = path.split('/').filter(Boolean);
    const i = parts.indexOf('hooks');
    const [provider, name] = i >= 0 ? parts.slice(i + 1) : parts;
    if (provider === 'generic') {
      return name !== undefined && generic.has(decodeSegment(name))
        ? `generic/${decodeSegment(name)}`
        : 'generic/*';
    }
    return provider !== undefined && known.has(provider) ? provider : 'unknown';
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
