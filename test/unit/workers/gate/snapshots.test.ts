import { describe, expect, it } from 'vitest';
import { DeploymentDataSchema } from '../../../../src/events/cicd.js';
import { ChangeSnapshotSchema } from '../../../../src/events/gate.js';
import { ChangeUpdatedDataSchema } from '../../../../src/events/servicenow.js';
import { isNewer } from '../../../../src/gate/machine.js';
import { gateIdOf } from '../../../../src/workers/change/index.js';
import { snapshotOf } from '../../../../src/workers/gate/index.js';
import { snapshotFromRecord } from '../../../../src/workers/gate/servicenow-port.js';

const record = {
  sys_id: '9d385017c611228701d22104cc95c371',
  number: 'CHG0030001',
  state: '-2',
  approval: 'approved',
  start_date: '2026-11-25 09:00:00',
  end_date: '2026-11-25 11:00:00',
  risk: '3',
  sys_mod_count: '7',
  sys_updated_on: '2026-11-25 08:59:12',
};

describe('snapshotFromRecord', () => {
  it('lifts the fields rules read by name and keeps the rest for free-form rules', () => {
    const snapshot = snapshotFromRecord(record);
    expect(ChangeSnapshotSchema.parse(snapshot)).toEqual(snapshot);
    expect(snapshot).toMatchObject({
      sysId: record.sys_id,
      number: 'CHG0030001',
      state: '-2',
      approval: 'approved',
      startDate: '2026-11-25 09:00:00',
      endDate: '2026-11-25 11:00:00',
      modCount: 7,
      updatedAt: '2026-11-25 08:59:12',
    });
    expect(snapshot.fields.risk).toBe('3');
  });

  it('leaves out an empty window and a sys_mod_count that is not a count', () => {
    const snapshot = snapshotFromRecord({
      ...record,
      start_date: '',
      end_date: '',
      sys_mod_count: 'x',
    });
    expect(snapshot).not.toHaveProperty('startDate');
    expect(snapshot).not.toHaveProperty('endDate');
    expect(snapshot).not.toHaveProperty('modCount');
  });
});

describe('snapshotOf', () => {
  const message = ChangeUpdatedDataSchema.parse({
    sysId: record.sys_id,
    number: record.number,
    state: '-1',
    approval: 'approved',
    startDate: record.start_date,
    endDate: record.end_date,
    fields: { risk: '3', sys_mod_count: '8' },
    updatedAt: '2026-11-25 09:00:03',
    deliveryId: 'msg_1',
    raw: { truncated: false, bytes: 0, payload: null },
  });

  it('reads a business-rule message as the snapshot the rules read', () => {
    expect(snapshotOf(message)).toEqual({
      sysId: record.sys_id,
      number: record.number,
      state: '-1',
      approval: 'approved',
      startDate: record.start_date,
      endDate: record.end_date,
      fields: { risk: '3', sys_mod_count: '8' },
      modCount: 8,
      updatedAt: '2026-11-25 09:00:03',
    });
  });

  it('orders a pushed update after the record read at registration', () => {
    expect(isNewer(snapshotOf(message), snapshotFromRecord(record))).toBe(true);
    expect(isNewer(snapshotFromRecord(record), snapshotOf(message))).toBe(false);
  });
});

describe('gateIdOf', () => {
  const deployment = (overrides: Record<string, unknown> = {}) =>
    DeploymentDataSchema.parse({
      provider: 'generic',
      project: 'acme/payments',
      event: 'deployment.requested',
      deliveryId: 'd-1',
      raw: { truncated: false, bytes: 0, payload: null },
      environment: 'production',
      deploymentId: 'rel-1',
      correlationId: 'generic/ci/acme/payments/rel-1',
      run: { id: 'run-1', attempt: 1 },
      callback: { kind: 'generic', url: 'https://ci.example/gates/1' },
      ...overrides,
    });

  it('maps a redelivered request to the same gate', () => {
    expect(gateIdOf(deployment())).toBe(gateIdOf(deployment({ deliveryId: 'd-2' })));
    expect(gateIdOf(deployment())).toMatch(/^gate-[0-9a-f]{16}$/);
  });

  it('gives a re-run, another callback or another deployment its own gate', () => {
    const id = gateIdOf(deployment());
    expect(gateIdOf(deployment({ run: { id: 'run-1', attempt: 2 } }))).not.toBe(id);
    expect(
      gateIdOf(deployment({ callback: { kind: 'generic', url: 'https://ci.example/gates/2' } })),
    ).not.toBe(id);
    expect(gateIdOf(deployment({ correlationId: 'generic/ci/acme/payments/rel-2' }))).not.toBe(id);
  });

  it('treats a run without an attempt as attempt 1', () => {
    expect(gateIdOf(deployment({ run: { id: 'run-1' } }))).toBe(gateIdOf(deployment()));
  });
});
