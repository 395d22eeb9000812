import { rm } from 'node:fs/promises';
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
import { spoolDir } from '../spool/dir.js';
import { DurablePublisher } from '../spool/durable-publisher.js';
import { Forwarder } from '../spool/forwarder.js';
import { Spool } from '../spool/spool.js';
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
  const deliveries = new DeliveryLog({
    bus,
    topic: config.kafka.topics.deliveries,
    windowMs: config.ingest.dedupeWindowMs,
    maxEntries: config.ingest.dedupeMaxEntries,
    log,
  });
  let restored = 0;
  let live = false;
  let markLive!: () => void;
  const connected = new Promise<void>((resolve) => (markLive = resolve));
  let following = false;
  const connect = async () => {
    if (!live) {
      await bus.ensureTopics(topicSpecs(config.kafka));
      restored = await deliveries.restore();
      metrics.dedupeEntries.set(deliveries.size);
      // The window is known: deliveries may go to Kafka directly, and the spool be forwarded.
      live = true;
      markLive();
    }
    if (bus.kind === 'kafka' && !following) {
      await deliveries.follow(
        `changegate-receiver-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
      );
      following = true;
    }
  };

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

  const spooling = config.ingest.spool.enabled
    ? await openSpool({
        config,
        log,
        bus,
        deliveries,
        publisher,
        metrics,
        connected,
        live: () => live,
      })
    : undefined;
  let stopping = false;
  if (!spooling) await connect();
  else {
    // With a spool the receiver does not need Kafka to start: deliveries are spooled until the
    // delivery log is restored (so nothing is forwarded that Kafka already has), then drained.
    const connecting = connectWithBackoff(connect, log, () => stopping).then(() =>
      spooling.forwarder.kick(),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connecting, new Promise((r) => (timer = setTimeout(r, START_WAIT_MS)))]);
    clearTimeout(timer);
    if (!live) {
      log.warn(
        { spool: spooling.spool.dir },
        'bus unavailable at start: accepting deliveries into the spool until it is back',
      );
    }
  }

  const sealer = sealerFromConfig(config, log);
  const statusPage = await startStatusPage({
    config,
    bus,
    log,
    ...(statusActions ? { actions: statusActions } : {}),
  });
  const app = createApp({
    config,
    // Ready while deliveries can be acknowledged: by the bus, or by the spool while it has room.
    bus: {
      kind: bus.kind,
      isReady: async () => (spooling && !spooling.spool.full) || bus.isReady(),
    },
    log,
    metrics,
    publisher,
    deliveries,
    durable: spooling?.durable,
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
      ...(spooling ? { spool: spooling.spool.dir, spooled: spooling.spool.waiting } : {}),
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
        stopping = true;
        await statusPage?.close(); // its live streams would hold the server open
        await server.close(config.server.shutdownGraceMs);
        await publisher.close();
        if (spooling && live && spooling.spool.waiting > 0) {
          // Scale-down or rollout: hand what the spool holds to Kafka now if it is reachable,
          // rather than leave it on a volume until this receiver runs again.
          spooling.forwarder.kick();
          await Promise.race([spooling.forwarder.idle(), sleep(config.server.shutdownGraceMs)]);
        }
        await spooling?.close();
        await deliveries.close();
        if (!shared) await bus.close();
        log.info('receiver stopped');
      })()),
  };
}

/** How long a receiver with a spool waits for Kafka at start before it opens its port anyway. */
const START_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Topics, delivery-log restore and follow, retried with back-off (1 s doubling to 30 s) until
 * they succeed: each attempt is driven by the previous one failing, and it stops at the first
 * success.
 */
async function connectWithBackoff(
  connect: () => Promise<void>,
  log: Logger,
  stopped: () => boolean,
): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await connect();
      if (attempt > 1) log.info({ attempt }, 'bus reachable: delivery log restored');
      return;
    } catch (err) {
      log.warn({ err: (err as Error).message, attempt }, 'bus not reachable yet; retrying');
      await sleep(Math.min(30_000, 1000 * 2 ** (attempt - 1)));
    }
  }
}

async function openSpool({
  config,
  log,
  bus,
  deliveries,
  publisher,
  metrics,
  connected,
  live,
}: {
  config: Config;
  log: Logger;
  bus: Bus;
  deliveries: DeliveryLog;
  publisher: BatchingPublisher;
  metrics: Metrics;
  /** Resolves once the delivery log is restored: only then may the spool be forwarded. */
  connected: Promise<void>;
  live: () => boolean;
}) {
  const { dir, ephemeral } = spoolDir(config);
  const spool = await Spool.open({
    dir,
    maxBytes: config.ingest.spool.maxBytes,
    segmentBytes: config.ingest.spool.segmentBytes,
    log,
  });
  const gauges = () => {
    metrics.spoolBytes.set(spool.bytes);
    metrics.spoolWaiting.set(spool.waiting);
  };
  gauges();
  const forwarder = new Forwarder({
    spool,
    bus,
    deliveries,
    maxBatchRecords: config.ingest.maxBatchRecords,
    maxBatchBytes: config.ingest.maxBatchBytes,
    ready: connected,
    beforeBatch: () => publisher.inFlightSettled(),
    resync: async () => void (await deliveries.restore()),
    log,
    onForwarded: (forwarded, skipped) => {
      metrics.spooled.inc({ outcome: 'forwarded' }, forwarded);
      if (skipped > 0) metrics.spooled.inc({ outcome: 'skipped' }, skipped);
      metrics.dedupeEntries.set(deliveries.size);
      gauges();
    },
    onDamaged: () => metrics.spooled.inc({ outcome: 'damaged' }),
  });
  const durable = new DurablePublisher({
    publisher,
    landed: (key) => deliveries.remember(key),
    spool,
    forwarder,
    live,
    onSpooled: () => {
      metrics.spooled.inc({ outcome: 'spooled' });
      gauges();
    },
  });
  return {
    spool,
    forwarder,
    durable,
    async close() {
      await forwarder.close();
      await spool.close();
      if (ephemeral) await rm(dir, { recursive: true, force: true });
    },
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
