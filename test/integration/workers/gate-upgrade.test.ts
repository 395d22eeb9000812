import { describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { createMemoryBus } from '../../../src/bus/memory.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildEvent } from '../../../src/events/build.js';
import type { GateRegisteredData } from '../../../src/events/gate.js';
import type { CrState } from '../../../src/gate/machine.js';
import { crStateOfRecord } from '../../../src/workers/gate/state-record.js';
import { createLogger } from '../../../src/log.js';
import { startGateWorker } from '../../../src/workers/gate/index.js';
import { LEGACY_GATE_STATE_TOPIC } from '../../../src/workers/gate/legacy-state.js';
import type { GateCallbacks, GateServiceNow } from '../../../src/workers/gate/ports.js';

/**
 * Upgrading from the gate worker before the state kit: its open gates sit in the one-partition
 * `changegate.gate-state` as bare CR states. The new worker carries them over to its
 * co-partitioned changelog once, and a gate waiting across the upgrade is released exactly
 * once when its CR is approved — also after a second start.
 */

const log = createLogger({ level: 'silent' });
const config = loadConfig({
  env: {},
  overrides: (raw) => Object.assign(raw, { bus: 'memory', kafka: { partitions: 3 } }),
});
const topics = config.kafka.topics;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NUMBER = 'CHG0042777';
const SYS_ID = 'c'.repeat(32);

const servicenow: GateServiceNow = {
  getChange: async () => undefined,
  moveToImplement: async () => undefined,
  addWorkNote: async () => undefined,
  getApprovers: async () => [{ sysId: 'd'.repeat(32), userName: 'cab.approver' }],
};

/** A gate registered before the upgrade, still waiting for its CR's approval. */
function legacyState(now: number): CrState {
  const gate: GateRegisteredData = {
    gateId: 'gate-before-upgrade',
    changeNumber: NUMBER,
    changeSysId: SYS_ID,
    provider: 'generic',
    project: 'acme/payments',
    environment: 'production',
    deploymentId: 'gate-before-upgrade',
    correlationId: 'generic/acme/payments/gate-before-upgrade',
    callback: { kind: 'generic', url: 'https://ci.example/gates/before', params: {} },
    policy: 'default',
    registeredAt: new Date(now - 60_000).toISOString(),
  };
  return {
    number: NUMBER,
    change: { sysId: SYS_ID, number: NUMBER, state: '-3', approval: 'requested', fields: {} },
    gates: {
      [gate.gateId]: {
        gate,
        status: 'waiting',
        expiresAt: now + 3600_000,
        reason: 'waiting for approval',
      },
    },
    touchedAt: now - 60_000,
  };
}

function approvedRecord() {
  const event = buildEvent(
    {
      type: 'dev.changegate.change.updated',
      subject: NUMBER,
      key: NUMBER,
      data: {
        sysId: SYS_ID,
        number: NUMBER,
        state: '-1',
        approval: 'approved',
        fields: { sys_mod_count: '7' },
        deliveryId: 'upgrade-approval',
        raw: { truncated: false, bytes: 0, payload: null },
      },
    },
    { id: 'upgrade-approval', source: '/changegate/test', time: new Date() },
  );
  return toRecord(topics.changes, event);
}

describe('gate worker upgrade from the one-partition gate-state topic', () => {
  it('carries a waiting gate over once and releases it exactly once after the approval', async () => {
    const bus = createMemoryBus({ redeliveryBackoffMs: 20 });
    await bus.ensureTopics([
      ...topicSpecs(config.kafka),
      { topic: LEGACY_GATE_STATE_TOPIC, partitions: 1, cleanup: 'compact' },
    ]);
    await bus.publish([
      {
        topic: LEGACY_GATE_STATE_TOPIC,
        key: NUMBER,
        value: Buffer.from(JSON.stringify(legacyState(Date.now()))),
        headers: {},
      },
    ]);
    const calls: string[] = [];
    const callbacks: GateCallbacks = {
      async decide(callback, decision) {
        calls.push(`${callback.url} ${decision.outcome}`);
        return { status: 'done', httpStatus: 200 };
      },
    };
    let worker = await startGateWorker({ bus, config, servicenow, callbacks, log });
    try {
      expect(topics.gateState).toBe('changegate.gate-changelog');
      await sleep(200);
      expect(worker.states().map((s) => Object.values(s.gates)[0]?.status)).toEqual(['waiting']);
      // A second start (a restart, or a second replica) copies nothing again.
      await worker.close();
      worker = await startGateWorker({ bus, config, servicenow, callbacks, log });
      let copies = 0;
      await bus.readToEnd(topics.gateState, (r) => {
        if (r.key === NUMBER && crStateOfRecord(r.value)) copies++;
      });
      expect(copies).toBe(1);

      await bus.publish([approvedRecord()]);
      for (let i = 0; i < 100 && calls.length === 0; i++) await sleep(50);
      await sleep(300);
      expect(calls).toEqual(['https://ci.example/gates/before approve']);
      expect(worker.states()[0]?.gates['gate-before-upgrade']?.status).toBe('released');
    } finally {
      await worker.close();
      await bus.close();
    }
  }, 20_000);
});
