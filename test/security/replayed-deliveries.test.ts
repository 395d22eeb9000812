import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawRequest } from '../../src/receivers/types.js';
import { githubFixture, githubRequest } from '../fixtures/github-request.js';
import { signedRequest } from '../fixtures/standard-webhook-request.js';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';
import { SECRETS } from '../support/stack.js';

/**
 * Replay-proof ingest, tried as an attacker who captured one signed delivery: each attack is
 * answered without a second event on Kafka.
 */

let receiver: TestReceiver;
beforeAll(async () => {
  receiver = await startTestReceiver({
    sources: {
      github: { secrets: [SECRETS.github] },
      // One secret for every generic name (CHANGEGATE_GENERIC_SECRET): the case the attack needs.
      generic: { '*': { secrets: [SECRETS.whsec] } },
      servicenow: { secrets: [SECRETS.whsec] },
    },
  });
});
afterAll(() => receiver?.close());

async function post(route: string, request: RawRequest) {
  const res = await fetch(`${receiver.url}/hooks/${route}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function eventsOf(match: (id: string) => boolean): Promise<string[]> {
  const ids: string[] = [];
  await receiver.bus.readToEnd(receiver.config.kafka.topics.cicd, (r) => {
    const id = r.headers.ce_id;
    if (id && match(id)) ids.push(id);
  });
  return ids;
}

describe('replay attacks on ingest', () => {
  it('a captured GitHub delivery resent with a new X-GitHub-Delivery is a duplicate, not a second event', async () => {
    const payload = githubFixture('workflow_run.completed');
    const first = githubRequest('workflow_run', payload, {
      secret: SECRETS.github,
      deliveryId: 'replay-original',
    });
    expect((await post('github', first)).status).toBe(202);
    for (const id of ['replay-new-1', 'replay-new-2', 'replay-new-3']) {
      // The same signed bytes and signature; only the unsigned id header is the attacker's.
      const replay = githubRequest('workflow_run', payload, {
        secret: SECRETS.github,
        deliveryId: id,
      });
      const answer = await post('github', replay);
      expect(answer).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    }
    expect(await eventsOf((id) => id.startsWith('replay-'))).toEqual(['replay-original']);
  });

  it('a GitHub redelivery (same bytes, same id) is still answered 200, and a different body under a new id is accepted', async () => {
    const payload = githubFixture('check_suite.completed');
    const make = (id: string, body?: string) =>
      githubRequest('check_suite', payload, {
        secret: SECRETS.github,
        deliveryId: id,
        ...(body ? { body } : {}),
      });
    expect((await post('github', make('redeliver-1'))).status).toBe(202);
    expect((await post('github', make('redeliver-1'))).status).toBe(200);
    const other = JSON.stringify({ ...payload, changegate_test_delivery: 'another event' });
    expect((await post('github', make('redeliver-2', other))).status).toBe(202);
  });

  it('one captured generic delivery sent to many source names is accepted once', async () => {
    const body = {
      type: 'deployment.requested',
      timestamp: new Date().toISOString(),
      data: { project: 'acme/payments', environment: 'production', deploymentId: 'names-1' },
    };
    const captured = signedRequest(body, {
      secret: SECRETS.whsec,
      id: 'msg_names_1',
      at: new Date(),
    });
    const answers = [];
    for (const name of ['a', 'b', 'c', 'argo'])
      answers.push((await post(`generic/${name}`, captured)).status);
    expect(answers).toEqual([202, 200, 200, 200]);
    expect(await eventsOf((id) => id === 'msg_names_1')).toHaveLength(1);
  });

  it.each([
    ['generic/argo', 'webhook-id'],
    ['servicenow', 'webhook-id'],
    ['github', 'x-github-delivery'],
  ])(
    'a 12 KB id header on /hooks/%s is refused with 400 and never reaches the dedupe window',
    async (route, header) => {
      const hugeId = `msg_${'A'.repeat(12 * 1024)}`;
      const request =
        header === 'webhook-id'
          ? signedRequest({ type: 'ping' }, { secret: SECRETS.whsec, id: hugeId, at: new Date() })
          : githubRequest('push', githubFixture('push'), {
              secret: SECRETS.github,
              deliveryId: hugeId,
            });
      const before = receiver.runtime.deliveries.size;
      const answer = await post(route, request);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ reason: `invalid_header:${header}` });
      expect(receiver.runtime.deliveries.size).toBe(before);
      expect(await eventsOf((id) => id.length > 200)).toEqual([]);
    },
  );
});
