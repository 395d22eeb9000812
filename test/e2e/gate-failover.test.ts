import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus } from '../../src/bus/kafka.js';
import type { CrState } from '../../src/gate/state.js';
import { crStateOfRecord } from '../../src/workers/gate/state-record.js';
import type { SnRecord } from '../../src/sandbox/servicenow/index.js';
import { hasKafka, kafkaBrokers } from '../support/kafka.js';
import { poll } from '../support/process-stack/poll.js';
import { isLogLine, type TestProcess } from '../support/process-stack/process.js';
import type { ProcessStack } from '../support/process-stack/stack.js';
import { ENV, startE2eStack } from './support/e2e-stack.js';
import { crsOf, decisions, pendingGate, send, type GateDeployment } from './support/deployments.js';

/**
 * The gate worker as N replicas of one consumer group, across processes on real Kafka: a
 * change worker and two `changegate worker gate` processes; 30 gates wait; one gate replica is
 * killed with SIGKILL (no shutdown, no group leave); then all 30 CRs are approved. Every run
 * must be released exactly once, by the survivor, which restores the dead replica's partitions
 * from the gate changelog before it handles their approvals; the killed replica rejoins and
 * releases nothing twice. Then the same with a third replica joining while 30 gates wait (a
 * rebalance without a crash).
 */

if (!hasKafka()) console.log('[e2e] gate failover: skipped, no Kafka broker in this run');

const GATES = 30;
const PARTITIONS = 6;
const now = () => performance.timeOrigin + performance.now();

let stack: ProcessStack | undefined;

/** The partitions a gate process says it was last assigned (and restored). */
function assignedTo(proc: TestProcess): number[] {
  const lines = proc
    .lines()
    .filter(
      (l) => isLogLine('partitions assigned and restored')(l) && l.includes('"processor":"gate"'),
    );
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as { partitions: number[] }).partitions : [];
}

/** The gate changelog as of now: the last state per CR. */
async function gateStates(s: ProcessStack): Promise<Map<string, CrState>> {
  const bus = createKafkaBus({ brokers: kafkaBrokers(), clientId: 'changegate-e2e-gate-states' });
  const states = new Map<string, CrState>();
  try {
    await bus.readToEnd(s.topics.gateState!, (record) => {
      if (!record.key) return;
      const state = crStateOfRecord(record.value);
      if (state === null) states.delete(record.key);
      else if (state) states.set(record.key, state);
    });
  } finally {
    await bus.close();
  }
  return states;
}

/** 30 Jenkins runs waiting at their gates, their CRs awaiting approval, the gates registered. */
async function waitingGates(
  s: ProcessStack,
): Promise<{ gates: GateDeployment[]; crs: SnRecord[] }> {
  const gates: GateDeployment[] = [];
  for (let i = 0; i < GATES; i++) gates.push(await pendingGate(s, 'jenkins', ENV.production));
  const statuses = await Promise.all(gates.map((g) => send(s, g).then((r) => r.status)));
  expect(statuses.every((st) => st === 200 || st === 202)).toBe(true);
  const crs = await poll(
    async () => {
      const found = await Promise.all(
        gates.map(async (g) => (await crsOf(s, g)).find((r) => r.approval === 'requested')),
      );
      return found.every(Boolean) ? (found as SnRecord[]) : undefined;
    },
    `${GATES} CRs awaiting approval`,
    90_000,
    250,
  );
  const numbers = new Set(crs.map((cr) => cr.number!));
  await poll(
    async () => {
      const states = await gateStates(s);
      const waiting = [...numbers].filter((n) =>
        Object.values(states.get(n)?.gates ?? {}).some((g) => g.status === 'waiting'),
      );
      return waiting.length === GATES;
    },
    `${GATES} gates waiting in the gate changelog`,
    60_000,
    500,
  );
  return { gates, crs };
}

/** Approve every CR; resolves with the time of the first approval call. */
async function approveAll(s: ProcessStack, crs: SnRecord[]): Promise<number> {
  const first = now();
  await Promise.all(crs.map((cr) => s.sn.approve(cr.number!)));
  return first;
}

/** Wait until every gate was decided; the decision calls per gate. */
async function releases(s: ProcessStack, gates: GateDeployment[], timeoutMs: number) {
  return poll(
    async () => {
      const calls = await Promise.all(gates.map((g) => decisions(s, g)));
      return calls.every((c) => c.length > 0) ? calls : undefined;
    },
    `${gates.length} releases`,
    timeoutMs,
    100,
  );
}

describe.skipIf(!hasKafka())('gate worker replicas: failover and rebalance', () => {
  beforeAll(async () => {
    stack = await startE2eStack({
      name: 'gate-failover',
      brokers: kafkaBrokers(),
      workers: ['change', 'gate', 'gate'],
      partitions: PARTITIONS,
    });
  }, 180_000);
  afterAll(async () => stack?.close());

  it('releases each of 30 waiting gates exactly once after one of two gate replicas is SIGKILLed', async () => {
    const s = stack!;
    const [, gateA, gateB] = s.workers();
    await poll(
      () => assignedTo(gateA!).length + assignedTo(gateB!).length === PARTITIONS,
      'both gate replicas assigned',
      60_000,
      200,
    );
    const { gates, crs } = await waitingGates(s);
    const victim = assignedTo(gateA!).length > 0 ? gateA! : gateB!;
    const survivor = victim === gateA ? gateB! : gateA!;
    const lost = assignedTo(victim);
    expect(lost.length).toBeGreaterThan(0);

    const killedAt = now();
    await victim.kill();
    const approvedAt = await approveAll(s, crs);
    const calls = await releases(s, gates, 120_000);
    const last = Math.max(...calls.map((c) => c[0]!.at));
    const first = Math.min(...calls.map((c) => c[0]!.at));
    console.log(
      `[e2e] gate failover: replica with partitions ${lost.join(',')} SIGKILLed; ${GATES} CRs approved ${((approvedAt - killedAt) / 1000).toFixed(2)} s later; approval → first release ${((first - approvedAt) / 1000).toFixed(2)} s, → last release ${((last - approvedAt) / 1000).toFixed(2)} s`,
    );
    expect(calls.map((c) => c.map((d) => d.effect))).toEqual(gates.map(() => ['released']));
    expect(assignedTo(survivor)).toHaveLength(PARTITIONS);

    // The killed replica comes back: it takes partitions back, restores them, and repeats nothing.
    const rejoined = await s.startWorker('gate');
    await poll(() => assignedTo(rejoined).length > 0, 'the rejoined replica assigned', 60_000, 200);
    await new Promise((r) => setTimeout(r, 6000)); // past the overdue-timer grace (5 s)
    const after = await Promise.all(gates.map((g) => decisions(s, g)));
    expect(after.map((c) => c.map((d) => d.effect))).toEqual(gates.map(() => ['released']));
    const states = await gateStates(s);
    for (const cr of crs) {
      expect(Object.values(states.get(cr.number!)?.gates ?? {}).map((g) => g.status)).toEqual([
        'released',
      ]);
    }
  }, 300_000);

  it('releases each of 30 waiting gates exactly once when a third replica joins while they wait', async () => {
    const s = stack!;
    const { gates, crs } = await waitingGates(s);
    const third = await s.startWorker('gate');
    const joinedAt = now();
    await poll(() => assignedTo(third).length > 0, 'the third replica assigned', 60_000, 200);
    const rebalanceMs = now() - joinedAt;
    const approvedAt = await approveAll(s, crs);
    const calls = await releases(s, gates, 120_000);
    const last = Math.max(...calls.map((c) => c[0]!.at));
    console.log(
      `[e2e] gate rebalance: third replica assigned ${assignedTo(third).join(',')} after ${(rebalanceMs / 1000).toFixed(2)} s; approval → last release ${((last - approvedAt) / 1000).toFixed(2)} s`,
    );
    expect(calls.map((c) => c.map((d) => d.effect))).toEqual(gates.map(() => ['released']));
    await new Promise((r) => setTimeout(r, 3000));
    const after = await Promise.all(gates.map((g) => decisions(s, g)));
    expect(after.map((c) => c.map((d) => d.effect))).toEqual(gates.map(() => ['released']));
  }, 300_000);
});
