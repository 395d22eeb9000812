import type { SnRecord } from '../../../src/sandbox/servicenow/index.js';
import type { SandboxAdminClient } from '../../support/process-stack/admin-clients.js';
import type { GateDeployment } from '../../e2e/support/deployments.js';

/**
 * The change manager: approves (or, for every `rejectEvery`-th gate, rejects) each CR that waits
 * for approval and belongs to a gate of this run, through the sandbox admin API — so the
 * business rule pushes the decision to changegate as a real instance would.
 *
 * @module
 */

export type Verdict = 'approve' | 'reject';

export interface Approver {
  /** Register a gate as soon as its deployment was sent. */
  add(gate: GateDeployment): void;
  /** The verdict given to each gate's CR so far, by correlation suffix. */
  verdicts: Map<string, Verdict>;
  stop(): Promise<void>;
}

/** @example const approver = startApprover(stack.sn); approver.add(gate) */
export function startApprover(
  sn: SandboxAdminClient,
  { rejectEvery = 10, everyMs = 700 } = {},
): Approver {
  const gates: GateDeployment[] = [];
  const plan = new Map<string, Verdict>();
  const verdicts = new Map<string, Verdict>();
  let stopped = false;

  const gateOf = (cr: SnRecord) =>
    gates.find((g) => (cr.correlation_id ?? '').endsWith(g.correlationSuffix));

  const round = async () => {
    for (const cr of await sn.changes()) {
      if (cr.approval !== 'requested' || !cr.number) continue;
      const gate = gateOf(cr);
      if (!gate || verdicts.has(gate.correlationSuffix)) continue;
      const verdict = plan.get(gate.correlationSuffix)!;
      try {
        await (verdict === 'approve' ? sn.approve(cr.number) : sn.reject(cr.number));
        verdicts.set(gate.correlationSuffix, verdict);
      } catch {
        // Raced with a state change (e.g. the CR moved on); the next round looks again.
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await round().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();

  return {
    add(gate) {
      gates.push(gate);
      plan.set(gate.correlationSuffix, gates.length % rejectEvery === 0 ? 'reject' : 'approve');
    },
    verdicts,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
