import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedRequest } from '../fixtures/standard-webhook-request.js';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';
import { SECRETS } from '../support/stack.js';

/**
 * A Standard-Webhooks message captured and sent again later is refused once its signed
 * timestamp is outside the tolerance (5 min), on every route that verifies Standard Webhooks;
 * inside the window, the delivery-id dedupe stops it instead. Neither reaches Kafka twice.
 */

let receiver: TestReceiver;
beforeAll(async () => {
  receiver = await startTestReceiver({
    sources: {
      jenkins: { secrets: [SECRETS.whsec] },
      servicenow: { secrets: [SECRETS.whsec] },
      generic: { '*': { secrets: [SECRETS.whsec] } },
      gitlab: { signingTokens: [SECRETS.whsec] },
    },
  });
});
afterAll(() => receiver?.close());

const body = {
  type: 'deployment.requested',
  timestamp: new Date().toISOString(),
  data: { project: 'acme/payments', environment: 'production', deploymentId: 'win-1' },
};

async function send(route: string, at: Date, id: string): Promise<number> {
  const request = signedRequest(body, { secret: SECRETS.whsec, id, at });
  const res = await fetch(`${receiver.url}/hooks/${route}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function published(): Promise<number> {
  let n = 0;
  await receiver.bus.readToEnd(receiver.config.kafka.topics.cicd, () => (n += 1));
  return n;
}

describe('a replayed Standard-Webhooks message', () => {
  it.each(['jenkins', 'generic/argo'])(
    'is refused on /hooks/%s once its timestamp is older than five minutes',
    async (route) => {
      const before = await published();
      const id = `msg_${route.replace('/', '_')}_old`;
      expect(await send(route, new Date(Date.now() - 5 * 60_000 - 5_000), id)).toBe(401);
      expect(await send(route, new Date(Date.now() + 5 * 60_000 + 5_000), `${id}_future`)).toBe(
        401,
      );
      expect(await published()).toBe(before);
    },
  );

  it('is refused on /hooks/servicenow when it is stale', async () => {
    const request = signedRequest(
      { sysId: 'a'.repeat(32), table: 'change_request' },
      { secret: SECRETS.whsec, id: 'msg_sn_old', at: new Date(Date.now() - 3600_000) },
    );
    const res = await fetch(`${receiver.url}/hooks/servicenow`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: expect.stringMatching(/timestamp too old/) });
  });

  it('is accepted once inside the window and then answered as a duplicate, published once', async () => {
    const before = await published();
    const at = new Date(Date.now() - 4 * 60_000);
    expect(await send('jenkins', at, 'msg_replayed_in_window')).toBe(202);
    expect(await send('jenkins', at, 'msg_replayed_in_window')).toBe(200);
    expect(await published()).toBe(before + 1);
  });
});
