import type { Bus, Subscription } from '../bus/port.js';
import { topicSpecs } from '../bus/topics.js';
import { createCallbackClients } from '../ci/index.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { createServiceNowClients, type ServiceNowClients } from '../servicenow/index.js';
import { changeWorker } from '../workers/change/index.js';
import { cmdbWorker } from '../workers/cmdb/index.js';
import { evidenceWorker } from '../workers/evidence/index.js';
import { startGateWorker, type GateWorker } from '../workers/gate/index.js';
import { startLedgerWorker, type LedgerWorker } from '../workers/ledger/index.js';
import { auditObserver } from '../audit/observer.js';
import { auditKeyFromConfig } from '../audit/signing.js';
import { withAuditSigning } from '../audit/signing-bus.js';
import { incidentWorker } from '../workers/incident/index.js';
import { startNotifyWorker, type NotifyWorker } from '../workers/notify/index.js';
import { runWorker } from '../workers/runtime/index.js';
import { gateServiceNowPort } from '../workers/gate/servicenow-port.js';
import { sealerFromConfig } from './sealer.js';

export const WORKER_NAMES = [
  'change',
  'gate',
  'incident',
  'cmdb',
  'evidence',
  'notify',
  'audit',
] as const;
export type WorkerName = (typeof WORKER_NAMES)[number];

export interface WorkersRuntime {
  gate?: GateWorker;
  notify?: NotifyWorker;
  ledger?: LedgerWorker;
  servicenow: ServiceNowClients;
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  config: Config;
  log: Logger;
  bus: Bus;
  metrics: Metrics;
  names: readonly WorkerName[];
  fetchImpl?: typeof fetch;
}

/** The ServiceNow clients with their calls counted in Prometheus. */
export function servicenowClients(
  config: Config,
  log: Logger,
  metrics: Metrics,
  fetchImpl?: typeof fetch,
) {
  return createServiceNowClients(config.servicenow, {
    log,
    ...(fetchImpl ? { fetchImpl } : {}),
    metrics: {
      onCall: (call) => {
        metrics.servicenowCalls.inc({
          instance: call.instance,
          method: call.method,
          route: call.route,
          status: String(call.status),
        });
        metrics.servicenowLatency.observe({ instance: call.instance }, call.durationMs / 1000);
      },
    },
  });
}

/**
 * Start the named workers on `bus`. Each consumes with its own consumer group, so they can run
 * in one process (embedded, `start`) or apart (`changegate worker gate`).
 */
export async function startWorkers({
  config,
  log,
  bus: given,
  metrics,
  names,
  fetchImpl,
}: StartWorkersOptions): Promise<WorkersRuntime> {
  // Every audit line a worker writes is signed on its way to the bus, so the ledger can tell
  // changegate's writers from anyone else who can produce to the audit topic.
  const auditKey = auditKeyFromConfig(config);
  const bus = withAuditSigning(given, config.kafka.topics.audit, auditKey);
  // Workers may start before any receiver has created the topics on a fresh cluster.
  await bus.ensureTopics(topicSpecs(config.kafka));
  const servicenow = servicenowClients(config, log, metrics, fetchImpl);
  const sealer = sealerFromConfig(config, log);
  const callbacks = createCallbackClients(config.ci, {
    sealer,
    log,
    ...(fetchImpl ? { fetchImpl } : {}),
  });
  const subscriptions: Subscription[] = [];
  let gate: GateWorker | undefined;

  if (names.includes('gate')) {
    gate = await startGateWorker({
      bus,
      config,
      servicenow: gateServiceNowPort(servicenow),
      groupId: `${config.kafka.groupPrefix}-gate`,
      callbacks,
      log,
      onDecision: ({ outcome, latencyMs, waitedMs }) => {
        metrics.gateDecisions.inc({ outcome });
        metrics.gateWait.observe({ outcome }, waitedMs / 1000);
        if (outcome === 'released' && latencyMs !== undefined)
          metrics.gateReleaseLatency.observe(latencyMs / 1000);
      },
    });
  }
  const runtime = {
    bus,
    log,
    dlqTopic: config.kafka.topics.dlq,
    groupPrefix: config.kafka.groupPrefix,
    onOutcome: (worker: string, outcome: string) => metrics.workerEvents.inc({ worker, outcome }),
  };
  const definitions = {
    change: () =>
      changeWorker({
        config,
        bus,
        servicenow,
        commits: callbacks.commits,
        onChangeCreated: (ms) => metrics.changeCreation.observe(ms / 1000),
        onChangeClosed: (code) => metrics.changesClosed.inc({ close_code: code }),
        onLinkRefused: (reason) => metrics.linksRefused.inc({ reason }),
      }),
    incident: () => incidentWorker({ config, bus, servicenow }),
    cmdb: () => cmdbWorker({ config, bus, servicenow }),
    evidence: () =>
      evidenceWorker({ config, bus, servicenow, ...(fetchImpl ? { fetchImpl } : {}) }),
  };
  for (const [name, define] of Object.entries(definitions)) {
    if (names.includes(name as WorkerName)) subscriptions.push(await runWorker(define(), runtime));
  }
  const notify = names.includes('notify')
    ? await startNotifyWorker({
        bus,
        config,
        servicenow,
        log,
        ...(fetchImpl ? { fetchImpl } : {}),
        runtime: { groupPrefix: runtime.groupPrefix, onOutcome: runtime.onOutcome },
      })
    : undefined;
  // audit: the ledger (only writer of the hash chains) and the observer that audits receipts
  // and ServiceNow approvals; see src/workers/ledger/index.ts.
  const ledger = names.includes('audit')
    ? await startLedgerWorker({ bus, config, key: auditKey, log })
    : undefined;
  if (ledger) subscriptions.push(await runWorker(auditObserver({ config, bus }), runtime));
  log.info({ workers: names }, 'workers running');
  return {
    ...(gate ? { gate } : {}),
    ...(notify ? { notify } : {}),
    ...(ledger ? { ledger } : {}),
    servicenow,
    async close() {
      for (const s of subscriptions) await s.close();
      await notify?.close();
      await gate?.close();
      await ledger?.close();
    },
  };
}
