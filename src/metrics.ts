import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics. One registry per process (not the prom-client global), so tests and the
 * embedded mode can run several instances side by side.
 */
export function createMetrics({ defaults = true }: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'changegate_' });
  return {
    registry,
    deliveries: new Counter({
      name: 'changegate_deliveries_total',
      help: 'Webhook deliveries by source and outcome (accepted, duplicate, ping, rejected_*, unavailable)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    publishLatency: new Histogram({
      name: 'changegate_publish_latency_seconds',
      help: 'Time from a batch being handed to the bus to its acknowledgement',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'changegate_publish_batch_records',
      help: 'Records per produce request',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
    dedupeEntries: new Gauge({
      name: 'changegate_dedupe_entries',
      help: 'Delivery ids held in the dedupe window',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
