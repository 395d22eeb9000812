import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../../src/security/standard-webhooks.js';
import type { OutboundRecord } from '../../../src/sandbox/servicenow/index.js';
import { poll } from '../../support/process-stack/poll.js';
import { STACK_SECRETS } from '../../support/process-stack/secrets.js';
import type { ProcessStack } from '../../support/process-stack/stack.js';
import { ENV, LINKABLE_JUSTIFICATION } from '../support/e2e-stack.js';
import {
  awaitingApproval,
  crsOf,
  decided,
  decisions,
  githubGate,
  jenkinsGate,
  send,
  sleep,
  snTime,
} from '../support/deployments.js';

/**
 * What goes wrong in real life — early approvals, repeated and reordered business-rule messages,
 * redelivered webhooks, re-runs, a worker that dies mid-gate — must still end with one CR and
 * one callback per gate. Sequential: the restart test takes the worker away from the others.
 */

/** Register the robustness scenarios: sequential, and the worker restart last. */
export function robustnessScenarios(current: () => ProcessStack): void {
  let stack: ProcessStack;
  beforeAll(() => {
    stack = current();
  });

  const effects = async (gate: Parameters<typeof decisions>[1]) =>
    (await decisions(stack, gate)).map((c) => c.effect);

  /** POST a business-rule message to the receiver with the given headers. */
  const deliver = (message: Pick<OutboundRecord, 'headers' | 'body'>) =>
    fetch(`${stack.receiverUrl}/hooks/servicenow`, {
      method: 'POST',
      headers: message.headers,
      body: message.body,
    });

  describe('gates under real-world disorder, across processes', () => {
    it('releases once when the CR was approved before the gate registered', async () => {
      const created = await stack.sn.createChange({
        type: 'normal',
        short_description: 'Payments release, approved ahead of the pipeline',
        justification: LINKABLE_JUSTIFICATION,
      });
      // Request approval (Assess); the approvers, not a client write, take it on to Scheduled.
      await stack.sn.setState(created.number!, '-4');
      await stack.sn.approve(created.number!);
      const before = (await stack.sn.changes()).length;

      const gate = await jenkinsGate(stack, ENV.production, { changeNumber: created.number! });
      expect((await send(stack, gate)).status).toBe(202);

      expect((await decided(stack, gate)).effect).toBe('released');
      await sleep(1000);
      expect(await effects(gate)).toEqual(['released']);
      // Linked, not created: still one CR for this deployment.
      expect((await stack.sn.changes()).length).toBe(before);
      const linked = (await stack.sn.changes()).find((r) => r.number === created.number);
      expect(linked?.state).toBe('-1');
    });

    it('ignores a replayed and a stale business-rule message and releases once', async () => {
      const gate = await githubGate(stack, ENV.production);
      expect((await send(stack, gate)).status).toBe(202);
      const cr = await awaitingApproval(stack, gate);
      // Hold the release (window opens in 5 s) so the messages below land while the gate waits.
      const opensAt = Math.ceil((Date.now() + 5000) / 1000) * 1000;
      await stack.sn.setField(cr.number!, 'start_date', snTime(opensAt));
      await stack.sn.approve(cr.number!);

      const ofCr = async () =>
        (await stack.sn.outbound()).filter((m) => m.sysId === cr.sys_id && m.status === 202);
      const approvedMessage = await poll(
        async () =>
          (await ofCr()).find(
            (m) =>
              (JSON.parse(m.body) as { data: { approval: string } }).data.approval === 'approved',
          ),
        'the approval message delivered',
      );
      const stale = (await ofCr()).find(
        (m) => (JSON.parse(m.body) as { data: { approval: string } }).data.approval === 'requested',
      )!;
      expect(stale).toBeDefined();

      // The same signed message again (a retry): acknowledged, not published twice.
      expect((await deliver(approvedMessage)).status).toBe(200);
      // An older snapshot arriving after the newer one, as a fresh delivery: it must not put the
      // gate back to "awaiting approval" (then nothing would release it at window start).
      const resigned = sign(STACK_SECRETS.whsec, `msg_${randomUUID()}`, new Date(), stale.body);
      expect(
        (await deliver({ headers: { ...stale.headers, ...resigned }, body: stale.body })).status,
      ).toBe(202);

      const release = await decided(stack, gate, 20_000);
      expect(release.effect).toBe('released');
      expect(release.at).toBeGreaterThanOrEqual(opensAt);
      expect((await deliver(approvedMessage)).status).toBe(200);
      await sleep(1000);
      expect(await effects(gate)).toEqual(['released']);
      expect(await crsOf(stack, gate)).toHaveLength(1);
    });

    it('creates one CR and one gate for a redelivered deployment request', async () => {
      const gate = await githubGate(stack, ENV.production);
      expect((await send(stack, gate)).status).toBe(202);
      // GitHub's "Redeliver": same delivery id, same bytes.
      expect((await send(stack, gate)).status).toBe(200);
      // The same signed bytes under a new delivery id (a sender that re-sends after a lost
      // answer, or an attacker replaying a capture): stopped at the receiver as a replay.
      const again = await githubGate(stack, ENV.production, gate.pathKey.split('/')[3]!);
      expect((await send(stack, again)).status).toBe(200);

      const cr = await awaitingApproval(stack, gate);
      await sleep(1000);
      expect(await crsOf(stack, gate)).toHaveLength(1);
      await stack.sn.approve(cr.number!);
      expect((await decided(stack, gate)).effect).toBe('released');
      await sleep(1000);
      expect(await effects(gate)).toEqual(['released']);
    });

    it('lands a re-run on the same CR and releases each attempt once', async () => {
      const job = `payments-rerun-${Date.now()}`;
      const deploymentId = `rel-${randomUUID().slice(0, 8)}-production`;
      const first = await jenkinsGate(stack, ENV.production, { job, build: 1, deploymentId });
      expect((await send(stack, first)).status).toBe(202);
      const cr = await awaitingApproval(stack, first);
      await stack.sn.approve(cr.number!);
      expect((await decided(stack, first)).effect).toBe('released');

      // The deployment failed later and is re-run: a new build waits at the same gate step.
      const rerun = await jenkinsGate(stack, ENV.production, {
        job,
        build: 2,
        deploymentId,
        attempt: 2,
      });
      expect((await send(stack, rerun)).status).toBe(202);
      expect((await decided(stack, rerun)).effect).toBe('released');
      await sleep(1000);
      expect(await effects(first)).toEqual(['released']);
      expect(await effects(rerun)).toEqual(['released']);
      expect(await crsOf(stack, first)).toHaveLength(1);
    });

    it('releases once after the worker is killed between registration and approval', async () => {
      const gate = await githubGate(stack, ENV.production);
      expect((await send(stack, gate)).status).toBe(202);
      const cr = await awaitingApproval(stack, gate);
      await sleep(500); // let the gate worker take the registration (or not: both must work)

      await stack.killWorker();
      await stack.sn.approve(cr.number!);
      await sleep(1000);
      expect(await decisions(stack, gate)).toHaveLength(0);

      await stack.restartWorker();
      expect((await decided(stack, gate, 30_000)).effect).toBe('released');
      await sleep(1000);
      expect(await effects(gate)).toEqual(['released']);
      expect(await crsOf(stack, gate)).toHaveLength(1);
    }, 90_000);
  });
}
