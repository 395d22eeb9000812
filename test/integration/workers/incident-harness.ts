/**
 * Shared set-up for the incident and CMDB worker tests: a ServiceNow sandbox over real HTTP,
 * a bus (memory unless given), the worker under `runWorker`, and taps on the audit and DLQ
 * topics.
 */
import { randomUUID } from 'node:crypto';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { Bus, ConsumedRecord, Subscription } from '../../../src/bus/port.js';
import { ConfigSchema, type Config } from '../../../src/config/schema.js';
import { buildEvent, type NormalizedEvent } from '../../../src/events/build.js';
import type { CloudEvent } from '../../../src/events/envelope.js';
import { createLogger } from '../../../src/log.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandbox,
  type ServiceNowSandboxOptions,
} from '../../../src/sandbox/servicenow/index.js';
import { createServiceNowClients, type ServiceNowClients } from '../../../src/servicenow/index.js';
import {
  runWorker,
  type WorkerDefinition,
  type WorkerOutcome,
} from '../../../src/workers/runtime/index.js';

export interface Harness {
  config: Config;
  bus: Bus;
  sandbox: ServiceNowSandbox;
  servicenow: ServiceNowClients;
  /** Handled or dead-lettered records, in the order they finished. */
  outcomes: WorkerOutcome[];
  audits(): Array<Record<string, unknown>>;
  dlq(): ConsumedRecord[];
  publish(...events: CloudEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  bus?: Bus;
  incidents?: unknown;
  cmdb?: unknown;
  sandbox?: ServiceNowSandboxOptions;
  worker: (deps: { config: Config; bus: Bus; servicenow: ServiceNowClients }) => WorkerDefinition;
  maxAttempts?: number;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  // An instance with the install kit: its read ACL lets the integration (itil) read the journal.
  const sandbox = await startServiceNowSandbox({
    readAcls: { sys_journal_field: ['itil'] },
    ...(options.sandbox ?? {}),
  });
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const config = ConfigSchema.parse({
    bus: 'memory',
    kafka: {
      topics: Object.fromEntries(
        ['cicd', 'changes', 'servicenow', 'gateState', 'audit', 'dlq', 'deliveries'].map((t) => [
          t,
          `${prefix}.${t}`,
        ]),
      ),
    },
    servicenow: {
      connections: {
        main: {
          url: sandbox.url,
          auth: { type: 'basic', username: 'changegate.integration', password: 'changegate' },
          timeoutMs: 5000,
          retry: { baseDelayMs: 10, maxDelayMs: 100 },
          rateLimit: { requestsPerSecond: 2000, burst: 2000 },
        },
      },
    },
    ...(options.incidents ? { incidents: options.incidents } : {}),
    ...(options.cmdb ? { cmdb: options.cmdb } : {}),
  });
  const log = createLogger({ level: 'silent' });
  const bus = options.bus ?? createMemoryBus({ defaultPartitions: 3 });
  const topics = config.kafka.topics;
  if (bus.kind === 'kafka') {
    await bus.ensureTopics(
      [topics.cicd, topics.audit, topics.dlq].map((topic) => ({ topic, partitions: 3 })),
    );
  }
  const servicenow = createServiceNowClients(config.servicenow, { log });
  const audit: ConsumedRecord[] = [];
  const dlq: ConsumedRecord[] = [];
  const outcomes: Harness['outcomes'] = [];
  const subs: Subscription[] = [];
  subs.push(
    await bus.subscribe({
      groupId: `${prefix}-taps`,
      topics: [topics.audit, topics.dlq],
      fromBeginning: true,
      handler: async (r) => {
        (r.topic === topics.audit ? audit : dlq).push(r);
      },
    }),
  );
  subs.push(
    await runWorker(options.worker({ config, bus, servicenow }), {
      bus,
      log,
      dlqTopic: topics.dlq,
      groupPrefix: prefix,
      retry: { maxAttempts: options.maxAttempts ?? 8, baseDelayMs: 20, maxDelayMs: 200 },
      onOutcome: (_w, outcome) => outcomes.push(outcome),
    }),
  );
  return {
    config,
    bus,
    sandbox,
    servicenow,
    outcomes,
    audits: () =>
      audit.map((r) => JSON.parse(r.value!.toString('utf8')) as Record<string, unknown>),
    dlq: () => [...dlq],
    publish: (...events) =>
      bus.publish(events.map((e) => toRecord(topics.cicd, e, e.partitionkey ?? e.id))),
    async close() {
      for (const s of subs) await s.close();
      if (!options.bus) await bus.close();
      await sandbox.close();
    },
  };
}

const raw = { truncated: false, bytes: 2, payload: {} };

/** A normalized cicd event as a CloudEvent; `id` defaults to a fresh one. */
export function cicdEvent(n: NormalizedEvent, id: string = randomUUID()): CloudEvent {
  return buildEvent(n, { id, source: '/test', time: new Date() });
}

export function pipelineEvent(
  status: 'failed' | 'succeeded',
  runId: number,
  extra: Record<string, unknown> = {},
  id?: string,
): CloudEvent {
  const project = (extra.project as string | undefined) ?? 'acme/payments';
  return cicdEvent(
    {
      type: `dev.changegate.pipeline.${status}`,
      subject: `github/${project}/${runId}`,
      key: `github/${project}/run-${runId}`,
      data: {
        provider: 'github',
        project,
        event: 'workflow_run',
        deliveryId: `delivery-${runId}`,
        raw,
        run: { id: String(runId), url: `https://github.com/${project}/actions/runs/${runId}` },
        pipeline: 'CI',
        status,
        commit: { sha: `${runId}`.padStart(40, 'a'), ref: 'refs/heads/main' },
        failures: status === 'failed' ? [{ name: 'unit-tests' }] : [],
        ...extra,
      },
    } as NormalizedEvent,
    id,
  );
}

export function deploymentEvent(
  outcome: 'failed' | 'succeeded',
  deploymentId: string,
  extra: Record<string, unknown> = {},
  id?: string,
): CloudEvent {
  const environment = (extra.environment as string | undefined) ?? 'production';
  const correlationId = `github/acme/payments/${deploymentId}`;
  return cicdEvent(
    {
      type: `dev.changegate.deployment.${outcome}`,
      subject: correlationId,
      key: correlationId,
      data: {
        provider: 'github',
        project: 'acme/payments',
        event: 'deployment_status',
        deliveryId: `delivery-${deploymentId}-${outcome}`,
        raw,
        environment,
        deploymentId,
        correlationId,
        run: {
          id: deploymentId,
          url: `https://github.com/acme/payments/actions/runs/${deploymentId}`,
        },
        commit: { sha: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/heads/main' },
        ...extra,
      },
    } as NormalizedEvent,
    id,
  );
}

/** Poll a condition in a test (the product itself never polls). */
export async function until<T>(
  fn: () => T | undefined | false | null,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
