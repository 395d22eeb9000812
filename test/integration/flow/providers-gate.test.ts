import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../../fixtures/azure-devops-request.js';
import { gitlabFixture, gitlabRequest } from '../../fixtures/gitlab-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';
import {
  changeByNumber,
  decisions,
  deploymentData,
  post,
  sendChangegate,
  theChange,
  workNotes,
  outboundSettled,
} from './flow-support.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

/** Approve the CR once it waits in Authorize; returns it as it was then. */
async function approveWhenRequested(correlationId: string) {
  const cr = await theChange(stack, correlationId, (r) => r.approval === 'requested');
  stack.servicenow.admin.approve(cr.number!);
  return cr;
}

describe('gates of every CI system, in one process', () => {
  it('releases a blocked GitLab deployment once its CR is approved', async () => {
    const payload = gitlabFixture('deployment.blocked');
    payload.project = { ...(payload.project as object), web_url: `${stack.ci.url}/acme/payments` };
    payload.commit_title = 'Add idempotent refunds';
    payload.deployment_id = 7001;
    const approvalPath = new URL(stack.ci.gitlab.pending(30, 7001)).pathname;

    const res = await post(
      stack,
      'gitlab',
      gitlabRequest('Deployment Hook', payload, {
        token: SECRETS.gitlab,
        instance: null,
        idempotencyKey: 'gl-flow-7001',
      }),
    );
    expect(res.status).toBe(202);

    const cr = await approveWhenRequested('gitlab/acme/payments/7001');
    const released = await stack.ci.waitFor(
      (c) => c.path === approvalPath && c.effect === 'released',
      10_000,
    );
    expect(released.body).toMatchObject({ status: 'approved' });
    expect(stack.ci.gitlab.state(30, 7001)).toBe('approved');
    expect(changeByNumber(stack, cr.number!)?.state).toBe('-1');
    await eventually(() =>
      workNotes(stack, cr.sys_id!).some((n) => n.startsWith('changegate: gate released')),
    );
    expect(decisions(stack, approvalPath)).toHaveLength(1);
  });

  it('completes an Azure DevOps check with the job token sealed in the event and opened by the worker', async () => {
    const check = stack.ci.azure.pending();
    const request = checkRequest(
      {
        environment: 'production',
        project: 'Payments/payments-api',
        runId: '2719',
        runUrl: 'https://dev.azure.com/fabrikam/Payments/_build/results?buildId=2719',
        sha: '5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e',
        ref: 'refs/heads/main',
      },
      {
        authorization: `Basic ${Buffer.from(SECRETS.azureBasic).toString('base64')}`,
        headers: {
          PlanUrl: `${stack.ci.url}/`,
          ProjectId: check.params.projectId,
          HubName: check.params.hubName,
          PlanId: check.params.planId,
          JobId: check.params.jobId,
          TaskInstanceId: check.params.taskInstanceId,
          TimelineId: check.params.timelineId,
          AuthToken: check.authToken,
        },
      },
    );
    const res = await post(stack, 'azure-devops', request);
    expect(res.status).toBe(202);

    // The token never travels in clear through the bus.
    let sawSealed = false;
    await stack.bus.readToEnd(stack.config.kafka.topics.cicd, (record) => {
      const text = record.value?.toString('utf8') ?? '';
      expect(text).not.toContain(check.authToken);
      if (text.includes(check.params.planId) && text.includes('"sealed"')) sawSealed = true;
    });
    expect(sawSealed).toBe(true);

    await approveWhenRequested('azure-devops/Payments/payments-api/2719-production');
    const released = await stack.ci.waitFor(
      (c) => c.path.includes(check.params.planId) && c.effect === 'released',
      10_000,
    );
    expect(released.body).toMatchObject({ name: 'TaskCompleted', result: 'succeeded' });
    expect(stack.ci.azure.state(check.params.planId)).toBe('succeeded');
  });

  it('proceeds a Jenkins input step once its CR is approved', async () => {
    const buildUrl = stack.ci.jenkins.pending('payments/main', 142, 'ChangeGate');
    const status = await sendChangegate(
      stack,
      'jenkins',
      'requested',
      deploymentData('acme/jenkins-payments', '1.42.0-production', {
        callback: { kind: 'jenkins', url: buildUrl, inputId: 'changeGate' },
      }),
    );
    expect(status).toBe(202);
    await approveWhenRequested('jenkins/acme/jenkins-payments/1.42.0-production');
    const released = await stack.ci.waitFor(
      (c) => c.provider === 'jenkins' && c.effect === 'released',
      10_000,
    );
    expect(released.path).toBe('/job/payments/job/main/142/input/ChangeGate/proceedEmpty');
    expect(stack.ci.jenkins.state('payments/main', 142)).toBe('proceeded');
  });

  it('releases a generic source through its signed callback', async () => {
    const url = stack.ci.generic.pending('argo-wf-1');
    const status = await sendChangegate(
      stack,
      'generic/argo',
      'requested',
      deploymentData('platform/ingress', 'ingress-1-prod', { callback: { kind: 'generic', url } }),
    );
    expect(status).toBe(202);
    await approveWhenRequested('generic/argo/platform/ingress/ingress-1-prod');
    await eventually(() => stack.ci.generic.state('argo-wf-1') === 'released');
    expect(decisions(stack, '/generic/argo-wf-1')).toHaveLength(1);
  });

  it('rejects the deployment once, when the CR is rejected', async () => {
    const url = stack.ci.generic.pending('argo-wf-2');
    await sendChangegate(
      stack,
      'generic/argo',
      'requested',
      deploymentData('platform/ingress', 'ingress-2-prod', { callback: { kind: 'generic', url } }),
    );
    const cr = await theChange(
      stack,
      'generic/argo/platform/ingress/ingress-2-prod',
      (r) => r.approval === 'requested',
    );
    stack.servicenow.admin.reject(cr.number!, 'not during the sale');
    const rejected = await stack.ci.waitFor(
      (c) => c.path === '/generic/argo-wf-2' && c.effect === 'rejected',
      10_000,
    );
    expect(rejected.body).toMatchObject({ type: 'gate.rejected' });
    expect(JSON.stringify(rejected.body)).toContain(`${cr.number} was rejected`);
    expect(stack.ci.generic.state('argo-wf-2')).toBe('rejected');
    // Nothing later turns a rejection into a release.
    await outboundSettled(stack);
    expect(decisions(stack, '/generic/argo-wf-2')).toHaveLength(1);
  });
});
