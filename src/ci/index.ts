import type { CiConfig } from '../config/ci.js';
import { coerceError } from '../errors.js';
import type { Callback } from '../events/common.js';
import { PROVIDERS } from '../providers/index.js';
import type { CallbackParts, Provider } from '../providers/types.js';
import type { Sealer } from '../security/seal.js';
import { checkCallbackUrl, type AllowListPolicy } from './allow-list.js';
import { CallbackRefusedError } from './errors.js';
import { allowedBlockList, createGuardedFetch, vetHost, type Resolve } from './address-guard.js';
import { NO_COMMIT_LOOKUP, type CommitLookup } from './commits.js';
import {
  SILENT_LOG,
  type CallbackClient,
  type CiLog,
  type DecideResult,
  type Decision,
} from './port.js';

/**
 * CI callback clients behind one `decide()`: allow-list first, then the provider named by
 * `callback.kind` (the list in `src/providers/index.ts`). Workers import this; it knows no policy.
 *
 * @module
 */

export { CallbackRefusedError } from './errors.js';
export { checkCallbackUrl, type AllowListPolicy } from './allow-list.js';
export type { CallbackClient, CiLog, DecideResult, Decision, Outcome } from './port.js';
export type { CommitDetails, CommitLookup, CommitRef } from './commits.js';

export interface CallbackClients {
  /**
   * Release or reject the gate behind `callback`.
   * @throws CallbackRefusedError (not retryable) before any request when the URL is refused.
   * @throws UpstreamError with `retryable` for HTTP and network failures.
   */
  decide(callback: Callback, decision: Decision): Promise<DecideResult>;
  /** Post a status line while the gate waits. False where the provider has no such thing. */
  comment(callback: Callback, text: string): Promise<boolean>;
  /** Commits (message, author, committer) the webhook payload did not describe (GitHub only). */
  commits: CommitLookup;
}

export interface CallbackClientsDeps {
  sealer: Sealer;
  /**
   * Replaces the pinned transport (pinned-fetch.ts), e.g. to record requests in tests. Hosts are
   * still resolved and vetted first; the connection is then the given fetch's own.
   */
  fetchImpl?: typeof fetch;
  /** DNS for the address check (default: the system resolver). */
  resolve?: Resolve;
  log?: CiLog;
}

/**
 * @example
 * const ci = createCallbackClients(config.ci, { sealer, log })
 * await ci.decide(event.data.callback, { outcome: 'approve', comment: 'CHG0030001 approved' })
 */
export function createCallbackClients(
  config: CiConfig,
  { sealer, fetchImpl, resolve, log = SILENT_LOG }: CallbackClientsDeps,
): CallbackClients {
  const addressPolicy = {
    allowLoopback: config.allowLoopback,
    allowed: allowedBlockList(config.allowAddresses),
  };
  // Every request the clients make (token exchanges included) goes through the address check.
  const guarded = createGuardedFetch(addressPolicy, { resolve, fetchImpl });
  const http = { fetchImpl: guarded, timeoutMs: config.timeoutMs, log };
  const providers = new Map<string, { provider: Provider; own: unknown; parts: CallbackParts }>();
  for (const provider of PROVIDERS as readonly Provider[]) {
    if (!provider.callback || !provider.ci) continue;
    const own: unknown = config[provider.ci.key as keyof CiConfig];
    providers.set(provider.name, {
      provider,
      own,
      parts: provider.callback(own, { http, sealer }),
    });
  }

  /** Name first (allow-list), then the addresses it resolves to: refusals here are final. */
  async function clientFor(callback: Callback): Promise<CallbackClient> {
    const entry = providers.get(callback.kind);
    const policy: AllowListPolicy = entry?.provider.allowPolicy
      ? entry.provider.allowPolicy(callback, entry.own, config)
      : config;
    const verdict = checkCallbackUrl(callback.url, policy);
    if (!verdict.ok) throw new CallbackRefusedError(verdict.reason);
    const client: CallbackClient | undefined = entry?.parts.client;
    if (!client) throw new CallbackRefusedError(`ci.${callback.kind} is not configured`);
    await vetHost(verdict.url.hostname, addressPolicy, resolve);
    return client;
  }

  /** Host and path only: query strings may carry tokens. */
  const where = (callback: Callback) => {
    try {
      const u = new URL(callback.url);
      return `${u.host}${u.pathname}`;
    } catch {
      return '(not a URL)';
    }
  };

  // GitHub's today: the first provider that can read commit messages.
  const commits =
    [...providers.values()].find((e) => e.parts.commits)?.parts.commits ?? NO_COMMIT_LOOKUP;

  return {
    commits,
    async decide(callback, decision) {
      const started = performance.now();
      try {
        const result = await (await clientFor(callback)).decide(callback, decision);
        log.info(
          {
            provider: callback.kind,
            target: where(callback),
            outcome: decision.outcome,
            ...result,
            ms: Math.round(performance.now() - started),
          },
          'ci callback',
        );
        return result;
      } catch (err) {
        log.warn(
          {
            provider: callback.kind,
            target: where(callback),
            outcome: decision.outcome,
            err: coerceError(err).message,
          },
          'ci callback failed',
        );
        throw err;
      }
    },
    async comment(callback, text) {
      const client = await clientFor(callback);
      if (!client.comment) return false;
      await client.comment(callback, text);
      return true;
    },
  };
}
