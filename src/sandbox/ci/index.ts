import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { mountEmulatorAdmin } from './admin.js';
import { mountAzureDevops, type AzureEmulator } from '../../providers/azure-devops/emulator.js';
import { mountGeneric, type GenericEmulator } from '../../providers/generic/emulator.js';
import { mountGithub, type GithubEmulator } from '../../providers/github/emulator.js';
import { mountGitlab, type GitlabEmulator } from '../../providers/gitlab/emulator.js';
import { mountJenkins, type JenkinsEmulator } from '../../providers/jenkins/emulator.js';
import { generateGithubAppKey } from '../../providers/github/emulator-keys.js';
import { createRecorder, type CiProvider, type ReceivedCall } from './recorder.js';

/**
 * CI emulators: ONE real HTTP server that plays GitHub, GitLab, Azure DevOps, Jenkins and a
 * generic Standard-Webhooks receiver, for tests, the demo and benchmarks. It knows which gates
 * are pending (register them first), answers like the real systems do on a repeat, and records
 * every call so a test can assert "released exactly once".
 *
 * @module
 */

export type { CiProvider, Effect, ReceivedCall } from './recorder.js';
export type { AzurePendingCheck } from '../../providers/azure-devops/emulator.js';
export type { RateLimitFault } from '../../providers/github/emulator-rate-limit.js';
export type { HookDelivery, HookTarget } from '../../providers/github/emulator-hooks.js';
export { generateGithubAppKey, type GithubAppKey } from '../../providers/github/emulator-keys.js';

export interface CiEmulatorOptions {
  /** 0 (default) picks a free port. Binds 127.0.0.1 only. */
  port?: number;
  /** SPKI PEM. Omitted: the emulator makes a key pair and exposes the private key. */
  githubAppPublicKey?: string;
  githubAppId?: string;
  gitlabToken?: string;
  jenkinsUser?: string;
  jenkinsToken?: string;
  /** Demand the CSRF crumb flow on Jenkins POSTs (off: API-token requests are exempt). */
  jenkinsRequireCrumb?: boolean;
  /** Play a Jenkins served under a context path (`--prefix=/jenkins`). */
  jenkinsContextPath?: string;
  /** Play an Azure DevOps Server whose highest REST API version is this (`6.0`, `7.0`). */
  azureMaxApiVersion?: string;
  /** whsec_… Omitted: a random one. */
  genericSecret?: string;
}

export interface CiEmulator {
  /** `http://127.0.0.1:<port>`: also the GitHub `apiUrl`. */
  url: string;
  close(): Promise<void>;
  received(): ReceivedCall[];
  waitFor(predicate: (call: ReceivedCall) => boolean, timeoutMs: number): Promise<ReceivedCall>;
  /** The next `times` calls to `provider` get `status` and change nothing (e.g. 503). */
  failNext(provider: CiProvider, status: number, times?: number): void;
  /** Forget recorded calls and queued faults (pending gates stay). */
  reset(): void;
  github: GithubEmulator;
  gitlab: GitlabEmulator;
  azure: AzureEmulator;
  jenkins: JenkinsEmulator;
  generic: GenericEmulator;
  /** What clients need to talk to this emulator. */
  credentials: {
    githubAppId: string;
    /** Only when the emulator generated the App key. */
    githubAppPrivateKey?: string;
    gitlabToken: string;
    jenkinsUser: string;
    jenkinsToken: string;
    genericSecret: string;
  };
}

/**
 * @example
 * const ci = await startCiEmulator()
 * const { hook, jobId } = await ci.gitlab.pipeline({ projectId: 12 })
 * // … post `hook` as a Pipeline Hook, decide …
 * expect(ci.received().filter((c) => c.effect === 'released')).toHaveLength(1)
 * await ci.close()
 */
export async function startCiEmulator(options: CiEmulatorOptions = {}): Promise<CiEmulator> {
  const generated = options.githubAppPublicKey ? undefined : await generateGithubAppKey();
  const credentials = {
    githubAppId: options.githubAppId ?? '424242',
    ...(generated ? { githubAppPrivateKey: generated.privateKeyPem } : {}),
    gitlabToken: options.gitlabToken ?? `glpat-${randomBytes(10).toString('hex')}`,
    jenkinsUser: options.jenkinsUser ?? 'changegate',
    jenkinsToken: options.jenkinsToken ?? randomBytes(16).toString('hex'),
    genericSecret: options.genericSecret ?? `whsec_${randomBytes(32).toString('base64')}`,
  };
  let url = '';
  const baseUrl = () => url;
  const rec = createRecorder();
  const app = new Hono();
  const github = mountGithub(app, rec, {
    publicKeyPem: options.githubAppPublicKey ?? generated!.publicKeyPem,
    appId: credentials.githubAppId,
    baseUrl,
  });
  const gitlab = mountGitlab(app, rec, { token: credentials.gitlabToken, baseUrl });
  const jenkins = mountJenkins(app, rec, {
    user: credentials.jenkinsUser,
    token: credentials.jenkinsToken,
    requireCrumb: options.jenkinsRequireCrumb ?? false,
    baseUrl,
    ...(options.jenkinsContextPath ? { contextPath: options.jenkinsContextPath } : {}),
  });
  const generic = mountGeneric(app, rec, { secret: credentials.genericSecret, baseUrl });
  // Last: its `/:project/…` pattern is the loosest.
  const azure = mountAzureDevops(app, rec, {
    baseUrl,
    ...(options.azureMaxApiVersion ? { maxApiVersion: options.azureMaxApiVersion } : {}),
  });
  // Control surface for tests in another process (`changegate sandbox ci`).
  mountEmulatorAdmin(app, { rec, github, gitlab, azure, jenkins, generic });

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, () =>
      resolve(s),
    );
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets would hold close() open until they time out.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    received: rec.received,
    waitFor: rec.waitFor,
    failNext: rec.failNext,
    reset: rec.reset,
    github,
    gitlab,
    azure,
    jenkins,
    generic,
    credentials,
  };
}
