import type { z } from 'zod';
import type { AllowListPolicy } from '../ci/allow-list.js';
import type { CommitLookup } from '../ci/commits.js';
import type { HttpDeps } from '../ci/http.js';
import type { CallbackClient, CiLog } from '../ci/port.js';
import type { Callback } from '../events/common.js';
import type { Receiver } from '../receivers/types.js';
import type { Sealer } from '../security/seal.js';

/**
 * What one provider contributes to production: its `/hooks/<name>` receiver, its config
 * fragments, its callback client and its gate time limit. Each `src/providers/<name>/index.ts`
 * exports one; `src/providers/index.ts` lists them. Emulators are not part of it (production
 * never loads them): they register in `src/sandbox/ci/index.ts`.
 *
 * @module
 */

/** What the callback factory gets: the guarded HTTP transport and the credential sealer. */
export interface CallbackContext {
  http: HttpDeps & { log: CiLog };
  sealer: Sealer;
}

/** A provider's callback part. `commits` only where the provider can read commits. */
export interface CallbackParts {
  client?: CallbackClient;
  commits?: CommitLookup;
}

/** A config fragment: `schema` is plugged in under `<section>.<key>` of the YAML. */
export interface ConfigFragment<K extends string = string, S extends z.ZodType = z.ZodType> {
  key: K;
  schema: S;
}

export interface GateLimit {
  minutes: number;
  why: string;
}

export interface Provider<
  SourceKey extends string = string,
  SourceSchema extends z.ZodType = z.ZodType,
  CiKey extends string = string,
  CiSchema extends z.ZodType = z.ZodType,
> {
  /** Route segment under `/hooks/`, and `callback.kind` of the gates it opens. */
  readonly name: string;
  receiver: Receiver<never>;
  /** Answer within this many ms at most, whatever the publish timeout (the sender's own limit). */
  ackWithinMs?: number;
  /** `sources.<key>`: the receiver's secrets. */
  source: ConfigFragment<SourceKey, SourceSchema>;
  /** `ci.<key>`: the callback client's credentials and options. */
  ci?: ConfigFragment<CiKey, CiSchema>;
  /** Builds the callback client from its own `ci.<key>` section. */
  callback?: (config: z.output<CiSchema>, ctx: CallbackContext) => CallbackParts;
  /** Where this provider's callbacks may go, when not simply `ci.allowList`. */
  allowPolicy?: (
    callback: Callback,
    config: z.output<CiSchema>,
    global: AllowListPolicy,
  ) => AllowListPolicy;
  /** How long the provider lets a deployment wait on a gate (longer gate timeouts are refused). */
  gateLimit?: GateLimit;
}

/** Keeps the literal keys, so the config sections built from the list stay typed. */
export function defineProvider<
  const SourceKey extends string,
  SourceSchema extends z.ZodType,
  const CiKey extends string = never,
  CiSchema extends z.ZodType = z.ZodNever,
>(
  provider: Provider<SourceKey, SourceSchema, CiKey, CiSchema>,
): Provider<SourceKey, SourceSchema, CiKey, CiSchema> {
  return provider;
}
