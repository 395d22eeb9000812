import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import { checkRequest } from '../../fixtures/azure-devops-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';
import {
  decisions,
  deploymentData,
  post,
  sendChangegate,
  theChange,
  workNotes,
} from './flow-support.js';

/**
 * Gates whose CI callback cannot succeed, end to end in one process: the decision event and the
 * CR's work note say the CI system was not told, and the emulated CI system shows no release.
 */

const SSO = 'https://sso.acme.example/login?return=%2Fjob%2Fsso-app';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config: {
      gates: { callbackRetry: { firstDelaySeconds: 0.05, maxDelayMinutes: 0.01 } },
      // The CR text carries what the pipeline sent, so a token in it would land in ServiceNow.
      changes: {
        policies: [
          {
            name: 'production',
            match: { environment: 'prod*' },
            shortDescription: 'Deploy {{project}}: {{run.name}}',
            description: 'From CI: {{description}}\nCommit: {{commit.message}}',
          },
        ],
      },
    },
    // A login proxy in front of one Jenkins job: every POST to it bounces to the SSO page.
    fetchImpl: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes('/job/sso-app/') && init?.method === 'POST') {
        return Promise.resolve(new Response(null, { status: 302, headers: { location: SSO } }));
      }
      return fetch(input, init);
    },
  });
});
afterAll(async () => stack?.close());

/** Approve the CR once its approval is requested (the instance asks at Assess). */
async function approveWhenRequested(correlationId: string) {
  const cr = await theChange(stack, correlationId, (r) => r.approval === 'requested');
  stack.servicenow.admin.approve(cr.number!);
  return cr;
}

interface Decided {
  type: string;
  data: { correlationId: string; callback: { status: string; error?: string } };
}

/** The gate decision event of a correlation id, once the worker published it. */
function decisionOf(correlationId: string): Promise<Decided> {
  return eventually(async () => {
    let found: Decided | undefined;
    await stack.bus.readToEnd(stack.config.kafka.topics.changes, (record) => {
      const event = fromRecord(record) as unknown as Decided;
      if (
        event.type.startsWith('dev.changegate.gate.') &&
        event.type !== 'dev.changegate.gate.registered'
      ) {
        if (event.data.correlationId === correlationId) found = event;
      }
    });
    return found;
  }, 20_000);
}

describe('gates whose provider limit or path makes the callback impossible', () => {
  it('an Azure token past 48 h: the callback fails for good, named, and the check is not completed', async () => {
    const check = stack.ci.azure.pending({ issuedAt: Date.now() - 49 * 3600_000 });
    const res = await post(
      stack,
      'azure-devops',
      checkRequest(
        { environment: 'production', project: 'Payments/late', runId: '88' },
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
      ),
    );
    expect(res.status).toBe(202);
    const cr = await approveWhenRequested('azure-devops/Payments/late/88-production');

    const decided = await decisionOf('azure-devops/Payments/late/88-production');
    expect(decided.data.callback.status).toBe('failed');
    expect(decided.data.callback.error).toMatch(/AuthToken expired at .*valid 48 h/);
    // Nothing reached Azure, and the check still waits: no release was claimed or made.
    expect(stack.ci.received().filter((c) => c.path.includes(check.params.planId))).toHaveLength(0);
    expect(stack.ci.azure.state(check.params.planId)).toBe('waiting');
    await eventually(() =>
      workNotes(stack, cr.sys_id!).some((n) => n.includes('The CI system was NOT told: ')),
    );
    expect(JSON.stringify(decided)).not.toContain(check.authToken);
  });

  it('a Jenkins redirect: an error with the reason, never a release, the input still waits', async () => {
    const buildUrl = stack.ci.jenkins.pending('sso-app', 5);
    await sendChangegate(
      stack,
      'jenkins',
      'requested',
      deploymentData('acme/sso-app', 'sso-5-production', {
        callback: { kind: 'jenkins', url: buildUrl, inputId: 'changeGate' },
      }),
    );
    const cr = await approveWhenRequested('jenkins/acme/sso-app/sso-5-production');

    const decided = await decisionOf('jenkins/acme/sso-app/sso-5-production');
    expect(decided.data.callback).toMatchObject({ status: 'failed' });
    expect(decided.data.callback.error).toContain(`redirected to ${SSO}`);
    expect(decided.data.callback.error).toMatch(/not a release/);
    expect(stack.ci.jenkins.state('sso-app', 5)).toBe('waiting');
    expect(decisions(stack, '/job/sso-app/')).toHaveLength(0);
    await eventually(() =>
      workNotes(stack, cr.sys_id!).some((n) => /NOT told: .*redirected to/.test(n)),
    );
  });

  it('a callback that keeps failing is retried with backoff and releases exactly once', async () => {
    const buildUrl = stack.ci.jenkins.pending('flaky-app', 9);
    await sendChangegate(
      stack,
      'jenkins',
      'requested',
      deploymentData('acme/flaky-app', 'flaky-9-production', {
        callback: { kind: 'jenkins', url: buildUrl, inputId: 'ChangeGate' },
      }),
    );
    const cr = await theChange(
      stack,
      'jenkins/acme/flaky-app/flaky-9-production',
      (r) => r.approval === 'requested',
    );
    // More failures than one round of quick attempts: only a later round can release it.
    stack.ci.failNext('jenkins', 503, 6);
    stack.servicenow.admin.approve(cr.number!);

    const decided = await decisionOf('jenkins/acme/flaky-app/flaky-9-production');
    expect(decided.data.callback.status).toBe('done');
    expect(stack.ci.jenkins.state('flaky-app', 9)).toBe('proceeded');
    const calls = stack.ci.received().filter((c) => c.path.includes('/job/flaky-app/'));
    expect(calls.filter((c) => c.effect === 'fault')).toHaveLength(6);
    expect(decisions(stack, '/job/flaky-app/')).toHaveLength(1);
  });
});

describe('an Azure AuthToken pasted into the check body', () => {
  it('never reaches the cicd event, the CR or its description in plaintext', async () => {
    const check = stack.ci.azure.pending();
    const token = check.authToken;
    const res = await post(
      stack,
      'azure-devops',
      checkRequest(
        {
          environment: 'production',
          project: 'Payments/leaky',
          runId: '77',
          runName: `run ${token}`,
          description: `Deploy leaky; debug token: ${token}`,
          commitMessage: `Rotate keys (old: ${token})`,
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
            AuthToken: token,
          },
        },
      ),
    );
    expect(res.status).toBe(202);
    const cr = await theChange(
      stack,
      'azure-devops/Payments/leaky/77-production',
      (r) => r.approval === 'requested',
    );
    expect(cr.description).toContain('From CI: Deploy leaky; debug token: [redacted]');
    expect(cr.description).toContain('Commit: Rotate keys (old: [redacted])');
    expect(cr.short_description).toBe('Deploy Payments/leaky: run [redacted]');
    expect(JSON.stringify(cr)).not.toContain(token);
    for (const topic of [stack.config.kafka.topics.cicd, stack.config.kafka.topics.changes]) {
      await stack.bus.readToEnd(topic, (record) => {
        expect(record.value?.toString('utf8') ?? '').not.toContain(token);
      });
    }
    // The worker still holds the token, sealed, and completes the check with it.
    stack.servicenow.admin.approve(cr.number!);
    await eventually(() => stack.ci.azure.state(check.params.planId) === 'succeeded');
  });
});
