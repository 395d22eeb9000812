import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../support/stack.js';
import {
  audited,
  changeByNumber,
  changesOf,
  deploymentData,
  sendChangegate,
  theChange,
  workNotes,
  type DeploymentType,
} from './flow-support.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config: {
      changes: {
        policies: [
          {
            name: 'fragile',
            match: { project: 'acme/fragile', environment: 'prod*' },
            mode: 'normal',
            onFailure: 'follow-up',
          },
          { name: 'production', match: { environment: 'prod*' }, mode: 'normal' },
          { name: 'uncontrolled', match: {}, mode: 'none' },
        ],
      },
    },
  });
});
afterAll(async () => stack?.close());

const correlation = (project: string, id: string) => `generic/life/${project}/${id}`;

/** Send one step of a deployment and wait until the change worker audited it. */
async function deploy(type: DeploymentType, project: string, id: string, action: string) {
  expect(await sendChangegate(stack, 'generic/life', type, deploymentData(project, id))).toBe(202);
  return audited(stack, (a) => a.action === action && a.correlationId === correlation(project, id));
}

/** A CR created for a deployment without a gate, approved so it waits in Scheduled. */
async function scheduledChange(project: string, id: string) {
  await deploy('requested', project, id, 'change.created');
  const cr = await theChange(stack, correlation(project, id), (r) => r.approval === 'requested');
  stack.servicenow.admin.approve(cr.number!);
  expect(changeByNumber(stack, cr.number!)?.state).toBe('-2');
  return cr;
}

describe('the change request follows its deployment', () => {
  it('moves the CR to Implement with a work note when the deployment starts, and closes it successful when it succeeds', async () => {
    const cr = await scheduledChange('acme/payments', 'life-1');

    await deploy('started', 'acme/payments', 'life-1', 'change.noted');
    expect(changeByNumber(stack, cr.number!)?.state).toBe('-1');
    expect(workNotes(stack, cr.sys_id!)).toContainEqual(
      'changegate: deployment of acme/payments to production started. Run: https://ci.acme.example/runs/life-1',
    );

    await deploy('succeeded', 'acme/payments', 'life-1', 'change.closed');
    const closed = changeByNumber(stack, cr.number!);
    expect(closed).toMatchObject({ state: '3', close_code: 'successful', active: 'false' });
    expect(closed?.close_notes).toContain('succeeded');
    expect(workNotes(stack, cr.sys_id!).some((n) => n.includes('production succeeded'))).toBe(true);
  });

  it('only notes a start on a CR still awaiting approval, without forcing it to Implement', async () => {
    await deploy('requested', 'acme/payments', 'life-early', 'change.created');
    const cr = await theChange(
      stack,
      correlation('acme/payments', 'life-early'),
      (r) => r.approval === 'requested',
    );
    await deploy('started', 'acme/payments', 'life-early', 'change.noted');
    // Technical approval is requested at Assess; nothing moves it on before the approvers.
    expect(changeByNumber(stack, cr.number!)).toMatchObject({ state: '-4', approval: 'requested' });
    expect(workNotes(stack, cr.sys_id!)).toContainEqual(
      'changegate: deployment of acme/payments to production started. Run: https://ci.acme.example/runs/life-early',
    );
  });

  it('closes the CR unsuccessful when the deployment fails', async () => {
    const cr = await scheduledChange('acme/payments', 'life-2');
    await deploy('started', 'acme/payments', 'life-2', 'change.noted');
    const line = await deploy('failed', 'acme/payments', 'life-2', 'change.closed');
    expect(line.detail).toEqual({ closeCode: 'unsuccessful' });
    expect(changeByNumber(stack, cr.number!)).toMatchObject({
      state: '3',
      close_code: 'unsuccessful',
    });
    expect(workNotes(stack, cr.sys_id!).some((n) => n.includes('production failed'))).toBe(true);
    expect(changesOf(stack, `${correlation('acme/payments', 'life-2')}/follow-up`)).toEqual([]);
  });

  it('opens a follow-up CR whose parent is the failed one when the policy says follow-up', async () => {
    const cr = await scheduledChange('acme/fragile', 'life-3');
    await deploy('started', 'acme/fragile', 'life-3', 'change.noted');
    await deploy('failed', 'acme/fragile', 'life-3', 'change.closed');
    expect(changeByNumber(stack, cr.number!)).toMatchObject({
      state: '3',
      close_code: 'unsuccessful',
    });
    const followUps = changesOf(stack, `${correlation('acme/fragile', 'life-3')}/follow-up`);
    expect(followUps).toHaveLength(1);
    expect(followUps[0]).toMatchObject({ parent: cr.sys_id, active: 'true' });
    expect(followUps[0]?.short_description).toContain(`Follow-up / rollback for ${cr.number}`);
  });

  it('touches nothing in ServiceNow for a deployment whose CR it does not know', async () => {
    const patches = () =>
      stack.servicenow.admin.requests().filter((r) => r.method === 'PATCH').length;
    const before = stack.servicenow.admin.records('change_request').length;
    const patchesBefore = patches();

    for (const type of ['started', 'succeeded', 'failed'] as const) {
      const line = await deploy(type, 'acme/payments', `ghost-${type}`, 'skipped');
      expect(line.reason).toBe(`deployment ${type} but no change request is known for it`);
    }
    expect(patches()).toBe(patchesBefore);
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
  });

  it('touches nothing for a deployment that names a CR ServiceNow does not have', async () => {
    const patchesBefore = stack.servicenow.admin.requests().filter((r) => r.method === 'PATCH');
    const data = deploymentData('acme/payments', 'ghost-named', { changeNumber: 'CHG0999999' });
    expect(await sendChangegate(stack, 'generic/life', 'succeeded', data)).toBe(202);
    await audited(
      stack,
      (a) =>
        a.action === 'skipped' && a.correlationId === correlation('acme/payments', 'ghost-named'),
    );
    expect(stack.servicenow.admin.requests().filter((r) => r.method === 'PATCH')).toHaveLength(
      patchesBefore.length,
    );
  });
});
