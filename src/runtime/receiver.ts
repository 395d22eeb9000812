import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { createBus } from '../bus/index.js';
import type { Bus } from '../bus/port.js';
import { topicSpecs } from '../bus/topics.js';
import type { Config } from '../config/schema.js';
import { createApp } from '../http/app.js';
import { BatchingPublisher } from '../ingest/batching-publisher.js';
import { DeliveryLog } from '../ingest/delivery-log.js';
import type { Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { RECEIVERS } from '../receivers/registry.js';
import { startStatusPage, type ChangeActions } from '../web/index.js';
import { listen } from './listen.js';
import { sealerFromConfig } from './sealer.js';

export interface ReceiverRuntime {
  url: string;
  port: number;
  bus: Bus;
  metrics: Metrics;
  deliveries: DeliveryLog;
  close(): Promise<void>;
}

export interface StartReceiverOptions {
  config: Config;
  log: Logger;
  /** Share a bus with workers in the same process (embedded mode); owned by the caller then. */
  bus?: Bus;
  metrics?: Metrics;
  extend?: (app: Hono) => void;
  /** Sandbox demo only: approve/reject buttons on the status page. */
  statusActions?: ChangeActions;
}

/**
 * Start the HTTP receiver: topics exist, the delivery log is restored (so a restart still drops
 * redeliveries), then the port opens. Shutdown reverses it: stop accepting, let requests in
 * flight get their acknowledgement, flush, close the bus.
 */
export async function startReceiver({
  config,
  log,
  bus: shared,
  metrics = createMetrics(),
  extend,
  statusActions,
}: StartReceiverOptions): Promise<ReceiverRuntime> {
  const bus = shared ?? createBus(config, { log });
  await bus.ensureTopics(topicSpecs(config.kafka));

  const deliveries = new DeliveryLog({
    bus,
    topic: config.kafka.topics.deliveries,
    windowMs: config.ingest.dedupeWindowMs,
    maxEntries: config.ingest.dedupeMaxEntries,
    log,
  });
  const restored = await deliveries.restore();
  if (bus.kind === 'kafka') {
    await deliveries.follow(
      `changegate-receiver-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    );
  }
  metrics.dedupeEntries.set(deliveries.size);

  const publisher = new BatchingPublisher({
    bus,
    lingerMs: config.ingest.lingerMs,
    maxBatchRecords: config.ingest.maxBatchRecords,
    maxBatchBytes: config.ingest.maxBatchBytes,
    timeoutMs: config.ingest.publishTimeoutMs,
    onBatch: (records, seconds) => {
      metrics.batchSize.observe(records);
      metrics.publishLatency.observe(seconds);
      metrics.dedupeEntries.set(deliveries.size);
    },
  });
  const sealer = sealerFromConfig(config, log);
  const statusPage = await startStatusPage({
    config,
    bus,
    log,
    ...(statusActions ? { actions: statusActions } : {}),
  });
  const app = createApp({
    config,
    bus,
    log,
    metrics,
    publisher,
    deliveries,
    seal: (secret) => sealer.seal(secret),
    receivers: RECEIVERS,
    extend: (app) => {
      statusPage?.mount(app);
      extend?.(app);
    },
  });
  const server = await listen(app.fetch, config.server);
  log.info(
    {
      url: server.url,
      bus: bus.kind,
      restoredDeliveries: restored,
      sources: configuredSources(config),
    },
    'receiver listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    bus,
    metrics,
    deliveries,
    close: () =>
      (closing ??= (async () => {
        await statusPage?.close(); // its live streams would hold the server open
        await server.close(config.server.shutdownGraceMs);
        await publisher.close();
        await deliveries.close();
        if (!shared) await bus.close();
        log.info('receiver stopped');
      })()),
  };
}

function configuredSources(config: Config): string[] {
  const { generic, ...named } = config.sources;
  return [
    ...Object.entries(named)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k),
    ...Object.keys(generic).map((name) => `generic/${name}`),
  ];
}
