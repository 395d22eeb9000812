import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../../src/sandbox/servicenow/index.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import {
  audited,
  changeByNumber,
  changesOf,
  decisions,
  deploymentData,
  sendChangegate,
  theChange,
} from './flow-support.js';

const TEMPLATE = DEFAULT_TEMPLATES[0]!;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config: {
      changes: {
        policies: [
          {
            name: 'standard-releases',
            match: { project: 'acme/catalog' },
            mode: 'standard',
            template: TEMPLATE.name,
          },
          {
            // A CR raised by hand is linkable by number when it carries this justification.
            name: 'payments',
            match: { project: 'acme/payments', environment: 'prod*' },
            mode: 'normal',
            link: { byNumber: true, fields: { justification: '{{project}} release' } },
          },
          {
            // Links by number and even allows reuse: still only of its own project's CRs.
            name: 'ledger',
            match: { project: 'acme/ledger', environment: 'prod*' },
            mode: 'normal',
            link: { byNumber: true, allowReuse: true },
          },
          { name: 'production', match: { environment: 'prod*' }, mode: 'normal' },
          { name: 'uncontrolled', match: {}, mode: 'none' },
        ],
      },
    },
  });
});
afterAll(async () => stack?.close());

/** Send a deployment.requested whose gate is a generic callback; returns that callback's path. */
async function request(name: string, project: string, deploymentId: string, extra = {}) {
  const url = stack.ci.generic.pending(name);
  const status = await sendChangegate(
    stack,
    'generic/kinds',
    'requested',
    deploymentData(project, deploymentId, { callback: { kind: 'generic', url }, ...extra }),
  );
  expect(status).toBe(202);
  return new URL(url).pathname;
}

describe('which change request a deployment gets', () => {
  it('creates an emergency CR for a flagged deployment and releases it once approved', async () => {
    const path = await request('emergency-1', 'acme/payments', 'em-1', { emergency: true });
    const cr = await theChange(stack, 'generic/kinds/acme/payments/em-1', (r) => r.state === '-3');
    expect(cr.type).toBe('emergency');
    stack.servicenow.admin.approve(cr.number!);
    await eventually(() => stack.ci.generic.state('emergency-1') === 'released');
    expect(decisions(stack, path)).toHaveLength(1);
    expect(changesOf(stack, cr.correlation_id!)).toHaveLength(1);
  });

  it('creates an emergency CR for a hotfix branch', async () => {
    await request('emergency-2', 'acme/payments', 'em-2', {
      commit: { sha: 'abc1234', ref: 'refs/heads/hotfix/PAY-12' },
    });
    const cr = await theChange(stack, 'generic/kinds/acme/payments/em-2');
    expect(cr.type).toBe('emergency');
  });

  it('creates a pre-approved standard CR from the template and releases without an approver', async () => {
    const path = await request('standard-1', 'acme/catalog', 'std-1');
    await eventually(() => stack.ci.generic.state('standard-1') === 'released');
    const [cr] = changesOf(stack, 'generic/kinds/acme/catalog/std-1');
    expect(cr).toMatchObject({
      type: 'standard',
      approval: 'approved',
      state: '-1', // moved from Scheduled to Implement by the gate
      category: TEMPLATE.fields.category,
      implementation_plan: TEMPLATE.fields.implementation_plan,
      backout_plan: TEMPLATE.fields.backout_plan,
    });
    const template = stack.servicenow.admin
      .records('std_change_record_producer')
      .find((t) => t.name === TEMPLATE.name);
    // The CR points at the template's current version (std_change_producer_version), not the template.
    expect(cr?.std_change_producer_version).toBe(template?.current_version);
    expect(template?.current_version).toMatch(/^[0-9a-f]{32}$/);
    expect(decisions(stack, path)).toHaveLength(1);
  });

  it('links the CR the pipeline names instead of creating one', async () => {
    const client = stack.workers.servicenow.clientFor();
    const planned = await client.change.createNormal({
      short_description: 'Q4 payments release',
      justification: 'acme/payments release',
    });
    // Request approval (New → Assess); the approvers move it on, not the client.
    await client.table.patch('change_request', planned.sys_id!, { state: '-4' });
    const before = stack.servicenow.admin.records('change_request').length;

    const path = await request('linked-1', 'acme/payments', 'link-1', {
      changeNumber: planned.number,
    });
    await audited(stack, (a) => a.action === 'change.linked' && a.key === planned.number);
    expect(stack.ci.generic.state('linked-1')).toBe('waiting');
    stack.servicenow.admin.approve(planned.number!);
    await eventually(() => stack.ci.generic.state('linked-1') === 'released');
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
    expect(changeByNumber(stack, planned.number!)?.state).toBe('-1');
    expect(decisions(stack, path)).toHaveLength(1);
  });

  it("refuses project B's deployment naming project A's approved CR, with the reason, creating nothing", async () => {
    // Project A's CR, created and approved for A's deployment.
    const pathA = await request('borrow-a', 'acme/payments', 'borrow-a', {});
    const crA = await theChange(
      stack,
      'generic/kinds/acme/payments/borrow-a',
      (r) => r.approval === 'requested',
    );
    stack.servicenow.admin.approve(crA.number!);
    await eventually(() => stack.ci.generic.state('borrow-a') === 'released');
    const before = stack.servicenow.admin.records('change_request').length;

    // Project B names it (a line in a commit message) under a policy that links by number.
    const pathB = await request('borrow-b', 'acme/ledger', 'borrow-b', {
      changeNumber: crA.number,
    });
    await eventually(() => stack.ci.generic.state('borrow-b') === 'rejected');
    const [call] = decisions(stack, pathB);
    expect(JSON.stringify(call?.body)).toContain(
      `${crA.number} belongs to another deployment (generic/kinds/acme/payments/borrow-a)`,
    );
    const refusal = await audited(
      stack,
      (a) =>
        a.action === 'link-refused' && a.correlationId === 'generic/kinds/acme/ledger/borrow-b',
    );
    expect(refusal.reason).toContain('cannot approve acme/ledger → production');
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
    expect(decisions(stack, pathA)).toHaveLength(1);
  });

  it('refuses a hand-raised CR that does not carry what the policy expects', async () => {
    const client = stack.workers.servicenow.clientFor();
    const stray = await client.change.createNormal({ short_description: 'someone else' });
    await request('stray-1', 'acme/payments', 'stray-1', { changeNumber: stray.number });
    await eventually(() => stack.ci.generic.state('stray-1') === 'rejected');
    const refusal = await audited(
      stack,
      (a) =>
        a.action === 'link-refused' && a.correlationId === 'generic/kinds/acme/payments/stray-1',
    );
    expect(refusal.reason).toMatch(/its justification \(justification\) is ""/);
    // Not bound: it stays free for the deployment it was raised for.
    expect(changeByNumber(stack, stray.number!)?.correlation_id).toBe('');
  });

  it('rejects a deployment that names a CR that does not exist, creating nothing', async () => {
    const before = stack.servicenow.admin.records('change_request').length;
    await request('linked-2', 'acme/payments', 'link-2', { changeNumber: 'CHG9999999' });
    await eventually(() => stack.ci.generic.state('linked-2') === 'rejected');
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
  });

  it('approves a deployment to an environment that is not change-controlled at once', async () => {
    const before = stack.servicenow.admin.records('change_request').length;
    const path = await request('staging-1', 'acme/payments', 'stg-1', { environment: 'staging' });
    await eventually(() => stack.ci.generic.state('staging-1') === 'released');
    const [call] = decisions(stack, path);
    expect(JSON.stringify(call?.body)).toContain('staging is not change-controlled');
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
    await audited(
      stack,
      (a) =>
        a.action === 'not-controlled' && a.correlationId === 'generic/kinds/acme/payments/stg-1',
    );
    // Called back by the gate worker, once, as every gate is.
    await audited(
      stack,
      (a) =>
        a.action === 'gate.released' &&
        a.actor === 'changegate/gate' &&
        a.correlationId === 'generic/kinds/acme/payments/stg-1',
    );
    expect(decisions(stack, path)).toHaveLength(1);
  });
});
