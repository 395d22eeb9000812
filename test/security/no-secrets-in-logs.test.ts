import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubFixture, githubRequest } from '../fixtures/github-request.js';
import { gitlabRequest } from '../fixtures/gitlab-request.js';
import { signedRequest } from '../fixtures/standard-webhook-request.js';
import { SECRETS, eventually } from '../support/stack.js';
import { startLoggedStack, type LoggedStack } from './support/logged-stack.js';

let stack: LoggedStack;
beforeAll(async () => {
  stack = await startLoggedStack();
});
afterAll(async () => stack?.close());

async function post(route: string, request: { headers: Headers; body: Uint8Array }) {
  const res = await fetch(`${stack.receiver.url}/hooks/${route}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function approveWhenRequested(correlationId: string) {
  const cr = await eventually(() =>
    stack.servicenow.admin
      .records('change_request')
      .find((r) => r.correlation_id === correlationId && r.approval === 'requested'),
  );
  stack.servicenow.admin.approve(cr.number!);
}

/** Every configured secret, in the forms a careless log line could carry it. */
function configuredSecrets(): string[] {
  const { credentials } = stack.ci;
  const whsecKey = (s: string) => s.replace(/^whsec_/, '');
  const pemBody = (credentials.githubAppPrivateKey ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'));
  return [
    SECRETS.github,
    SECRETS.gitlab,
    SECRETS.whsec,
    whsecKey(SECRETS.whsec),
    SECRETS.azureBasic,
    SECRETS.azureBasic.split(':')[1]!,
    Buffer.from(SECRETS.azureBasic).toString('base64'),
    'sandbox-oauth-secret-4711',
    credentials.gitlabToken,
    credentials.jenkinsToken,
    credentials.genericSecret,
    whsecKey(credentials.genericSecret),
    // Any one line of the App's private key is enough to call it leaked.
    ...pemBody.slice(1, 3),
  ];
}

describe('logs of a run with known secrets', () => {
  it('contain no configured secret and no token changegate sent or received', async () => {
    // Gated releases through three CI systems: OAuth to ServiceNow, a GitHub App installation
    // token, a GitLab token, a signed generic callback.
    const gh = githubFixture('deployment_protection_rule.requested');
    gh.deployment_callback_url = stack.ci.github.pending('acme', 'payments', 9001, 'production');
    gh.environment = 'production';
    expect(
      await post(
        'github',
        githubRequest('deployment_protection_rule', gh, {
          secret: SECRETS.github,
          deliveryId: 'sec-1',
        }),
      ),
    ).toBe(202);
    await approveWhenRequested('github/acme/payments/run-9001-production');

    // GitLab's hook delivers the Pipeline Hook of a deploy job waiting for approval.
    stack.ci.gitlab.hooks({ url: `${stack.receiver.url}/hooks/gitlab`, token: SECRETS.gitlab });
    const gl = await stack.ci.gitlab.pipeline({ projectId: 30, projectPath: 'acme/payments' });
    await approveWhenRequested(`gitlab/acme/payments/job-${gl.jobId}`);

    const url = stack.ci.generic.pending('sec-wf');
    const body = {
      type: 'deployment.requested',
      timestamp: new Date().toISOString(),
      data: {
        project: 'acme/ingress',
        environment: 'production',
        deploymentId: 'sec-3',
        run: { id: 'sec-3-run' },
        callback: { kind: 'generic', url },
      },
    };
    const generic = signedRequest(body, { secret: SECRETS.whsec, id: 'msg_sec3', at: new Date() });
    expect(await post('generic/argo', generic)).toBe(202);
    await approveWhenRequested('generic/argo/acme/ingress/sec-3');

    await eventually(
      () => stack.ci.received().filter((c) => c.effect === 'released').length === 3,
      15_000,
    );

    // Deliveries that carry a real secret and are refused or not understood: logged, the secret
    // is not. (A verified body that is not JSON is accepted as webhook.received.)
    const badBody = gitlabRequest('Deployment Hook', {}, { token: SECRETS.gitlab, body: '{"x":' });
    expect(await post('gitlab', badBody)).toBe(202);
    const unsignedId = githubRequest('deployment_protection_rule', gh, {
      secret: SECRETS.github,
      omit: ['x-github-delivery'],
    });
    expect(await post('github', unsignedId)).toBe(401);
    const stale = signedRequest(body, {
      secret: SECRETS.whsec,
      at: new Date(Date.now() - 3600_000),
    });
    expect(await post('jenkins', stale)).toBe(401);
    const azure = new Headers({
      authorization: `Basic ${Buffer.from(SECRETS.azureBasic).toString('base64')}`,
      'content-type': 'application/json',
    });
    expect(
      await post('azure-devops', { headers: azure, body: new TextEncoder().encode('[]') }),
    ).toBe(202);

    const logs = stack.logs();
    const secrets = [...new Set([...configuredSecrets(), ...stack.wireSecrets()])].filter(
      (s) => s.length >= 8,
    );
    const leaks = secrets.flatMap((s) =>
      logs.filter((l) => l.includes(s)).map((l) => `${s.slice(0, 6)}…: ${l.slice(0, 200)}`),
    );
    console.log(
      `no-secrets-in-logs: ${logs.length} log lines (level trace) checked against ${secrets.length} secrets (${stack.wireSecrets().size} seen on the wire): ${leaks.length} found`,
    );
    expect(stack.wireSecrets().size).toBeGreaterThanOrEqual(3);
    expect(logs.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  }, 40_000);
});
