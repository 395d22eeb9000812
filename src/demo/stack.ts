import { pino } from 'pino';
import { createBus } from '../bus/index.js';
import type { Bus } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { startReceiver, type ReceiverRuntime } from '../runtime/receiver.js';
import { startWorkers, type WorkersRuntime } from '../runtime/workers.js';
import { startCiEmulator, type CiEmulator } from '../sandbox/ci/index.js';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../sandbox/servicenow/index.js';
import { demoConfig, demoSecrets, type DemoSecrets } from './config.js';

/** Everything `changegate demo` runs, in this one process. */
export interface DemoStack {
  config: Config;
  secrets: DemoSecrets;
  bus: Bus;
  metrics: Metrics;
  receiver: ReceiverRuntime;
  workers: WorkersRuntime;
  servicenow: ServiceNowSandbox;
  ci: CiEmulator;
  log: Logger;
  close(): Promise<void>;
}

export interface DemoStackOptions {
  /** changegate's HTTP port; 0 (default) picks a free one. */
  port?: number;
  /** pino level for changegate's own logs, written to stderr so stdout stays the story. */
  logLevel?: Config['log']['level'];
}

/**
 * Start the ServiceNow sandbox, the CI emulator, the receiver and the change + gate workers on
 * one in-memory bus, wired like a real installation: the sandbox's business rule posts signed
 * updates to the receiver's `/hooks/servicenow`, the gate worker calls the emulated GitHub back.
 *
 * @example const stack = await startDemoStack(); … await stack.close();
 */
export async function startDemoStack({
  port = 0,
  logLevel = 'silent',
}: DemoStackOptions = {}): Promise<DemoStack> {
  const secrets = demoSecrets();
  const servicenow = await startServiceNowSandbox({
    instanceName: 'changegate-demo',
    oauth: { clientId: secrets.oauthClientId, clientSecret: secrets.oauthClientSecret },
  });
  const ci = await startCiEmulator();
  const cleanup: (() => Promise<void>)[] = [() => servicenow.close(), () => ci.close()];
  try {
    const config = demoConfig({
      secrets,
      servicenowUrl: servicenow.url,
      ci: {
        url: ci.url,
        githubAppId: ci.credentials.githubAppId,
        githubAppPrivateKey: ci.credentials.githubAppPrivateKey ?? '',
      },
      port,
      logLevel,
    });
    const log = createLogger({
      level: config.log.level,
      name: 'changegate-demo',
      destination: pino.destination({ fd: 2, sync: true }),
    });
    // One registry for receiver and workers, so /metrics shows the whole product.
    const metrics = createMetrics({ defaults: false });
    const bus = createBus(config, { log });
    cleanup.unshift(() => bus.close());
    const receiver = await startReceiver({
      config,
      log,
      bus,
      metrics,
      // The status page's buttons play approver in the sandbox, which then pushes the update
      // back through its business rule: the same path a real approval takes.
      statusActions: {
        approve: (number) => servicenow.admin.approve(number, 'approved on the status page'),
        reject: (number) => servicenow.admin.reject(number, 'rejected on the status page'),
      },
    });
    cleanup.unshift(() => receiver.close());
    const workers = await startWorkers({
      config,
      log,
      bus,
      metrics,
      names: ['change', 'gate', 'incident', 'cmdb'],
    });
    cleanup.splice(1, 0, () => workers.close());
    servicenow.admin.outbound.set([
      { url: `${receiver.url}/hooks/servicenow`, secret: secrets.servicenow },
    ]);
    let closing: Promise<void> | undefined;
    return {
      config,
      secrets,
      bus,
      metrics,
      receiver,
      workers,
      servicenow,
      ci,
      log,
      close: () => (closing ??= closeAll(cleanup)),
    };
  } catch (err) {
    await closeAll(cleanup);
    throw err;
  }
}

/** In order, each even if an earlier one failed: a half-closed demo must not hang the shell. */
async function closeAll(steps: (() => Promise<void>)[]): Promise<void> {
  for (const step of steps) await step().catch(() => undefined);
}
