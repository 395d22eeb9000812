import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  // Production links a CR named by a Change trailer (off by default), and a CR of this project
  // may serve another of its deployments (a linked CR must belong to the project).
  stack = await startStack({
    config: {
      changes: {
        policies: [
          {
            name: 'production',
            match: { environment: 'prod*' },
            mode: 'normal',
            link: { byNumber: true, allowReuse: true },
          },
          { name: 'uncontrolled', match: {}, mode: 'none' },
        ],
      },
    },
  });
});
afterAll(async () => stack?.close());

async function post(path: string, request: { headers: Headers; body: Uint8Array }) {
  return fetch(`${stack.receiver.url}${path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

function protectionRule(runId: number, environment = 'production') {
  const callback = stack.ci.github.pending('acme', 'payments', runId, environment);
  const payload = githubFixture('deployment_protection_rule.requested');
  payload.deployment_callback_url = callback;
  payload.environment = environment;
  return payload;
}

describe('GitHub deployment protection rule, in one process', () => {
  it('creates one CR, and releases the deployment once the CR is approved and implementing', async () => {
    const payload = protectionRule(1001);
    const res = await post(
      '/hooks/github',
      githubRequest('deployment_protection_rule', payload, {
        secret: SECRETS.github,
        deliveryId: 'flow-1',
      }),
    );
    expect(res.status).toBe(202);

    const cr = await eventually(() =>
      stack.servicenow.admin
        .records('change_request')
        .find(
          (r) =>
            r.correlation_id === 'github/acme/payments/run-1001-production' &&
            r.approval === 'requested',
        ),
    ); // Authorize: approval requested
    expect(stack.ci.received().filter((c) => c.effect === 'released')).toHaveLength(0);

    stack.servicenow.admin.approve(cr.number!);
    const released = await stack.ci.waitFor((c) => c.effect === 'released', 10_000);
    expect(released.provider).toBe('github');
    const after = stack.servicenow.admin
      .records('change_request')
      .find((r) => r.number === cr.number)!;
    expect(after.state).toBe('-1'); // moved to Implement by the gate before releasing
    expect(
      stack.servicenow.admin
        .records('change_request')
        .filter((r) => r.correlation_id === cr.correlation_id),
    ).toHaveLength(1);
  });
});

describe('GitHub CR named by a Change trailer of the deployed commit', () => {
  const changes: ConsumedRecord[] = [];
  beforeAll(async () => {
    await stack.bus.subscribe({
      groupId: 't-trailer-changes',
      topics: [stack.config.kafka.topics.changes],
      fromBeginning: true,
      handler: async (r) => void changes.push(r),
    });
  });

  it('reads the commit once and links the CR it names instead of creating one', async () => {
    const first = protectionRule(3001);
    await post(
      '/hooks/github',
      githubRequest('deployment_protection_rule', first, {
        secret: SECRETS.github,
        deliveryId: 'trailer-1',
      }),
    );
    const cr = await eventually(() =>
      stack.servicenow.admin
        .records('change_request')
        .find((r) => r.correlation_id === 'github/acme/payments/run-3001-production'),
    );

    // A later deployment of another commit whose message names that CR; the payload names none.
    const sha = 'c0ffee0000000000000000000000000000000001';
    const installationId = String((first.installation as { id: number }).id);
    stack.ci.github.commit(
      'acme',
      'payments',
      sha,
      `Refunds\n\nChange: ${cr.number}\n`,
      installationId,
    );
    const second = protectionRule(3002, 'prod-eu');
    (second.deployment as { sha: string }).sha = sha;
    second.pull_requests = [];
    const before = stack.servicenow.admin.records('change_request').length;
    await post(
      '/hooks/github',
      githubRequest('deployment_protection_rule', second, {
        secret: SECRETS.github,
        deliveryId: 'trailer-2',
      }),
    );
    await stack.ci.waitFor((c) => c.path.endsWith(`/commits/${sha}`), 10_000);
    const linked = await eventually(() =>
      changes.find(
        (r) =>
          r.headers.ce_type === 'dev.changegate.change.linked' &&
          r.value?.toString().includes('run-3002-prod-eu'),
      ),
    );
    expect(linked.value?.toString()).toContain(cr.number);
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
    expect(
      stack.servicenow.admin
        .records('change_request')
        .filter((r) => r.correlation_id === 'github/acme/payments/run-3002-prod-eu'),
    ).toHaveLength(0);
    expect(stack.ci.received().filter((c) => c.path.endsWith(`/commits/${sha}`))).toHaveLength(1);
  });
});
