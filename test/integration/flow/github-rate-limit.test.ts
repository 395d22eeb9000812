import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';
import { decisions, outboundSettled, post, theChange } from './flow-support.js';

/**
 * GitHub answers a rate limit with 403 or 429 ("Rate limits for the REST API"). The release must
 * wait it out: the gate is neither closed as failed nor reported released before GitHub took the
 * review (204).
 */

let stack: Stack;
const changes: ConsumedRecord[] = [];
beforeAll(async () => {
  stack = await startStack();
  await stack.bus.subscribe({
    groupId: 't-rate-limit-changes',
    topics: [stack.config.kafka.topics.changes],
    fromBeginning: true,
    handler: async (r) => void changes.push(r),
  });
});
afterAll(async () => stack?.close());

const gateEvents = (number: string) =>
  changes
    .filter((r) => r.headers.ce_type?.startsWith('dev.changegate.gate.') && r.key === number)
    .map((r) => fromRecord(r))
    .filter((e) => e.type !== 'dev.changegate.gate.registered');

async function waitingGate(runId: number) {
  const callback = stack.ci.github.pending('Codertocat', 'Hello-World', runId, 'production');
  const payload = githubFixture('synthetic-deployment_protection_rule.requested');
  payload.deployment_callback_url = callback;
  payload.environment = 'production';
  const res = await post(
    stack,
    'github',
    githubRequest('deployment_protection_rule', payload, {
      secret: SECRETS.github,
      deliveryId: `rate-limit-${runId}`,
    }),
  );
  expect(res.status).toBe(202);
  const cr = await theChange(
    stack,
    `github/Codertocat/Hello-World/run-${runId}-production`,
    (r) => r.approval === 'requested',
  );
  await eventually(async () => {
    await outboundSettled(stack);
    return stack.workers.gate?.states().find((s) => s.number === cr.number);
  });
  return { cr, path: new URL(callback).pathname };
}

describe('GitHub rate limits on the release', () => {
  it('waits out a primary 403 limit and releases exactly once', async () => {
    const { cr, path } = await waitingGate(8001);
    // Two answers of 403, x-ratelimit-remaining 0, reset one second ahead.
    stack.ci.github.rateLimit({ kind: 'primary', status: 403, times: 2, resetInSeconds: 1 });
    stack.servicenow.admin.approve(cr.number!);

    await stack.ci.waitFor((c) => c.path === path && c.effect === 'released', 15_000);
    const limited = stack.ci.received().filter((c) => c.effect === 'rate-limited');
    expect(limited.length).toBe(2);
    await eventually(() => gateEvents(cr.number!).length > 0 || undefined);
    expect(decisions(stack, path)).toHaveLength(1);
    const events = gateEvents(cr.number!);
    expect(events.map((e) => e.type)).toEqual(['dev.changegate.gate.released']);
    expect(events[0]!.data).toMatchObject({ callback: { status: 'done', httpStatus: 204 } });
    // The release came after the last refused answer, never before it.
    const released = stack.ci.received().find((c) => c.path === path && c.effect === 'released')!;
    expect(released.at).toBeGreaterThan(limited.at(-1)!.at);
  });

  it('holds a gate behind a long secondary 429 limit: not failed, not released, GitHub not hammered', async () => {
    const { cr, path } = await waitingGate(8002);
    stack.ci.reset();
    stack.ci.github.rateLimit({ kind: 'secondary', status: 429, retryAfterSeconds: 3600 });
    stack.servicenow.admin.approve(cr.number!);

    await stack.ci.waitFor((c) => c.path === path && c.effect === 'rate-limited', 10_000);
    // Let the gate worker go through every attempt it makes before "retry later".
    await new Promise((r) => setTimeout(r, 2_000));
    const state = stack.workers.gate!.states().find((s) => s.number === cr.number)!;
    expect(Object.values(state.gates).map((g) => g.status)).toEqual(['deciding']);
    expect(stack.ci.github.state('Codertocat', 'Hello-World', 8002, 'production')).toBe('pending');
    expect(decisions(stack, path)).toHaveLength(0);
    expect(gateEvents(cr.number!)).toEqual([]);
    // One request learned the limit; the retries waited without sending anything.
    expect(stack.ci.received().filter((c) => c.path === path)).toHaveLength(1);
    stack.ci.github.clearRateLimit();
  }, 20_000);
});
