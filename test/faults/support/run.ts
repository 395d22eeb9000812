import type { GateDeployment } from '../../e2e/support/deployments.js';
import { startApprover } from './approver.js';
import { startBusinessRulePump, type BusinessRuleStats } from './business-rules.js';
import { clearSandboxFaults, injectSandboxFaults, startChaos, type FaultEvent } from './chaos.js';
import type { FaultStack } from './fault-stack.js';
import { createSender, type SenderStats } from './sender.js';
import { tally, type Tally } from './tally.js';
import { planWorkload, type Delivery, type WorkloadSize } from './workload.js';

/**
 * One fault run: send the workload (with redelivered duplicates) while the chaos rotation kills
 * and restarts processes and the sandbox fails a share of calls; then stop the faults, let
 * everything settle, and count.
 *
 * @module
 */

export interface RunOptions {
  size: WorkloadSize;
  /** Deliveries started per second (spreads the workload over the fault rotation). */
  ratePerSecond: number;
  concurrency: number;
  duplicateShare: number;
  sandboxFaultShare: number;
  chaosGapMs: number;
  kafkaDownMs: number;
  /** How long to wait, faults off, for every gate, message and incident to settle. */
  settleTimeoutMs: number;
}

export interface RunReport {
  tally: Tally;
  deliveries: { planned: number; byKind: Map<string, number>; duplicatesSent: number };
  sender: SenderStats;
  businessRules: BusinessRuleStats;
  faults: FaultEvent[];
  durations: { driveMs: number; settleMs: number; tallyMs: number };
  /** What did not settle within the timeout (empty when everything did). */
  unsettled: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run `work` over `items` with at most `concurrency` at once, starting `rate` per second. */
async function paced<T>(
  items: T[],
  concurrency: number,
  rate: number,
  work: (item: T) => Promise<void>,
) {
  let next = 0;
  const startedAt = Date.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const due = startedAt + (i * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Drive one run against `stack` and return the measurements. */
export async function runFaults(stack: FaultStack, o: RunOptions): Promise<RunReport> {
  const sender = createSender();
  const approver = startApprover(stack.sn);
  const pump = startBusinessRulePump({ sn: stack.sn, receiverUrl: stack.receiverUrl, sender });
  const plan = planWorkload(stack, o.size);
  const gates: GateDeployment[] = [];
  const expectedFailures = new Map<string, number>();
  const byKind = new Map<string, number>();
  const later: Promise<unknown>[] = [];
  let duplicatesSent = 0;

  await injectSandboxFaults(stack, o.sandboxFaultShare);
  const chaos = startChaos(stack, {
    inFlight: sender.inFlight,
    gapMs: o.chaosGapMs,
    kafkaDownMs: o.kafkaDownMs,
  });
  const driveStarted = Date.now();
  const url = (d: Delivery) => `${stack.receiverUrl}${d.route}`;
  const drive = paced(plan, o.concurrency, o.ratePerSecond, async (planned) => {
    const delivery = await planned.build();
    byKind.set(delivery.kind, (byKind.get(delivery.kind) ?? 0) + 1);
    if (delivery.gate) {
      gates.push(delivery.gate);
      approver.add(delivery.gate);
    }
    if (delivery.fingerprint) {
      expectedFailures.set(
        delivery.fingerprint,
        (expectedFailures.get(delivery.fingerprint) ?? 0) + 1,
      );
    }
    const first = sender.send(url(delivery), () => delivery.request);
    if (Math.random() < o.duplicateShare) {
      duplicatesSent += 1;
      // Half race the original (both on the wire at once), half come back a while later.
      const delay = Math.random() < 0.5 ? 0 : 1000 + Math.random() * 5000;
      later.push(sleep(delay).then(() => sender.send(url(delivery), () => delivery.request)));
    }
    await first;
  });
  // Whatever fails first, the rotation is stopped and the helpers too, so nothing runs on.
  const driven = await Promise.all([drive, Promise.all(later)]).then(
    () => undefined,
    (err: unknown) => err,
  );
  const stopped = await chaos.stop().then(
    () => driven,
    (err: unknown) => err,
  );
  if (stopped) {
    await Promise.all([approver.stop(), pump.stop()]);
    throw stopped;
  }
  const driveMs = Date.now() - driveStarted;

  // Faults off: what is left is to see that everything converges, and nothing twice.
  await clearSandboxFaults(stack);
  const settleStarted = Date.now();
  const unsettled = await settle(stack, o.settleTimeoutMs, gates, expectedFailures, approver, pump);
  await approver.stop();
  await pump.stop();
  // A last grace for anything still in flight (a repeated callback, a late work note).
  await sleep(2000);
  const settleMs = Date.now() - settleStarted;

  const tallyStarted = Date.now();
  const counted = await tally(stack, {
    acknowledged: sender.acknowledged,
    gates,
    verdicts: approver.verdicts,
    expectedFailures,
  });
  return {
    tally: counted,
    deliveries: { planned: plan.length, byKind, duplicatesSent },
    sender: sender.stats,
    businessRules: pump.stats,
    faults: chaos.events,
    durations: { driveMs, settleMs, tallyMs: Date.now() - tallyStarted },
    unsettled,
  };
}

/** Wait until every gate is decided, every message taken and every failure counted. */
async function settle(
  stack: FaultStack,
  timeoutMs: number,
  gates: GateDeployment[],
  expectedFailures: Map<string, number>,
  approver: ReturnType<typeof startApprover>,
  pump: ReturnType<typeof startBusinessRulePump>,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let open: string[] = [];
  while (Date.now() < deadline) {
    open = [];
    const received = await stack.ci.received().catch(() => []);
    const undecided = gates.filter(
      (g) =>
        !received.some(
          (c) =>
            c.provider === g.provider &&
            c.path.includes(g.pathKey) &&
            (c.effect === 'released' || c.effect === 'rejected'),
        ),
    );
    if (undecided.length > 0) open.push(`${undecided.length} gates undecided`);
    const unapproved = gates.filter((g) => !approver.verdicts.has(g.correlationSuffix)).length;
    if (unapproved > 0) open.push(`${unapproved} CRs not yet approved/rejected`);
    if (pump.pending() > 0) open.push(`${pump.pending()} business-rule messages in flight`);
    const incidents = await fetch(`${stack.sn.url}/sandbox/admin/records/incident`)
      .then((r) => r.json() as Promise<{ result: Record<string, string>[] }>)
      .then((r) => r.result)
      .catch(() => []);
    const behind = [...expectedFailures].filter(
      ([fp, n]) =>
        !incidents.some(
          (i) => i.correlation_id === fp && Number(i.u_changegate_failures ?? 0) >= n,
        ),
    ).length;
    if (behind > 0) open.push(`${behind} failing pipelines not fully counted`);
    if (open.length === 0) return [];
    await sleep(1000);
  }
  return open;
}
