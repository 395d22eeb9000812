import type { z } from 'zod';
import { PROVIDERS } from './index.js';
import type { GateLimit, Provider } from './types.js';

/**
 * The `sources:` and `ci:` config shapes and the gate limits, read off `PROVIDERS`: what
 * `src/config/` assembles, typed per key.
 *
 * @module
 */

type Listed = (typeof PROVIDERS)[number];

/** `sources.<key>` of every provider. */
export type SourcesShape = {
  [P in Listed as P extends Provider<infer K, z.ZodType> ? K : never]: P extends Provider<
    string,
    infer S
  >
    ? S
    : never;
};

/** `ci.<key>` of every provider with a callback. */
export type CiShape = {
  [P in Listed as P extends Provider<string, z.ZodType, infer K> ? K : never]: P extends Provider<
    string,
    z.ZodType,
    string,
    infer S
  >
    ? S
    : never;
};

export function sourcesShape(): SourcesShape {
  const shape: Record<string, z.ZodType> = {};
  for (const p of PROVIDERS) shape[p.source.key] = p.source.schema;
  return shape as SourcesShape;
}

export function ciShape(): CiShape {
  const shape: Record<string, z.ZodType> = {};
  for (const p of PROVIDERS as readonly Provider[]) if (p.ci) shape[p.ci.key] = p.ci.schema;
  return shape as CiShape;
}

/** Limits by provider name, tightest first. */
export function gateLimits(): Readonly<Record<string, GateLimit>> {
  const limited = (PROVIDERS as readonly Provider[]).filter((p) => p.gateLimit);
  limited.sort((a, b) => a.gateLimit!.minutes - b.gateLimit!.minutes);
  return Object.fromEntries(limited.map((p) => [p.name, p.gateLimit!]));
}
