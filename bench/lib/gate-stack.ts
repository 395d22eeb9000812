/**
 * The product wired in one process on real HTTP and the bench broker, from production modules
 * only: ServiceNow sandbox (its business rule posts approvals to the receiver), CI emulator,
 * receiver, change + gate workers. Same wiring as `changegate start` with a ServiceNow
 * connection, minus the process boundary.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createBus } from '../../src/bus/index.js';
import type { Bus } from '../../src/bus/port.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { startReceiver, type ReceiverRuntime } from '../../src/runtime/receiver.js';
import { startWorkers, type WorkersRuntime } from '../../src/runtime/workers.js';
import { startCiEmulator, type CiEmulator } from '../../src/sandbox/ci/index.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandbox,
} from '../../src/sandbox/servicenow/index.js';
import { BENCH_SECRET } from './github-deliveries.js';
import { prefixedTopics } from './changegate.js';

export interface GateStack {
  config: Config;
  bus: Bus;
  receiver: ReceiverRuntime;
  workers: WorkersRuntime;
  servicenow: ServiceNowSandbox;
  ci: CiEmulator;
  close(): Promise<void>;
}

/** The config `changegate start` would get for this stack (ServiceNow + GitHub App of the emulators). */
export function gateStackConfig(o: {
  brokers: string;
  topicPrefix: string;
  servicenow: Pick<ServiceNowSandbox, 'url'>;
  ci: {
    url: string;
    credentials: Pick<CiEmulator['credentials'], 'githubAppId' | 'githubAppPrivateKey'>;
  };
  whsec: string;
  /** Shared by processes that seal and open the same callbacks; random by default. */
  encryptionKey?: string;
}): Config {
  return loadConfig({
    env: {},
    overrides: (raw) => {
      Object.assign(raw, {
        bus: 'kafka',
        server: { port: 0, host: '127.0.0.1' },
        log: { level: 'warn' },
        kafka: { brokers: [o.brokers], topics: prefixedTopics(o.topicPrefix), partitions: 6 },
        security: { encryptionKey: o.encryptionKey ?? randomBytes(32).toString('base64') },
        sources: { github: { secrets: [BENCH_SECRET] }, servicenow: { secrets: [o.whsec] } },
        servicenow: {
          connections: {
            main: {
              url: o.servicenow.url,
              auth: { type: 'oauth', clientId: 'changegate', clientSecret: 'sandbox-secret' },
              // The default client-side limit (20 requests/s) protects a real instance; against
              // the local sandbox it would measure the limiter, not the push path.
              rateLimit: { requestsPerSecond: 2000, burst: 2000 },
            },
          },
        },
        ci: {
          allowLoopback: true,
          github: {
            appId: o.ci.credentials.githubAppId,
            privateKey: o.ci.credentials.githubAppPrivateKey,
            apiUrl: o.ci.url,
          },
        },
      });
    },
  });
}

/** Start everything on `brokers` with fresh topics under `topicPrefix`. */
export async function startGateStack(brokers: string, topicPrefix: string): Promise<GateStack> {
  const whsec = `whsec_${randomBytes(32).toString('base64')}`;
  const servicenow = await startServiceNowSandbox({
    oauth: { clientId: 'changegate', clientSecret: 'sandbox-secret' },
  });
  const ci = await startCiEmulator();
  const config = gateStackConfig({ brokers, topicPrefix, servicenow, ci, whsec });
  const log = createLogger({ level: config.log.level });
  const metrics = createMetrics({ defaults: false });
  const bus = createBus(config, { log });
  const receiver = await startReceiver({ config, log, bus, metrics });
  const workers = await startWorkers({ config, log, bus, metrics, names: ['change', 'gate'] });
  servicenow.admin.outbound.set([{ url: `${receiver.url}/hooks/servicenow`, secret: whsec }]);
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
