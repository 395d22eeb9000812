/**
 * Child of bench/gate-failover.ts: one gate-worker replica (`startWorkers({ names: ['gate'] })`,
 * what `changegate worker gate` runs) on the bench broker, logging JSON lines at info to
 * stdout, so the parent sees its "partitions assigned and restored" lines and can SIGKILL it.
 *
 *   node --import tsx bench/gate-failover-child.ts '<json options>'
 *
 * @module
 */
import { createBus } from '../src/bus/index.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { startWorkers } from '../src/runtime/workers.js';
import { gateStackConfig } from './lib/gate-stack.js';

export interface GateReplicaOptions {
  brokers: string;
  topicPrefix: string;
  servicenowUrl: string;
  ciUrl: string;
  githubAppId: string;
  githubAppPrivateKey: string;
  encryptionKey: string;
  whsec: string;
}

const o = JSON.parse(process.argv[2] ?? '{}') as GateReplicaOptions;
const config = gateStackConfig({
  brokers: o.brokers,
  topicPrefix: o.topicPrefix,
  servicenow: { url: o.servicenowUrl },
  ci: {
    url: o.ciUrl,
    credentials: { githubAppId: o.githubAppId, githubAppPrivateKey: o.githubAppPrivateKey },
  },
  whsec: o.whsec,
  encryptionKey: o.encryptionKey,
});
const log = createLogger({ level: 'info' });
const bus = createBus(config, { log });
const workers = await startWorkers({
  config,
  log,
  bus,
  metrics: createMetrics({ defaults: false }),
  names: ['gate'],
});
log.info({ rss: process.memoryUsage().rss }, 'bench gate replica consuming');
// Heap settles after the restore; the parent reads the peak from /proc as well.
setInterval(() => log.info({ rss: process.memoryUsage().rss }, 'bench rss'), 1000).unref();
process.once('SIGTERM', () => {
  void workers
    .close()
    .then(() => bus.close())
    .finally(() => process.exit(0));
});
