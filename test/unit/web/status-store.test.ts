import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../src/events/build.js';
import type { CrState } from '../../../src/gate/machine.js';
import { StatusStore } from '../../../src/web/status-store.js';
import { deadLetterRecord } from '../../../src/workers/runtime/index.js';

const registeredAt = '2026-11-25T10:00:00.000Z';
function crState(
  number: string,
  status: CrState['gates'][string]['status'],
  reason: string,
): CrState {
  return {
    number,
    change: { sysId: `sys-${number}`, number, state: '-3', approval: 'requested', fields: {} },
    gates: {
      [`gate-${number}`]: {
        gate: {
          gateId: `gate-${number}`,
          changeNumber: number,
          changeSysId: `sys-${number}`,
          provider: 'github',
          project: 'acme/payments',
          environment: 'production',
          deploymentId: 'run-1',
          correlationId: `github/acme/payments/${number}`,
          callback: { kind: 'generic', url: 'https://ci.example.com/cb' },
          policy: 'default',
          registeredAt,
        },
        status,
        reason,
        expiresAt: Date.parse(registeredAt) + 3600_000,
        ...(status === 'released' ? { decidedAt: Date.parse('2026-11-25T10:05:00Z') } : {}),
      },
    },
    touchedAt: Date.parse(registeredAt),
  } as CrState;
}

describe('StatusStore', () => {
  it('shows a waiting gate with what it waits for, then its outcome once decided', () => {
    const store = new StatusStore();
    store.applyGateState(
      'CHG1',
      crState('CHG1', 'waiting', "awaiting approval (approval is 'requested')"),
    );
    const [waiting] = store.snapshot().gates;
    expect(waiting).toMatchObject({
      changeNumber: 'CHG1',
      status: 'waiting',
      waitingFor: 'approval',
      project: 'acme/payments',
      changeState: '-3',
      approval: 'requested',
    });
    store.applyGateState('CHG1', crState('CHG1', 'released', 'CHG1 approved'));
    const [released] = store.snapshot().gates;
    expect(released).toMatchObject({ status: 'released', decidedAt: '2026-11-25T10:05:00.000Z' });
    expect(released?.waitingFor).toBeUndefined();
  });

  it('lists open gates before decided ones and forgets a CR on a tombstone', () => {
    const store = new StatusStore();
    store.applyGateState('CHG1', crState('CHG1', 'released', 'done'));
    store.applyGateState('CHG2', crState('CHG2', 'waiting', 'rule not met: risk == "low"'));
    expect(store.snapshot().gates.map((g) => g.changeNumber)).toEqual(['CHG2', 'CHG1']);
    store.applyGateState('CHG2', null);
    expect(store.snapshot().gates.map((g) => g.changeNumber)).toEqual(['CHG1']);
  });

  it('skips a gate-state value it cannot read instead of throwing', () => {
    const store = new StatusStore();
    expect(store.applyGateState('CHG9', { nonsense: true })).toBe(false);
    expect(store.snapshot().gates).toEqual([]);
  });

  it('summarises change events newest first, once per event id, within the recent budget', () => {
    const store = new StatusStore({ recent: 2 });
    const updated = (minute: number, id: string) =>
      buildEvent(
        {
          type: 'dev.changegate.change.updated',
          subject: 'CHG1',
          key: 'CHG1',
          data: {
            sysId: 's',
            number: 'CHG1',
            state: '-1',
            approval: 'approved',
            deliveryId: id,
            fields: {},
            raw: { truncated: false, bytes: 2, payload: {} },
          },
        },
        { id, source: '/test', time: new Date(Date.UTC(2026, 10, 25, 10, minute)) },
      );
    store.applyChangeEvent(updated(1, 'e1'));
    store.applyChangeEvent(updated(3, 'e3'));
    expect(store.applyChangeEvent(updated(3, 'e3'))).toBe(false);
    store.applyChangeEvent(updated(2, 'e2'));
    const changes = store.snapshot().changes;
    expect(changes.map((c) => c.id)).toEqual(['e3', 'e2']);
    expect(changes[0]).toMatchObject({
      kind: 'change.updated',
      changeNumber: 'CHG1',
      summary: 'ServiceNow: state implement (-1), approval approved',
    });
  });

  it('follows an incident from the audit trail: filed, repeated, resolved', () => {
    const store = new StatusStore();
    const audit = (action: string, extra: object = {}) => ({
      id: action,
      at: '2026-11-25T10:00:00.000Z',
      key: 'INC0010001',
      actor: 'changegate/incident',
      action,
      correlationId: 'fp-1',
      ...extra,
    });
    store.applyAudit(
      audit('incident.created', { reason: 'deploy failed', detail: { change: 'CHG1' } }),
    );
    store.applyAudit(audit('incident.repeated', { reason: 'failed again', detail: { count: 3 } }));
    expect(store.snapshot().incidents).toEqual([
      expect.objectContaining({
        number: 'INC0010001',
        status: 'open',
        count: 3,
        changeNumber: 'CHG1',
      }),
    ]);
    store.applyAudit(audit('incident.resolved', { reason: 'succeeded' }));
    expect(store.snapshot().incidents[0]).toMatchObject({ status: 'resolved', count: 3 });
    expect(store.applyAudit(audit('gate.released'))).toBe(false);
  });

  it('counts dead letters and keeps the worker and error of the latest', () => {
    const store = new StatusStore();
    for (const n of [1, 2, 3]) {
      // Written as the worker runtime writes them.
      const letter = deadLetterRecord(
        'changegate.dlq',
        'change',
        {
          topic: 'changegate.cicd.events',
          partition: 0,
          offset: String(n),
          key: `k${n}`,
          value: null,
          headers: {},
          timestamp: 0,
        },
        new Error(`boom ${n}`),
        5,
        new Date(Date.UTC(2026, 10, 25, 10, n)),
      );
      store.applyDeadLetter({ ...letter, timestamp: Date.UTC(2026, 10, 25, 10, n) });
    }
    const { dlq } = store.snapshot();
    expect(dlq.size).toBe(3);
    expect(dlq.recent[0]).toMatchObject({
      key: 'k3',
      worker: 'change',
      error: 'boom 3',
      originTopic: 'changegate.cicd.events',
      at: '2026-11-25T10:03:00.000Z',
    });
  });

  it('shows a DLQ record someone else wrote as of an unknown worker', () => {
    const store = new StatusStore();
    store.applyDeadLetter({ key: 'x', timestamp: 0, headers: { 'changegate-worker': 'change' } });
    expect(store.snapshot().dlq.recent[0]).toMatchObject({ worker: 'unknown', error: '' });
  });

  it('tells its listeners about every change and stops after unsubscribe', () => {
    const store = new StatusStore();
    let calls = 0;
    const off = store.onChange(() => (calls += 1));
    store.applyGateState('CHG1', crState('CHG1', 'waiting', 'registered'));
    off();
    store.applyGateState('CHG1', crState('CHG1', 'released', 'ok'));
    expect(calls).toBe(1);
  });

  it('forgets the oldest finished CRs past its budget but keeps every open gate', () => {
    const store = new StatusStore({ recent: 2 });
    store.applyGateState('OPEN', crState('OPEN', 'waiting', 'registered'));
    for (let i = 0; i < 10; i++) store.applyGateState(`D${i}`, crState(`D${i}`, 'released', 'ok'));
    const numbers = store.snapshot().gates.map((g) => g.changeNumber);
    expect(numbers).toContain('OPEN');
    expect(numbers).not.toContain('D0');
    expect(numbers.length).toBeLessThanOrEqual(3);
  });
});
