import { describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { createMemoryBus } from '../../../src/bus/memory.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildEvent } from '../../../src/events/build.js';
import type { GateRegisteredData } from '../../../src/events/gate.js';
import { createLogger } from '../../../src/log.js';
import { startGateWorker } from '../../../src/workers/gate/index.js';
import type { GateCallbacks, GateServiceNow } from '../../../src/workers/gate/ports.js';

/**
 * The gate's one timer per CR on the state kit: a window that opens later releases its gate at
 * the opening, also when the timer fires a moment before its due time by the worker's clock
 * (timers and wall clocks drift apart; here the clock runs 2 % slow, so every timer fires early
 * by its clock). Before the tick was taken at its due time, the machine waited again for the
 * same instant and the gate was never released.
 */

const log = createLogger({ level: 'silent' });
const config = loadConfig({
  env: {},
  overrides: (raw) => Object.assign(raw, { bus: 'memory', kafka: { partitions: 3 } }),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NUMBER = 'CHG0042555';
const SYS_ID = 'e'.repeat(32);
/** ServiceNow's `YYYY-MM-DD HH:mm:ss` (UTC). */
const snTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

const servicenow: GateServiceNow = {
  getChange: async () => undefined,
  moveToImplement: async () => undefined,
  addWorkNote: async () => undefined,
  getApprovers: async () => [{ sysId: 'f'.repeat(32), userName: 'cab.approver' }],
};

function registered(opensAt: number) {
  const data: GateRegisteredData = {
    gateId: 'windowed',
    changeNumber: NUMBER,
    changeSysId: SYS_ID,
    provider: 'generic',
    project: 'acme/payments',
    environment: 'production',
    deploymentId: 'windowed',
    correlationId: 'generic/acme/payments/windowed',
    callback: { kind: 'generic', url: 'https://ci.example/gates/windowed', params: {} },
    policy: 'default',
    registeredAt: new Date().toISOString(),
    // Approved and in Implement; only its planned window has not opened yet.
    change: {
      sysId: SYS_ID,
      number: NUMBER,
      state: '-1',
      approval: 'approved',
      startDate: snTime(opensAt),
      endDate: snTime(opensAt + 3600_000),
      fields: {},
    },
  };
  const event = buildEvent(
    { type: 'dev.changegate.gate.registered', subject: NUMBER, key: NUMBER, data },
    { id: 'registered-windowed', source: '/changegate/worker/change', time: new Date() },
  );
  return toRecord(config.kafka.topics.changes, event);
}

describe('gate timers on the state kit', () => {
  it('releases a gate when its window opens, even when its timer fires early by the clock', async () => {
    const bus = createMemoryBus({ redeliveryBackoffMs: 20 });
    await bus.ensureTopics(topicSpecs(config.kafka));
    const t0 = Date.now();
    const clock = () => t0 + Math.floor((Date.now() - t0) * 0.98);
    const calls: number[] = [];
    const callbacks: GateCallbacks = {
      async decide() {
        calls.push(Date.now());
        return { status: 'done', httpStatus: 200 };
      },
    };
    const worker = await startGateWorker({ bus, config, servicenow, callbacks, log, clock });
    try {
      // Whole seconds, as ServiceNow stores them: 1–2 s from now.
      const opensAt = Math.ceil((Date.now() + 1000) / 1000) * 1000;
      await bus.publish([registered(opensAt)]);
      await sleep(300);
      expect(calls).toEqual([]);
      expect(worker.states()[0]?.gates.windowed?.status).toBe('waiting');
      const deadline = opensAt + 3000;
      while (calls.length === 0 && Date.now() < deadline) await sleep(20);
      expect(calls).toHaveLength(1);
      // Early by the clock, so at or after the opening by the machine's time, never long after.
      expect(calls[0]! - opensAt).toBeLessThan(1000);
      await sleep(300);
      expect(calls).toHaveLength(1);
      expect(worker.states()[0]?.gates.windowed?.status).toBe('released');
    } finally {
      await worker.close();
      await bus.close();
    }
  }, 20_000);
});
