import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { createBus } from '../../../src/bus/index.js';
import type { Bus, ConsumedRecord, Subscription } from '../../../src/bus/port.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { parseFilter, replay, type ReplayResult } from '../../../src/commands/replay.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { buildEvent } from '../../../src/events/build.js';
import { createLogger } from '../../../src/log.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandbox,
} from '../../../src/sandbox/servicenow/index.js';
import { createServiceNowClients } from '../../../src/servicenow/index.js';
import { changeWorker } from '../../../src/workers/change/index.js';
import { eventRouter, runWorker, type HandlerContext } from '../../../src/workers/runtime/index.js';
import { hasKafka, kafkaBrokers, uniqueTopic } from '../../support/kafka.js';
import { eventually } from '../../support/stack.js';

const log = createLogger({ level: 'silent' });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const BUG = 'simulated bug: the change worker cannot handle deployment.requested';
const DEPLOYMENTS = ['rel-1', 'rel-2', 'rel-3'];

interface Rig {
  config: Config;
  bus: Bus;
  sandbox: ServiceNowSandbox;
  worker: Subscription;
  /** The "bug": while true the change worker throws on deployment.requested. */
  bug: { on: boolean };
}

async function startRig(kind: 'memory' | 'kafka'): Promise<Rig> {
  const sandbox = await startServiceNowSandbox({
    oauth: { clientId: 'changegate', clientSecret: 'sandbox-secret' },
  });
  const prefix = uniqueTopic('replay');
  const config = loadConfig({
    env: {},
    overrides: (raw) =>
      Object.assign(raw, {
        bus: kind,
        security: { encryptionKey: Buffer.alloc(32, 1).toString('base64') },
        kafka: {
          brokers: kind === 'kafka' ? kafkaBrokers() : [],
          partitions: 3,
          groupPrefix: prefix,
          topics: Object.fromEntries(
            ['cicd', 'changes', 'servicenow', 'gateState', 'audit', 'dlq', 'deliveries']
              .concat(['auditLedger', 'auditCheckpoints', 'dlqReplayed'])
              .map((t) => [t, `${prefix}.${t}`]),
          ),
        },
        servicenow: {
          connections: {
            main: {
              url: sandbox.url,
              auth: { type: 'oauth', clientId: 'changegate', clientSecret: 'sandbox-secret' },
              retry: { baseDelayMs: 20 },
            },
          },
        },
      }),
  });
  const bus = createBus(config, { log });
  await bus.ensureTopics(topicSpecs(config.kafka));
  const bug = { on: true };
  const change = changeWorker({
    config,
    bus,
    servicenow: createServiceNowClients(config.servicenow, { log }),
  });
  const worker = await runWorker(
    {
      ...change,
      // The bug sits in front of the real handlers, as a faulty release of them would.
      events: {
        ...eventRouter<HandlerContext>(),
        types: () => change.events.types(),
        route: (event, ctx) => {
          if (bug.on && event.type === 'dev.changegate.deployment.requested')
            return Promise.reject(new Error(BUG));
          return change.events.route(event, ctx);
        },
      },
    },
    {
      bus,
      log,
      dlqTopic: config.kafka.topics.dlq,
      groupPrefix: prefix,
      retry: { maxAttempts: 2, baseDelayMs: 5 },
    },
  );
  return { config, bus, sandbox, worker, bug };
}

function requested(config: Config, id: string) {
  const correlationId = `generic/ship/acme/payments/${id}`;
  const event = buildEvent(
    {
      type: 'dev.changegate.deployment.requested',
      subject: correlationId,
      key: correlationId,
      data: {
        provider: 'generic',
        source: 'ship',
        project: 'acme/payments',
        event: 'deployment.requested',
        deliveryId: `msg_${id}`,
        environment: 'production',
        deploymentId: id,
        correlationId,
        run: { id: `${id}-run`, url: `https://ci.acme.example/runs/${id}` },
        raw: { truncated: false, bytes: 2, payload: {} },
      },
    },
    {
      id: `evt-${id}`,
      source: '/changegate/receivers/generic',
      time: new Date(),
      traceparent: TRACEPARENT,
    },
  );
  const record = toRecord(config.kafka.topics.cicd, event);
  // A header that is not a CloudEvents attribute must survive DLQ and replay as well.
  record.headers['x-request-id'] = `req-${id}`;
  return record;
}

async function read(bus: Bus, topic: string): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  await bus.readToEnd(topic, (r) => out.push(r));
  return out;
}

const crsOf = (rig: Rig, id: string) =>
  rig.sandbox.admin
    .records('change_request')
    .filter((r) => r.correlation_id === `generic/ship/acme/payments/${id}`);

describe.each(['memory', 'kafka'] as const)('replay from the DLQ (%s bus)', (kind) => {
  const skip = kind === 'kafka' && !hasKafka();
  let rig: Rig;
  const lines: string[] = [];
  const run = (options: { dryRun?: boolean } = {}): Promise<ReplayResult> =>
    replay({
      bus: rig.bus,
      dlqTopic: rig.config.kafka.topics.dlq,
      markerTopic: rig.config.kafka.topics.dlqReplayed,
      filters: [parseFilter('worker=change'), parseFilter('error~^simulated bug')],
      write: (line) => lines.push(line),
      ...options,
    });

  beforeAll(async () => {
    if (skip) return;
    rig = await startRig(kind);
    const { topics } = rig.config.kafka;
    await rig.bus.publish(DEPLOYMENTS.map((id) => requested(rig.config, id)));
    // Another worker's dead letter: the filter must leave it alone.
    await rig.bus.publish([
      {
        topic: topics.dlq,
        key: 'x',
        value: Buffer.from('{}'),
        headers: {
          'changegate-origin-topic': topics.cicd,
          'changegate-worker': 'incident',
          'changegate-error': 'simulated bug elsewhere',
        },
      },
    ]);
    await eventually(async () => (await read(rig.bus, topics.dlq)).length === 4, 30_000);
  }, 120_000);
  afterAll(async () => {
    if (skip || !rig) return;
    await rig.worker.close();
    await rig.bus.close();
    await rig.sandbox.close();
  });

  it.skipIf(skip)(
    'dead-letters the failing events with the error, the attempts and their original headers',
    async () => {
      const dead = (await read(rig.bus, rig.config.kafka.topics.dlq)).filter(
        (r) => r.headers['changegate-worker'] === 'change',
      );
      expect(dead).toHaveLength(3);
      for (const r of dead) {
        expect(r.headers).toMatchObject({
          'changegate-origin-topic': rig.config.kafka.topics.cicd,
          'changegate-error': BUG,
          'changegate-attempts': '2',
          ce_type: 'dev.changegate.deployment.requested',
          ce_traceparent: TRACEPARENT,
          'x-request-id': expect.stringMatching(/^req-rel-\d$/),
        });
      }
      expect(DEPLOYMENTS.flatMap((id) => crsOf(rig, id))).toHaveLength(0);
    },
  );

  it.skipIf(skip)('prints what a dry run would replay and publishes nothing', async () => {
    const { topics } = rig.config.kafka;
    const before = (await read(rig.bus, topics.cicd)).length;
    lines.length = 0;
    const result = await run({ dryRun: true });
    expect(result.replayed.map((r) => r.key).sort()).toEqual(
      DEPLOYMENTS.map((id) => `generic/ship/acme/payments/${id}`),
    );
    expect(lines.filter((l) => l.startsWith('would replay '))).toHaveLength(3);
    expect(lines.at(-1)).toBe(
      '3 would be replayed (dry run: nothing published), 0 already replayed earlier',
    );
    expect(lines[0]).toMatch(
      new RegExp(
        `^would replay ${topics.dlq}/\\d+/\\d+ -> ${topics.cicd} key=generic/ship/acme/payments/rel-\\d type=dev.changegate.deployment.requested worker=change attempts=2 error="simulated bug`,
      ),
    );
    expect((await read(rig.bus, topics.cicd)).length).toBe(before);
    expect(await read(rig.bus, topics.dlqReplayed)).toHaveLength(0);
  });

  it.skipIf(skip)(
    'replays the fixed bug’s events to completion, one CR each, and a second run replays nothing',
    async () => {
      const { topics } = rig.config.kafka;
      rig.bug.on = false;
      const first = await run();
      expect(first.replayed).toHaveLength(3);
      for (const id of DEPLOYMENTS) await eventually(() => crsOf(rig, id).length === 1, 20_000);

      const replayed = (await read(rig.bus, topics.cicd)).filter(
        (r) => r.headers['changegate-replayed-from'],
      );
      expect(replayed).toHaveLength(3);
      for (const r of replayed) {
        expect(r.headers).toMatchObject({
          ce_traceparent: TRACEPARENT,
          'x-request-id': expect.stringMatching(/^req-rel-\d$/),
          ce_id: expect.stringMatching(/^evt-rel-/),
        });
        expect(r.headers['changegate-replayed-from']).toMatch(
          new RegExp(`^${topics.dlq}/\\d+/\\d+$`),
        );
        expect(Object.keys(r.headers).filter((h) => h.startsWith('changegate-'))).toEqual([
          'changegate-replayed-from',
          'changegate-replayed-for',
        ]);
        expect(r.headers['changegate-replayed-for']).toBe('change');
      }

      const second = await run();
      expect(second.replayed).toHaveLength(0);
      expect(second.alreadyReplayed).toBe(3);
      // Give any stray duplicate time to land before counting.
      await new Promise((r) => setTimeout(r, 500));
      for (const id of DEPLOYMENTS) expect(crsOf(rig, id)).toHaveLength(1);
      expect(
        (await read(rig.bus, topics.cicd)).filter((r) => r.headers['changegate-replayed-from']),
      ).toHaveLength(3);
      console.log(
        `replay (${kind}): 3 dead-lettered, dry run published 0, replay 1 published ${first.replayed.length}, replay 2 published ${second.replayed.length} (${second.alreadyReplayed} already replayed); CRs per deployment: ${DEPLOYMENTS.map((id) => crsOf(rig, id).length).join(', ')}`,
      );
    },
    60_000,
  );
});
