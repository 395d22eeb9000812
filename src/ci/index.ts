import type { CiConfig } from '../config/ci.js';
import { coerceError } from '../errors.js';
import type { Callback } from '../events/common.js';
import type { Sealer } from '../security/seal.js';
import { checkCallbackUrl } from './allow-list.js';
import { createAzureDevopsClient } from '../providers/azure-devops/callback.js';
import { CallbackRefusedError } from './errors.js';
import { allowedBlockList, createGuardedFetch, vetHost, type Resolve } from './address-guard.js';
import { createGenericClient, genericAllowPolicy } from '../providers/generic/callback.js';
import { NO_COMMIT_MESSAGES, type CommitMessages } from './commits.js';
import { createInstallationTokens } from '../providers/github/app.js';
import { createGithubCommits } from '../providers/github/commits.js';
import { createGithubClient } from '../providers/github/callback.js';
import { createGitlabClient } from '../providers/gitlab/callback.js';
import { createJenkinsClient } from '../providers/jenkins/callback.js';
import {
  SILENT_LOG,
  type CallbackClient,
  type CiLog,
  type DecideResult,
  type Decision,
} from './port.js';

/**
 * CI callback clients behind one `decide()`: allow-list first, then the provider named by
 * `callback.kind`. Workers import this; it knows no policy.
 *
 * @module
 */

export { CallbackRefusedError } from './errors.js';
export { checkCallbackUrl, type AllowListPolicy } from './allow-list.js';
export type { CallbackClient, CiLog, DecideResult, Decision, Outcome } from './port.js';
export type { CommitMessages, CommitRef } from './commits.js';

export interface CallbackClients {
  /**
   * Release or reject the gate behind `callback`.
   * @throws CallbackRefusedError (not retryable) before any request when the URL is refused.
   * @throws UpstreamError with `retryable` for HTTP and network failures.
   */
  decide(callback: Callback, decision: Decision): Promise<DecideResult>;
  /** Post a status line while the gate waits. False where the provider has no such thing. */
  comment(callback: Callback, text: string): Promise<boolean>;
  /** Commit messages the webhook payload did not carry (GitHub only; unknown elsewhere). */
  commits: CommitMessages;
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
  // One token cache for the callback and the commit reads: one exchange per installation.
  const githubTokens = config.github ? createInstallationTokens(config.github, http) : undefined;
  const clients: Record<Callback['kind'], CallbackClient | undefined> = {
    github:
      config.github && githubTokens
        ? createGithubClient(config.github, { ...http, tokens: githubTokens })
        : undefined,
    gitlab: createGitlabClient({ tokens: config.gitlab }, http),
    'azure-devops': createAzureDevopsClient(
      {
        sealer,
        ...(config.azureDevops.apiVersion ? { apiVersion: config.azureDevops.apiVersion } : {}),
      },
      http,
    ),
    jenkins: createJenkinsClient({ credentials: config.jenkins }, http),
    generic: createGenericClient(config.generic ?? {}, http),
  };

  /** Name first (allow-list), then the addresses it resolves to: refusals here are final. */
  async function clientFor(callback: Callback): Promise<CallbackClient> {
    const policy =
      callback.kind === 'generic' ? genericAllowPolicy(callback, config.generic, config) : config;
    const verdict = checkCallbackUrl(callback.url, policy);
    if (!verdict.ok) throw new CallbackRefusedError(verdict.reason);
    const client = clients[callback.kind];
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

  const commits =
    config.github && githubTokens
      ? createGithubCommits(config.github, {
          ...http,
          tokens: githubTokens,
          appJwt: () => githubTokens.appJwt(),
        })
      : NO_COMMIT_MESSAGES;

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
