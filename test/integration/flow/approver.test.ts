import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { auditTrail, deploymentData, sendChangegate, theChange } from './flow-support.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config: {
      changes: {
        policies: [
          { name: 'ledger', match: { project: 'acme/ledger' }, mode: 'normal', gate: 'sod' },
          { name: 'production', match: { environment: 'prod*' }, mode: 'normal' },
          { name: 'uncontrolled', match: {}, mode: 'none' },
        ],
      },
      gates: {
        policies: {
          default: {},
          // The CI login jdoe is the ServiceNow user cab.approver.
          sod: { separationOfDuties: { identities: { jdoe: 'cab.approver' } } },
        },
      },
    },
  });
});
afterAll(async () => stack?.close());

/** The data of every `type` event on the changes topic about `number`. */
async function eventsOf(type: string, number: string) {
  const out: Record<string, unknown>[] = [];
  await stack.bus.readToEnd(stack.config.kafka.topics.changes, (record) => {
    const event = fromRecord(record);
    const data = event.data as Record<string, unknown>;
    if (event.type === type && data.changeNumber === number) out.push(data);
  });
  return out;
}

describe('who approved a released deployment', () => {
  it('puts the approvers of the CR on gate.released and in the audit entry, read once', async () => {
    const url = stack.ci.generic.pending('approver-1');
    await sendChangegate(
      stack,
      'generic/approver',
      'requested',
      deploymentData('acme/payments', 'approver-1', { callback: { kind: 'generic', url } }),
    );
    const cr = await theChange(
      stack,
      'generic/approver/acme/payments/approver-1',
      (r) => r.approval === 'requested',
    );
    // Technical approval at Assess, then CAB at Authorize, each by its own approver.
    stack.servicenow.admin.approve(cr.number!);
    await eventually(() => stack.ci.generic.state('approver-1') === 'released');

    const [released] = await eventually(async () => {
      const found = await eventsOf('dev.changegate.gate.released', cr.number!);
      return found.length > 0 ? found : undefined;
    });
    const approvedBy = released!.approvedBy as { userName?: string; sysId: string }[];
    expect(approvedBy.map((a) => a.userName)).toEqual(['tech.approver', 'cab.approver']);
    const records = stack.servicenow.admin
      .records('sysapproval_approver')
      .filter((a) => a.sysapproval === cr.sys_id && a.state === 'approved');
    expect(approvedBy.map((a) => a.sysId).sort()).toEqual(records.map((a) => a.approver).sort());

    const audit = (await auditTrail(stack)).find(
      (a) => a.action === 'gate.released' && a.key === cr.number,
    );
    expect((audit?.detail as { approvedBy?: unknown }).approvedBy).toEqual(approvedBy);

    // Read once, at the release: one query of the approval records for this CR.
    const reads = stack.servicenow.admin
      .requests()
      .filter(
        (r) =>
          r.method === 'GET' &&
          r.path === '/api/now/table/sysapproval_approver' &&
          decodeURIComponent(r.query).includes(cr.sys_id!),
      );
    expect(reads).toHaveLength(1);
  });

  it('rejects the deployment when its trigger actor approved the CR, says why and audits it', async () => {
    const url = stack.ci.generic.pending('sod-1');
    await sendChangegate(
      stack,
      'generic/approver',
      'requested',
      deploymentData('acme/ledger', 'sod-1', { callback: { kind: 'generic', url }, actor: 'jdoe' }),
    );
    const cr = await theChange(
      stack,
      'generic/approver/acme/ledger/sod-1',
      (r) => r.approval === 'requested',
    );
    stack.servicenow.admin.approve(cr.number!);
    await eventually(() => stack.ci.generic.state('sod-1') === 'rejected');
    const reason =
      "separation of duties: cab.approver approved, and is the deployment's trigger actor (jdoe is mapped to cab.approver)";
    const call = stack.ci
      .received()
      .find((c) => c.path.startsWith(new URL(url).pathname) && c.effect === 'rejected');
    expect(JSON.stringify(call?.body)).toContain(reason);
    const audit = await eventually(async () =>
      (await auditTrail(stack)).find((a) => a.action === 'gate.rejected' && a.key === cr.number),
    );
    expect(audit.reason).toBe(reason);
  });
});
