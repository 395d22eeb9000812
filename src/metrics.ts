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
      help: 'Webhook deliveries by source and outcome (accepted, accepted_unparsed, duplicate, ping, rejected_*, unavailable)',
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
    spooled: new Counter({
      name: 'changegate_spool_deliveries_total',
      help: 'Deliveries through the spool: spooled (answered 202 from disk), forwarded (then on Kafka), skipped (already on Kafka), damaged (frame damaged on disk after it was written; logged)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    spoolBytes: new Gauge({
      name: 'changegate_spool_bytes',
      help: 'Bytes of spool segments on disk',
      registers: [registry],
    }),
    spoolWaiting: new Gauge({
      name: 'changegate_spool_waiting_deliveries',
      help: 'Deliveries in the spool not yet on Kafka',
      registers: [registry],
    }),
    dedupeEntries: new Gauge({
      name: 'changegate_dedupe_entries',
      help: 'Delivery ids held in the dedupe window',
      registers: [registry],
    }),
    workerEvents: new Counter({
      name: 'changegate_worker_events_total',
      help: 'Events handled by workers, by worker and outcome (done, dead-lettered)',
      labelNames: ['worker', 'outcome'] as const,
      registers: [registry],
    }),
    changeCreation: new Histogram({
      name: 'changegate_change_creation_seconds',
      help: 'Time to create a change request in ServiceNow',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    changesClosed: new Counter({
      name: 'changegate_changes_closed_total',
      help: 'Change requests closed, by close_code (success rate = successful / all)',
      labelNames: ['close_code'] as const,
      registers: [registry],
    }),
    linksRefused: new Counter({
      name: 'changegate_links_refused_total',
      help: 'Change requests a pipeline named or matched that were refused (not bound to the deployment, bound to another)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    gateDecisions: new Counter({
      name: 'changegate_gate_decisions_total',
      help: 'Gates decided, by outcome (released, rejected, expired)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    gateWait: new Histogram({
      name: 'changegate_gate_wait_seconds',
      help: 'Pipeline time added by the gate: registration to decision (approval wait included)',
      labelNames: ['outcome'] as const,
      buckets: [1, 10, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600],
      registers: [registry],
    }),
    gateReleaseLatency: new Histogram({
      name: 'changegate_gate_release_latency_seconds',
      help: 'From the ServiceNow update that allowed a decision to the CI system acknowledging it',
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    servicenowCalls: new Counter({
      name: 'changegate_servicenow_calls_total',
      help: 'ServiceNow API calls by instance, route and HTTP status (0 = no answer)',
      labelNames: ['instance', 'method', 'route', 'status'] as const,
      registers: [registry],
    }),
    servicenowLatency: new Histogram({
      name: 'changegate_servicenow_call_seconds',
      help: 'ServiceNow API call latency by instance',
      labelNames: ['instance'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
