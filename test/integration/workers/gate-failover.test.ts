import { describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { Bus, BusRecord } from '../../../src/bus/port.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { loadConfig } from '../../../src/config/load.js';
import { BusUnavailableError, UpstreamError } from '../../../src/errors.js';
import { buildEvent } from '../../../src/events/build.js';
import type { GateRegisteredData } from '../../../src/events/gate.js';
import { createLogger } from '../../../src/log.js';
import { startGateWorker } from '../../../src/workers/gate/index.js';
import type { GateCallbacks, GateServiceNow } from '../../../src/workers/gate/ports.js';

/**
 * The two gate bugs of issue [M], each as the scenario an operator would hit: a gate approved
 * at registration must call its CI system back exactly once, even when (1) the bus refuses the
 * write of the decision once, or (2) the CI system is unreachable for the first round of
 * attempts and reachable after. And (3) a record the gate cannot read goes to the DLQ instead of
 * blocking its partition.
 */

const log = createLogger({ level: 'silent' });
const config = loadConfig({
  env: {},
  overrides: (raw) => Object.assign(raw, { bus: 'memory', kafka: { partitions: 3 } }),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CR, already approved and in Implement, with no planned window: releases at once. */
const NUMBER = 'CHG0042001';
const servicenow: GateServiceNow = {
  getChange: async () => ({
    sysId: 'a'.repeat(32),
    number: NUMBER,
    state: '-1',
    approval: 'approved',
    fields: {},
  }),
  moveToImplement: async () => undefined,
  addWorkNote: async () => undefined,
  getApprovers: async () => [{ sysId: 'b'.repeat(32), userName: 'cab.approver' }],
};

function registered(gateId: string): BusRecord {
  const data: GateRegisteredData = {
    gateId,
    changeNumber: NUMBER,
    changeSysId: 'a'.repeat(32),
    provider: 'generic',
    project: 'acme/payments',
    environment: 'production',
    deploymentId: gateId,
    correlationId: `generic/acme/payments/${gateId}`,
    callback: { kind: 'generic', url: `https://ci.example/gates/${gateId}`, params: {} },
    policy: 'default',
    registeredAt: new Date().toISOString(),
    change: {
      sysId: 'a'.repeat(32),
      number: NUMBER,
      state: '-1',
      approval: 'approved',
      fields: {},
    },
  };
  const event = buildEvent(
    { type: 'dev.changegate.gate.registered', subject: NUMBER, key: NUMBER, data },
    { id: `registered-${gateId}`, source: '/changegate/worker/change', time: new Date() },
  );
  return toRecord(config.kafka.topics.changes, event);
}

/** Records every callback; `failFirst` calls throw a retryable UpstreamError. */
function recordingCallbacks(failFirst = 0) {
  const calls: { url: string; outcome: string; ok: boolean }[] = [];
  const callbacks: GateCallbacks = {
    async decide(callback, decision) {
      const ok = calls.length >= failFirst;
      calls.push({ url: callback.url, outcome: decision.outcome, ok });
      if (!ok) {
        throw new UpstreamError('[test] CI system unreachable', { retryable: true });
      }
      return { status: 'done', httpStatus: 200 };
    },
  };
  return { callbacks, calls, succeeded: () => calls.filter((c) => c.ok) };
}

/** A bus whose publish fails once, for the first batch that `when` matches. */
function failingOnce(
  inner: Bus,
  when: (records: BusRecord[]) => boolean,
): Bus & { failed: () => boolean } {
  let failed = false;
  return Object.assign(Object.create(inner) as Bus, {
    kind: inner.kind,
    publish: async (records: BusRecord[]) => {
      if (!failed && when(records)) {
        failed = true;
        throw new BusUnavailableError('[test] broker refused the write once');
      }
      return inner.publish(records);
    },
    subscribe: inner.subscribe.bind(inner),
    readToEnd: inner.readToEnd.bind(inner),
    readPartitionsToEnd: inner.readPartitionsToEnd.bind(inner),
    ensureTopics: inner.ensureTopics.bind(inner),
    isReady: inner.isReady.bind(inner),
    close: inner.close.bind(inner),
    failed: () => failed,
  });
}

const deciding = (records: BusRecord[]) =>
  records.some((r) => r.value !== null && r.value.toString('utf8').includes('"status":"deciding"'));

describe('gate worker failover bugs (issue [M])', () => {
  it('calls the CI system back once when the write of the decision failed once', async () => {
    const memory = createMemoryBus({ redeliveryBackoffMs: 20 });
    const bus = failingOnce(memory, deciding);
    await bus.ensureTopics(topicSpecs(config.kafka));
    const { callbacks, succeeded } = recordingCallbacks();
    const worker = await startGateWorker({ bus, config, servicenow, callbacks, log });
    try {
      await memory.publish([registered('publish-fails')]);
      await sleep(5000);
      expect(bus.failed()).toBe(true);
      // The redelivered registration must lead to the callback the failed write held back.
      expect(succeeded()).toHaveLength(1);
    } finally {
      await worker.close();
      await memory.close();
    }
  }, 20_000);

  it('calls an unreachable CI system again after the first round of attempts failed', async () => {
    const bus = createMemoryBus({ redeliveryBackoffMs: 20 });
    await bus.ensureTopics(topicSpecs(config.kafka));
    // CALLBACK_ATTEMPTS (4) failures, then the CI system is back.
    const { callbacks, calls, succeeded } = recordingCallbacks(4);
    const worker = await startGateWorker({ bus, config, servicenow, callbacks, log });
    try {
      await bus.publish([registered('unreachable')]);
      // 4 attempts with backoff (≤ ~4 s), then RETRY_LATER_MS (30 s), then a margin.
      const deadline = Date.now() + 45_000;
      while (succeeded().length === 0 && Date.now() < deadline) await sleep(250);
      expect(calls.length).toBeGreaterThan(4);
      expect(succeeded()).toHaveLength(1);
    } finally {
      await worker.close();
      await bus.close();
    }
  }, 60_000);

  it('dead-letters a gate registration it cannot read and keeps deciding the records after it', async () => {
    const bus = createMemoryBus({ redeliveryBackoffMs: 20 });
    await bus.ensureTopics(topicSpecs(config.kafka));
    const { callbacks, succeeded } = recordingCallbacks();
    const worker = await startGateWorker({ bus, config, servicenow, callbacks, log });
    try {
      const poison = registered('unreadable');
      // Binary content mode: the value is the event's data.
      const data = JSON.parse(poison.value!.toString('utf8')) as { gateId?: string };
      delete data.gateId;
      // Same key, so the same partition: the good record waits behind the bad one.
      await bus.publish([{ ...poison, value: Buffer.from(JSON.stringify(data)) }]);
      await bus.publish([registered('after-the-poison')]);
      const deadline = Date.now() + 10_000;
      while (succeeded().length === 0 && Date.now() < deadline) await sleep(50);
      expect(succeeded().map((c) => c.url)).toEqual(['https://ci.example/gates/after-the-poison']);
      const dead: Record<string, string>[] = [];
      await bus.readToEnd(config.kafka.topics.dlq, (r) => dead.push(r.headers));
      expect(dead).toEqual([
        expect.objectContaining({
          'changegate-worker': 'gate',
          'changegate-error-name': 'PayloadError',
        }),
      ]);
    } finally {
      await worker.close();
      await bus.close();
    }
  }, 20_000);
});
