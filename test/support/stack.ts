import { randomBytes } from 'node:crypto';
import { createBus } from '../../src/bus/index.js';
import type { Bus } from '../../src/bus/port.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { startReceiver, type ReceiverRuntime } from '../../src/runtime/receiver.js';
import { startWorkers, type WorkersRuntime } from '../../src/runtime/workers.js';
import { startCiEmulator, type CiEmulator } from '../../src/sandbox/ci/index.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandbox,
} from '../../src/sandbox/servicenow/index.js';
import { prefixedTopics } from './process-stack/topics.js';

export const SECRETS = {
  github: 'gh-secret-of-the-test-stack',
  gitlab: 'gl-token',
  whsec: `whsec_${randomBytes(32).toString('base64')}`,
  azureBasic: 'azure-hook:azure-password',
};

export interface Stack {
  config: Config;
  bus: Bus;
  receiver: ReceiverRuntime;
  workers: WorkersRuntime;
  servicenow: ServiceNowSandbox;
  ci: CiEmulator;
  close(): Promise<void>;
}

/**
 * The whole product in one process on real HTTP: ServiceNow sandbox, CI emulator, receiver and
 * workers on the given bus (memory unless `brokers`). The sandbox's business rule posts to the
 * receiver, exactly like an instance with the install kit.
 */
export async function startStack({
  brokers,
  topicPrefix = '',
  config: extra = {},
  oauthSecret = 'sandbox-secret',
  logTo,
  fetchImpl,
}: {
  brokers?: string[];
  topicPrefix?: string;
  config?: Partial<ConfigInput>;
  oauthSecret?: string;
  /** Where changegate's log lines go (default stdout, silent unless LOG_LEVEL). */
  logTo?: { write(chunk: string): void };
  /** The workers' HTTP client (ServiceNow and CI callbacks), e.g. to record what goes out. */
  fetchImpl?: typeof fetch;
} = {}): Promise<Stack> {
  const servicenow = await startServiceNowSandbox({
    oauth: { clientId: 'changegate', clientSecret: oauthSecret },
    // The install kit's journal read ACL (deploy/servicenow step 5c) for the integration's itil.
    readAcls: { sys_journal_field: ['itil'] },
  });
  const ci = await startCiEmulator();
  const topics = topicPrefix ? prefixedTopics(topicPrefix) : {};
  const config = loadConfig({
    env: {},
    overrides: (raw) => {
      Object.assign(raw, {
        bus: brokers ? 'kafka' : 'memory',
        server: { port: 0, host: '127.0.0.1' },
        log: { level: process.env.LOG_LEVEL ?? 'silent' },
        kafka: { brokers: brokers ?? [], topics, partitions: 3 },
        security: { encryptionKey: randomBytes(32).toString('base64') },
        sources: {
          github: { secrets: [SECRETS.github] },
          gitlab: { tokens: [SECRETS.gitlab] },
          jenkins: { secrets: [SECRETS.whsec] },
          azureDevops: { basic: [SECRETS.azureBasic] },
          servicenow: { secrets: [SECRETS.whsec] },
          generic: { '*': { secrets: [SECRETS.whsec] } },
        },
        servicenow: {
          connections: {
            main: {
              url: servicenow.url,
              auth: { type: 'oauth', clientId: 'changegate', clientSecret: oauthSecret },
              retry: { baseDelayMs: 20 },
            },
          },
        },
        ci: {
          allowLoopback: true,
          github: {
            appId: ci.credentials.githubAppId,
            privateKey: ci.credentials.githubAppPrivateKey,
            apiUrl: ci.url,
          },
          gitlab: { [new URL(ci.url).host]: { token: ci.credentials.gitlabToken } },
          jenkins: {
            [new URL(ci.url).host]: {
              user: ci.credentials.jenkinsUser,
              apiToken: ci.credentials.jenkinsToken,
            },
          },
          generic: { secret: ci.credentials.genericSecret },
        },
        ...extra,
      });
    },
  });
  const log = createLogger({ level: config.log.level, ...(logTo ? { destination: logTo } : {}) });
  const metrics = createMetrics({ defaults: false });
  const bus = createBus(config, { log });
  const receiver = await startReceiver({ config, log, bus, metrics });
  const workers = await startWorkers({
    config,
    log,
    bus,
    metrics,
    names: ['change', 'gate'],
    ...(fetchImpl ? { fetchImpl } : {}),
  });
  servicenow.admin.outbound.set([
    { url: `${receiver.url}/hooks/servicenow`, secret: SECRETS.whsec },
  ]);
  return {
    config,
    bus,
    receiver,
    workers,
    servicenow,
    ci,
    async close() {
      await receiver.close();
      await workers.close();
      await bus.close();
      await ci.close();
      await servicenow.close();
    },
  };
}

/** Poll a condition in a test (the product itself never polls). */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
