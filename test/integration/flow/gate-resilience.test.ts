import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../../src/commands/reconcile.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { startWorkers } from '../../../src/runtime/workers.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';
import {
  changeByNumber,
  changesOf,
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

const log = createLogger({ level: 'silent' });

/** Wait until the gate worker holds a waiting gate for `number`. */
const gateWaiting = (number: string) =>
  eventually(() =>
    stack.workers.gate
      ?.states()
      .find(
        (s) => s.number === number && Object.values(s.gates).some((g) => g.status === 'waiting'),
      ),
  );

describe('one CR and one decision, whatever is repeated or lost', () => {
  it('makes one CR and one release for a GitHub delivery sent again and redelivered under a new id', async () => {
    const callback = stack.ci.github.pending('acme', 'payments', 2001, 'production');
    const payload = githubFixture('deployment_protection_rule.requested');
    payload.deployment_callback_url = callback;
    payload.environment = 'production';
    const send = (deliveryId: string, body?: string) =>
      post(
        stack,
        'github',
        githubRequest('deployment_protection_rule', payload, {
          secret: SECRETS.github,
          deliveryId,
          ...(body ? { body } : {}),
        }),
      );

    expect((await send('redeliver-1')).status).toBe(202);
    const again = await send('redeliver-1');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    // The same signed bytes under a new id are a replay, stopped at the receiver.
    expect((await send('redeliver-2')).status).toBe(200);
    // The same event in other bytes under a new id passes the receiver: the workers dedupe it.
    expect((await send('redeliver-3', JSON.stringify(payload, null, 1))).status).toBe(202);

    const correlationId = 'github/acme/payments/run-2001-production';
    const cr = await theChange(stack, correlationId, (r) => r.approval === 'requested');
    await eventually(async () => {
      await outboundSettled(stack);
      return stack.workers.gate?.states().find((s) => s.number === cr.number);
    });
    stack.servicenow.admin.approve(cr.number!);
    const path = new URL(callback).pathname;
    await stack.ci.waitFor((c) => c.path === path && c.effect === 'released', 10_000);
    await outboundSettled(stack);
    expect(changesOf(stack, correlationId)).toHaveLength(1);
    expect(decisions(stack, path)).toHaveLength(1);
    const state = stack.workers.gate!.states().find((s) => s.number === cr.number)!;
    expect(Object.keys(state.gates)).toHaveLength(1);
  });

  it('makes one CR for a re-run, and releases each attempt once', async () => {
    const first = stack.ci.generic.pending('rerun-attempt-1');
    const second = stack.ci.generic.pending('rerun-attempt-2');
    const data = (attempt: number, url: string) =>
      deploymentData('acme/payments', 'rerun-1', {
        run: { id: 'rerun-1-run', url: 'https://ci.acme.example/runs/rerun-1', attempt },
        callback: { kind: 'generic', url },
      });
    expect(await sendChangegate(stack, 'generic/resilience', 'requested', data(1, first))).toBe(
      202,
    );
    const correlationId = 'generic/resilience/acme/payments/rerun-1';
    const cr = await theChange(stack, correlationId, (r) => r.approval === 'requested');
    expect(await sendChangegate(stack, 'generic/resilience', 'requested', data(2, second))).toBe(
      202,
    );
    await eventually(
      () =>
        Object.keys(stack.workers.gate?.states().find((s) => s.number === cr.number)?.gates ?? {})
          .length === 2,
    );

    stack.servicenow.admin.approve(cr.number!);
    await eventually(
      () =>
        stack.ci.generic.state('rerun-attempt-1') === 'released' &&
        stack.ci.generic.state('rerun-attempt-2') === 'released',
    );
    await outboundSettled(stack);
    expect(changesOf(stack, correlationId)).toHaveLength(1);
    expect(decisions(stack, '/generic/rerun-attempt-1')).toHaveLength(1);
    expect(decisions(stack, '/generic/rerun-attempt-2')).toHaveLength(1);
  });

  it('releases once when the gate worker restarts between registration and approval', async () => {
    const url = stack.ci.generic.pending('restart-1');
    await sendChangegate(
      stack,
      'generic/resilience',
      'requested',
      deploymentData('acme/payments', 'restart-1', { callback: { kind: 'generic', url } }),
    );
    const cr = await theChange(
      stack,
      'generic/resilience/acme/payments/restart-1',
      (r) => r.approval === 'requested',
    );
    await gateWaiting(cr.number!);

    await stack.workers.close();
    // Approved while no worker runs: the business rule's message waits on the bus.
    stack.servicenow.admin.approve(cr.number!);
    await outboundSettled(stack);
    expect(stack.ci.generic.state('restart-1')).toBe('waiting');

    stack.workers = await startWorkers({
      config: stack.config,
      log,
      bus: stack.bus,
      metrics: createMetrics({ defaults: false }),
      names: ['change', 'gate'],
    });
    await eventually(() => stack.ci.generic.state('restart-1') === 'released');
    await outboundSettled(stack);
    expect(decisions(stack, '/generic/restart-1')).toHaveLength(1);
    expect(changeByNumber(stack, cr.number!)?.state).toBe('-1');
    const gates = stack.workers.gate!.states().find((s) => s.number === cr.number)!.gates;
    expect(Object.values(gates).map((g) => g.status)).toEqual(['released']);
  });

  it('releases through `changegate reconcile` when the approval message was dropped', async () => {
    const url = stack.ci.generic.pending('reconcile-1');
    await sendChangegate(
      stack,
      'generic/resilience',
      'requested',
      deploymentData('acme/payments', 'reconcile-1', { callback: { kind: 'generic', url } }),
    );
    const cr = await theChange(
      stack,
      'generic/resilience/acme/payments/reconcile-1',
      (r) => r.approval === 'requested',
    );
    await gateWaiting(cr.number!);
    await outboundSettled(stack);

    // One approval is two messages (technical approval: Assess → Authorize, CAB: → Scheduled):
    // both are lost.
    stack.servicenow.admin.faults.inject({ kind: 'drop-outbound', count: 2 });
    stack.servicenow.admin.approve(cr.number!);
    await outboundSettled(stack);
    const dropped = stack.servicenow.admin.outbound.sent().filter((m) => m.dropped);
    expect(dropped.map((m) => [m.sysId, JSON.parse(m.body).data.approval])).toEqual([
      [cr.sys_id, 'requested'],
      [cr.sys_id, 'approved'],
    ]);
    // Nothing polls: without the message the gate keeps waiting.
    await new Promise((r) => setTimeout(r, 200));
    expect(stack.ci.generic.state('reconcile-1')).toBe('waiting');

    const result = await reconcile({
      config: stack.config,
      bus: stack.bus,
      servicenow: stack.workers.servicenow,
      log,
    });
    expect(result.published).toBeGreaterThanOrEqual(1);
    await eventually(() => stack.ci.generic.state('reconcile-1') === 'released');
    await outboundSettled(stack);
    expect(decisions(stack, '/generic/reconcile-1')).toHaveLength(1);
    expect(changeByNumber(stack, cr.number!)?.state).toBe('-1');
  });
});
