import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest } from '../../fixtures/azure-devops-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';
import {
  changeByNumber,
  decisions,
  deploymentData,
  post,
  sendChangegate,
  theChange,
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
  it('releases a GitLab deploy job waiting for approval: approves it, plays it, closes the CR', async () => {
    // GitLab's own hook (pipeline + deployment events) points at the receiver.
    stack.ci.gitlab.hooks({ url: `${stack.receiver.url}/hooks/gitlab`, token: SECRETS.gitlab });
    const g = await stack.ci.gitlab.pipeline({ projectId: 31, projectPath: 'acme/payments' });
    const correlationId = `gitlab/acme/payments/job-${g.jobId}`;

    const cr = await approveWhenRequested(correlationId);
    const played = await stack.ci.waitFor(
      (c) => c.path === `/api/v4/projects/31/jobs/${g.jobId}/play` && c.effect === 'released',
      10_000,
    );
    expect(played.status).toBe(200);
    const approval = stack.ci
      .received()
      .filter((c) => c.path === `/api/v4/projects/31/deployments/${g.deploymentId}/approval`);
    expect(approval.map((c) => c.effect)).toEqual(['approved']);
    // Deployment Hooks running, then success, close the CR.
    await eventually(() => changeByNumber(stack, cr.number!)?.state === '3');
    expect(changeByNumber(stack, cr.number!)?.close_code).toBe('successful');
    expect(stack.ci.gitlab.job(31, g.jobId)).toMatchObject({ status: 'success', plays: 1 });
    const hooks = stack.ci.gitlab.deliveries().filter((d) => d.event === 'Deployment Hook');
    expect(hooks.map((d) => d.payload.status)).toEqual(['running', 'success']);
    expect(stack.ci.gitlab.deliveries().every((d) => d.status === 202)).toBe(true);
    await outboundSettled(stack);
    expect(
      stack.ci.received().filter((c) => c.path.endsWith(`/jobs/${g.jobId}/play`)),
    ).toHaveLength(1);
  });

  it('rejects a GitLab deploy job when its CR is rejected: GitLab drops the job', async () => {
    stack.ci.gitlab.hooks({ url: `${stack.receiver.url}/hooks/gitlab`, token: SECRETS.gitlab });
    const g = await stack.ci.gitlab.pipeline({ projectId: 32, projectPath: 'acme/ledger' });
    const cr = await theChange(
      stack,
      `gitlab/acme/ledger/job-${g.jobId}`,
      (r) => r.approval === 'requested',
    );
    stack.servicenow.admin.reject(cr.number!, 'not during the sale');
    const rejected = await stack.ci.waitFor(
      (c) =>
        c.path === `/api/v4/projects/32/deployments/${g.deploymentId}/approval` &&
        c.effect === 'rejected',
      10_000,
    );
    expect(rejected.body).toMatchObject({ status: 'rejected' });
    expect(stack.ci.gitlab.job(32, g.jobId)).toMatchObject({
      status: 'failed',
      failureReason: 'deployment_rejected',
      plays: 0,
    });
    await outboundSettled(stack);
    expect(stack.ci.received().some((c) => c.path.endsWith(`/jobs/${g.jobId}/play`))).toBe(false);
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
