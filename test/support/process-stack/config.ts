import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../../src/config/schema.js';
import type { ServiceNowConnectionInput } from '../../../src/config/servicenow.js';
import type { CiEmulatorAnnouncement } from '../../../src/sandbox/ci/cli.js';
import { STACK_SECRETS } from './secrets.js';

/**
 * The config files of a process stack's receiver and workers: the same bus, sources, CI
 * credentials and policies for both; the ServiceNow connection for the workers only.
 *
 * @module
 */

/** What a suite decides about its deployments: which need a CR, a gate, an incident. */
export type StackPolicies = Pick<ConfigInput, 'changes' | 'gates' | 'incidents'>;

/** The ServiceNow connection's tuning (timeouts, retry); url and auth come from the stack. */
export type ServiceNowTuning = Omit<ServiceNowConnectionInput, 'url' | 'auth'>;

export interface StackConfigOptions {
  brokers: string[];
  topics: Record<string, string>;
  partitions: number;
  clientId: string;
  /** Consumer group ids prefixed (on a broker other runs share); the defaults otherwise. */
  groupPrefix?: string;
  ci: CiEmulatorAnnouncement;
  servicenowUrl: string;
  oauth: { clientId: string; clientSecret: string };
  receiverPort: number;
  policies: StackPolicies;
  servicenow: ServiceNowTuning;
}

/**
 * The receiver's and the workers' config, as objects to write out with {@link writeConfig}.
 * @throws Error when the CI emulator's announcement lacks the GitHub App key
 */
export function stackConfigs({
  brokers,
  topics,
  partitions,
  clientId,
  groupPrefix,
  ci,
  servicenowUrl,
  oauth,
  receiverPort,
  policies,
  servicenow,
}: StackConfigOptions) {
  const ciHost = new URL(ci.url).host;
  // `sandbox ci` generates the App key and announces it; the workers sign installation tokens.
  const privateKey = ci.credentials.githubAppPrivateKey;
  if (!privateKey) throw new Error('[process-stack] the CI emulator announced no GitHub App key');
  const common = {
    bus: 'kafka',
    log: { level: 'info' },
    kafka: { brokers, clientId, topics, partitions, ...(groupPrefix ? { groupPrefix } : {}) },
    sources: {
      github: { secrets: [STACK_SECRETS.github] },
      gitlab: { tokens: [STACK_SECRETS.gitlab] },
      jenkins: { secrets: [STACK_SECRETS.whsec] },
      azureDevops: { basic: [`${STACK_SECRETS.azureUser}:${STACK_SECRETS.azurePassword}`] },
      servicenow: { secrets: [STACK_SECRETS.whsec] },
    },
    // Shared: the receiver seals Azure job tokens, the worker opens them.
    security: { encryptionKey: randomBytes(32).toString('base64') },
    ci: {
      allowLoopback: true,
      github: {
        appId: ci.credentials.githubAppId,
        privateKey,
        apiUrl: ci.url,
      },
      gitlab: { [ciHost]: { token: ci.credentials.gitlabToken } },
      jenkins: {
        [ciHost]: { user: ci.credentials.jenkinsUser, apiToken: ci.credentials.jenkinsToken },
      },
    },
    ...policies,
  } satisfies ConfigInput;
  return {
    // No ServiceNow connection: `start` then runs the receiver only, so the change and gate
    // workers live in the worker processes alone, as in production.
    receiver: { ...common, server: { port: receiverPort, host: '127.0.0.1' } },
    worker: {
      ...common,
      servicenow: {
        connections: {
          main: {
            url: servicenowUrl,
            auth: { type: 'oauth', ...oauth },
            // The sandbox is local: the production default (20/s) would queue the latency test.
            rateLimit: { requestsPerSecond: 2000, burst: 2000 },
            ...servicenow,
          },
        },
      },
    } satisfies ConfigInput,
  };
}

/** Write `config` as `<dir>/<name>.yaml`; returns the path. */
export function writeConfig(dir: string, name: string, config: ConfigInput): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}
