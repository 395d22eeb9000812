import { beforeAll, describe, expect, it } from 'vitest';
import type { ProcessStack } from '../../support/process-stack/stack.js';
import { ENV } from '../support/e2e-stack.js';
import {
  PROVIDERS,
  awaitingApproval,
  crsOf,
  decided,
  decisions,
  pendingGate,
  send,
  sleep,
  snTime,
} from '../support/deployments.js';

/**
 * Every gate outcome for every provider, end to end across four processes: a deployment request
 * becomes one CR, and what happens to the CR in ServiceNow decides the CI system's gate.
 */

const ACCEPTED = [200, 202];

/** Register the provider scenarios; they run concurrently (their gates are independent). */
export function providerGateScenarios(current: () => ProcessStack): void {
  let stack: ProcessStack;
  describe.concurrent.each(PROVIDERS)('%s gate across processes', (provider) => {
    beforeAll(() => {
      stack = current();
    });

    it('creates exactly one CR and releases the gate exactly once when it is approved', async () => {
      const gate = await pendingGate(stack, provider, ENV.production);
      expect(ACCEPTED).toContain((await send(stack, gate)).status);
      const cr = await awaitingApproval(stack, gate);
      expect(await decisions(stack, gate)).toHaveLength(0);

      await stack.sn.approve(cr.number!);
      const first = await decided(stack, gate);
      expect(first.effect).toBe('released');
      // Any second callback would come right behind the first: give it time to show.
      await sleep(1000);
      expect((await decisions(stack, gate)).map((c) => c.effect)).toEqual(['released']);
      const crs = await crsOf(stack, gate);
      expect(crs).toHaveLength(1);
      expect(crs[0]!.state).toBe('-1'); // moved to Implement before the release
    });

    it('rejects the gate when the CR is rejected', async () => {
      const gate = await pendingGate(stack, provider, ENV.production);
      expect(ACCEPTED).toContain((await send(stack, gate)).status);
      const cr = await awaitingApproval(stack, gate);

      await stack.sn.reject(cr.number!);
      expect((await decided(stack, gate)).effect).toBe('rejected');
      await sleep(500);
      expect((await decisions(stack, gate)).map((c) => c.effect)).toEqual(['rejected']);
      expect(await crsOf(stack, gate)).toHaveLength(1);
    });

    it('releases an approved gate when its planned window opens, not before', async () => {
      const gate = await pendingGate(stack, provider, ENV.production);
      expect(ACCEPTED).toContain((await send(stack, gate)).status);
      const cr = await awaitingApproval(stack, gate);
      // Whole seconds, as ServiceNow stores them.
      const opensAt = Math.ceil((Date.now() + 4000) / 1000) * 1000;
      await stack.sn.setField(cr.number!, 'start_date', snTime(opensAt));

      await stack.sn.approve(cr.number!);
      const release = await decided(stack, gate, 20_000);
      expect(release.effect).toBe('released');
      expect(release.at).toBeGreaterThanOrEqual(opensAt);
      expect(release.at - opensAt).toBeLessThan(3000);
    });

    it('holds an approved gate during a blackout', async () => {
      const gate = await pendingGate(stack, provider, ENV.freeze);
      expect(ACCEPTED).toContain((await send(stack, gate)).status);
      const cr = await awaitingApproval(stack, gate);

      await stack.sn.approve(cr.number!);
      await sleep(3000);
      expect(await decisions(stack, gate)).toHaveLength(0);
      // Approved (Scheduled) but never moved to Implement while the blackout lasts.
      const [held] = await crsOf(stack, gate);
      expect({ approval: held!.approval, state: held!.state }).toEqual({
        approval: 'approved',
        state: '-2',
      });
    });

    it('expires the gate (rejecting it) when no decision comes within the timeout', async () => {
      const gate = await pendingGate(stack, provider, ENV.hurry);
      const sentAt = Date.now();
      expect(ACCEPTED).toContain((await send(stack, gate)).status);
      await awaitingApproval(stack, gate);

      const expiry = await decided(stack, gate, 20_000);
      expect(expiry.effect).toBe('rejected');
      // timeoutMinutes 0.05 = 3 s from registration, which follows the request.
      expect(expiry.at - sentAt).toBeGreaterThanOrEqual(3000);
      expect(expiry.at - sentAt).toBeLessThan(10_000);
    });
  });
}
