/**
 * Benchmark 3c, gate replicas on the state kit: (1) one gate-worker replica restoring 100 000
 * open gates across 6 partitions, (2) failover — two replicas, N open gates, SIGKILL of one,
 * a CR of a partition it owned approved at once, kill → that release — and (3) release latency
 * with 1, 2 and 3 replicas, in one run. Replicas are child processes (bench/gate-failover-child.ts);
 * the ServiceNow sandbox, CI emulator, receiver and change worker run in this process.
 *
 * Open gates are seeded by writing gate-changelog records directly: the gate state machine's own
 * `step()` registers each gate, the entry is encoded with the state kit's `encodeEntry` (state +
 * wake timer) and checked with the worker's zod schema, and each record goes to the partition its
 * CR number hashes to on the input topic (kafkajs' default partitioner), where the worker looks
 * for it. The gates that are approved are real: GitHub protection rules through the receiver,
 * the change worker and a CR in the sandbox.
 *
 *   GATE_FAILOVER_GATES=1000,100000 npm run bench -- gate-failover
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { createBus } from '../src/bus/index.js';
import type { Bus } from '../src/bus/port.js';
import { GatePolicySchema } from '../src/config/changes.js';
import type { Config } from '../src/config/schema.js';
import { nextWake, step, type CrState } from '../src/gate/machine.js';
import { CrStateSchema } from '../src/gate/state.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { startReceiver, type ReceiverRuntime } from '../src/runtime/receiver.js';
import { startWorkers, type WorkersRuntime } from '../src/runtime/workers.js';
import { startCiEmulator, type CiEmulator } from '../src/sandbox/ci/index.js';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../src/sandbox/servicenow/index.js';
import { decodeEntry, encodeEntry } from '../src/workers/stateful/changelog.js';
import type { GateReplicaOptions } from './gate-failover-child.js';
import type { BenchContext } from './lib/context.js';
import { gateStackConfig } from './lib/gate-stack.js';
import { ROOT, rssOf } from './lib/process.js';
import type { Goal, Section } from './lib/report.js';
import { distribution, int, mib, ms, table } from './lib/stats.js';
import { seededGate } from './lib/seeded-gate.js';
import { postPendingGates } from './lib/pending-gates.js';

const PARTITIONS = 6;
/** kafkajs' default in src/bus/kafka.ts (`sessionTimeoutMs ?? 10_000`), not configurable. */
const SESSION_TIMEOUT_MS = 10_000;
const RESTORE_TRIALS = 3;
const now = () => performance.timeOrigin + performance.now();
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`[bench] ${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

// ── the seeded changelog ────────────────────────────────────────────────────────────────

const partitioner = Partitioners.DefaultPartitioner();
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({
  partitionId: i,
  leader: 0,
  replicas: [0],
  isr: [0],
  offlineReplicas: [],
  partitionErrorCode: 0,
}));
/** The partition of the input topic a key hashes to (the bus uses the same partitioner). */
function partitionOf(key: string): number {
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

/** Write `n` open gates to the gate changelog; returns the time it took. */
async function seedGates(bus: Bus, config: Config, n: number): Promise<number> {
  const policy = GatePolicySchema.parse({});
  const ctx = { now: Date.now(), policyOf: () => policy };
  const t0 = performance.now();
  let batch = [];
  for (let i = 0; i < n; i++) {
    const gate = seededGate(i, 'SEED');
    const { state } = step(undefined, { kind: 'registered', gate }, ctx);
    const value = encodeEntry<CrState>({ state, timers: { wake: nextWake(state) ?? ctx.now } });
    if (i === 0) {
      const decoded = decodeEntry(CrStateSchema, value);
      if (!decoded.ok) throw new Error(`[bench] seeded state does not parse: ${decoded.error}`);
    }
    const key = gate.changeNumber;
    batch.push({
      topic: config.kafka.topics.gateState,
      key,
      value,
      headers: {},
      toPartition: partitionOf(key),
    });
    if (batch.length === 500) {
      await bus.publish(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await bus.publish(batch);
  return performance.now() - t0;
}

// ── replicas ────────────────────────────────────────────────────────────────────────────

interface Replica {
  pid: number;
  startedAt: number;
  /** Partitions as of the last assignment (cleared by a revocation). */
  partitions: number[];
  assignments: { at: number; partitions: number[]; keys: number; ms: number }[];
  peakRss: number;
  proc: ChildProcess;
  output(): string;
  kill(): void;
  stop(): Promise<void>;
}

function startReplica(options: GateReplicaOptions): Replica {
  const startedAt = now();
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/gate-failover-child.ts', JSON.stringify(options)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  let buffered = '';
  const replica: Replica = {
    pid: proc.pid!,
    startedAt,
    partitions: [],
    assignments: [],
    peakRss: 0,
    proc,
    output: () => tail,
    kill: () => proc.kill('SIGKILL'),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  proc.stdout!.on('data', (b: Buffer) => {
    const at = now();
    tail = (tail + b.toString()).slice(-8000);
    buffered += b.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      let entry: { msg?: string; partitions?: number[]; keys?: number; ms?: number; rss?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.msg === 'partitions assigned and restored') {
        replica.partitions = entry.partitions ?? [];
        replica.assignments.push({
          at,
          partitions: replica.partitions,
          keys: entry.keys ?? 0,
          ms: entry.ms ?? 0,
        });
      } else if (entry.msg === 'partitions revoked') {
        replica.partitions = replica.partitions.filter((p) => !entry.partitions?.includes(p));
      }
      if (entry.rss) replica.peakRss = Math.max(replica.peakRss, entry.rss);
    }
  });
  proc.stderr!.on('data', (b: Buffer) => (tail = (tail + b.toString()).slice(-8000)));
  const sampler = setInterval(() => {
    const rss = rssOf(proc.pid!);
    if (Number.isFinite(rss)) replica.peakRss = Math.max(replica.peakRss, rss);
  }, 200);
  proc.once('exit', () => clearInterval(sampler));
  return replica;
}

/** Every partition owned by exactly one of `replicas` (the group settled). */
function settled(replicas: Replica[]): boolean {
  const owned = replicas.flatMap((r) => r.partitions);
  return (
    owned.length === PARTITIONS &&
    new Set(owned).size === PARTITIONS &&
    replicas.every((r) => r.partitions.length > 0)
  );
}

// ── the stack in this process ───────────────────────────────────────────────────────────

interface Stack {
  config: Config;
  bus: Bus;
  receiver: ReceiverRuntime;
  workers: WorkersRuntime;
  servicenow: ServiceNowSandbox;
  ci: CiEmulator;
  replicaOptions: GateReplicaOptions;
  replicas: Replica[];
  nextRun: number;
  close(): Promise<void>;
}

async function startStack(brokers: string, topicPrefix: string): Promise<Stack> {
  const whsec = `whsec_${randomBytes(32).toString('base64')}`;
  const encryptionKey = randomBytes(32).toString('base64');
  const servicenow = await startServiceNowSandbox({
    oauth: { clientId: 'changegate', clientSecret: 'sandbox-secret' },
  });
  const ci = await startCiEmulator();
  const config = gateStackConfig({ brokers, topicPrefix, servicenow, ci, whsec, encryptionKey });
  const log = createLogger({ level: 'warn' });
  const metrics = createMetrics({ defaults: false });
  const bus = createBus(config, { log });
  const receiver = await startReceiver({ config, log, bus, metrics });
  const workers = await startWorkers({ config, log, bus, metrics, names: ['change'] });
  servicenow.admin.outbound.set([{ url: `${receiver.url}/hooks/servicenow`, secret: whsec }]);
  const stack: Stack = {
    config,
    bus,
    receiver,
    workers,
    servicenow,
    ci,
    replicas: [],
    nextRun: 700_000,
    replicaOptions: {
      brokers,
      topicPrefix,
      servicenowUrl: servicenow.url,
      ciUrl: ci.url,
      githubAppId: ci.credentials.githubAppId,
      githubAppPrivateKey: ci.credentials.githubAppPrivateKey!,
      encryptionKey,
      whsec,
    },
    async close() {
      await Promise.all(stack.replicas.map((r) => r.stop()));
      await receiver.close();
      await workers.close();
      await bus.close();
      await ci.close();
      await servicenow.close();
    },
  };
  return stack;
}

/** Start one more gate replica and wait until the group settled over all live replicas. */
async function addReplica(stack: Stack, timeoutMs = 120_000): Promise<Replica> {
  const replica = startReplica(stack.replicaOptions);
  stack.replicas.push(replica);
  const live = () => stack.replicas.filter((r) => r.proc.exitCode === null && !r.proc.signalCode);
  try {
    await until(
      'the gate group settled',
      () => {
        if (replica.proc.exitCode !== null) throw new Error('[bench] the gate replica exited');
        return settled(live());
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${replica.output()}`);
  }
  return replica;
}

/** Register `count` real GitHub protection-rule gates; returns CR number → run id. */
async function registerGates(stack: Stack, ctx: BenchContext, count: number) {
  const runs = Array.from({ length: count }, () => stack.nextRun++);
  await postPendingGates({
    receiverUrl: stack.receiver.url,
    ci: stack.ci,
    runs,
    deliveryPrefix: `${ctx.runId}-failover`,
  });
  const wanted = new Set(runs);
  const crs = new Map<string, number>();
  await until(
    `${count} CRs awaiting approval`,
    () => {
      for (const r of stack.servicenow.admin.records('change_request')) {
        const m = /run-(\d+)-production$/.exec(r.correlation_id ?? '');
        if (m && wanted.has(Number(m[1])) && r.approval === 'requested' && r.number)
          crs.set(r.number, Number(m[1]));
      }
      return crs.size >= count;
    },
    60_000 + count * 200,
  ).catch((err: Error) => {
    const seen = stack.servicenow.admin
      .records('change_request')
      .map((r) => `${r.number} ${r.state} ${r.correlation_id}`);
    throw new Error(`${err.message}; CRs in the sandbox: ${seen.slice(-5).join('; ')}`);
  });
  // The gate registers from changegate.changes right after the CR is created.
  await sleep(2000);
  return crs;
}

/** When the CI emulator received the release of run `runId`, if it did. */
function releasedAt(stack: Stack, runId: number): number | undefined {
  return stack.ci
    .received()
    .find((c) => c.effect === 'released' && c.path.includes(`/runs/${runId}/`))?.at;
}

// ── the three measurements ──────────────────────────────────────────────────────────────

interface Failover {
  gates: number;
  seedMs: number;
  restoreOneMs?: number;
  restoreOneKitMs?: number;
  restoreOneRss?: number;
  restoreTrials: { ms: number; kitMs: number; rss: number }[];
  lost: number[];
  /** kill → the survivor logged its new assignment, restored. */
  takeoverMs: number;
  /** The survivor's own restore time in that assignment. */
  survivorRestoreMs: number;
  /** kill → release of each approved CR of a lost partition. */
  releases: number[];
}

async function failover(ctx: BenchContext, gates: number, measureRestore: boolean) {
  const stack = await startStack(ctx.brokers, `bench-${ctx.runId}-failover-${gates}`);
  try {
    await stack.bus.ensureTopics([
      { topic: stack.config.kafka.topics.gateState, partitions: PARTITIONS, cleanup: 'compact' },
    ]);
    const seedMs = await seedGates(stack.bus, stack.config, gates);
    ctx.say(`gate-failover: ${int(gates)} open gates written to the changelog in ${ms(seedMs)} ms`);
    const result: Failover = {
      gates,
      seedMs,
      lost: [],
      restoreTrials: [],
      takeoverMs: NaN,
      survivorRestoreMs: NaN,
      releases: [],
    };
    // The restore is measured RESTORE_TRIALS times (a replica started, restored, stopped), as one
    // sample on a shared CPU says little; the last replica stays for the failover.
    const trials = measureRestore ? RESTORE_TRIALS : 1;
    for (let trial = 1; trial <= trials; trial++) {
      const replica = await addReplica(stack);
      if (!measureRestore) break;
      const a = replica.assignments.at(-1)!;
      await sleep(1500); // a sample of RSS after the restore settled
      result.restoreTrials.push({
        ms: a.at - replica.startedAt,
        kitMs: a.ms,
        rss: replica.peakRss,
      });
      ctx.say(
        `gate-failover: restore ${trial}/${trials}: one replica restored ${int(a.keys)} CR states over ${a.partitions.length} partitions: start → restored ${ms(a.at - replica.startedAt)} ms (restore itself ${ms(a.ms)} ms), peak RSS ${mib(replica.peakRss)} MiB`,
      );
      if (trial < trials) {
        await replica.stop();
        stack.replicas.splice(stack.replicas.indexOf(replica), 1);
      }
    }
    if (measureRestore) {
      const byTime = [...result.restoreTrials].sort((x, y) => x.ms - y.ms);
      const median = byTime[Math.floor(byTime.length / 2)]!;
      result.restoreOneMs = median.ms;
      result.restoreOneKitMs = median.kitMs;
      result.restoreOneRss = Math.max(...byTime.map((t) => t.rss));
    }
    await addReplica(stack);
    // Real gates until at least two fall on partitions of each replica.
    const crs = await registerGates(stack, ctx, 12);
    const [a, b] = stack.replicas as [Replica, Replica];
    const victim = a.partitions.length >= b.partitions.length ? a : b;
    const survivor = victim === a ? b : a;
    result.lost = [...victim.partitions].sort();
    const mine = [...crs].filter(([number]) => victim.partitions.includes(partitionOf(number)));
    if (mine.length === 0) throw new Error('[bench] no live gate on a partition of the victim');
    const assignmentsBefore = survivor.assignments.length;
    const killedAt = now();
    victim.kill();
    for (const [number] of mine) stack.servicenow.admin.approve(number);
    await until(
      'releases after the kill',
      () => mine.every(([, run]) => releasedAt(stack, run) !== undefined),
      SESSION_TIMEOUT_MS * 6 + gates / 5,
    );
    const takeover = survivor.assignments.slice(assignmentsBefore).at(-1);
    result.takeoverMs = takeover ? takeover.at - killedAt : NaN;
    result.survivorRestoreMs = takeover?.ms ?? NaN;
    result.releases = mine.map(([, run]) => releasedAt(stack, run)! - killedAt);
    ctx.say(
      `gate-failover: ${int(gates)} gates, killed the owner of ${result.lost.join(',')}: survivor restored after ${ms(result.takeoverMs)} ms (restore ${ms(result.survivorRestoreMs)} ms); kill → releases ${result.releases.map(ms).join(', ')} ms`,
    );
    return result;
  } finally {
    await stack.close();
  }
}

interface LatencyRow {
  replicas: number;
  count: number;
  d: ReturnType<typeof distribution>;
}

async function latencies(ctx: BenchContext, perStep: number, perSecond: number) {
  const stack = await startStack(ctx.brokers, `bench-${ctx.runId}-replicas`);
  const rows: LatencyRow[] = [];
  try {
    for (let replicas = 1; replicas <= 3; replicas++) {
      await addReplica(stack);
      const crs = await registerGates(stack, ctx, perStep);
      const approvedAt = new Map<number, number>();
      for (const [number, run] of crs) {
        approvedAt.set(run, now());
        stack.servicenow.admin.approve(number);
        await sleep(1000 / perSecond);
      }
      await until(
        `${perStep} releases with ${replicas} replicas`,
        () => [...approvedAt.keys()].every((run) => releasedAt(stack, run) !== undefined),
        30_000,
      );
      const d = distribution([...approvedAt].map(([run, at]) => releasedAt(stack, run)! - at));
      rows.push({ replicas, count: crs.size, d });
      ctx.say(`gate-failover: ${replicas} replica(s): p50 ${ms(d.p50)} p99 ${ms(d.p99)} ms`);
    }
  } finally {
    await stack.close();
  }
  return rows;
}

/** Run benchmark 3c and return its BENCHMARKS.md section. */
export async function gateFailoverBenchmark(ctx: BenchContext): Promise<Section> {
  const sizes = (process.env.GATE_FAILOVER_GATES ?? (ctx.quick ? '1000' : '1000,100000'))
    .split(',')
    .map(Number)
    .filter((n) => n > 0)
    .sort((x, y) => x - y);
  const restoreAt = ctx.quick ? 20_000 : 100_000;
  const perStep = ctx.quick ? 20 : 100;
  const perSecond = 20;

  const runs: Failover[] = [];
  if (!sizes.includes(restoreAt)) runs.push(await failover(ctx, restoreAt, true));
  for (const n of sizes) runs.push(await failover(ctx, n, n === restoreAt));
  const restore = runs.find((r) => r.restoreOneMs !== undefined)!;
  const rows = await latencies(ctx, perStep, perSecond);

  const failoverRows = runs
    .filter((r) => sizes.includes(r.gates))
    .map((r) => {
      const d = distribution(r.releases);
      return [
        int(r.gates),
        r.lost.join(', '),
        ms(r.takeoverMs),
        ms(r.survivorRestoreMs),
        r.releases.length,
        ms(Math.min(...r.releases)),
        ms(d.max),
      ];
    });
  const worstFailover = Math.max(
    ...runs.filter((r) => sizes.includes(r.gates)).flatMap((r) => r.releases),
  );
  const biggest = Math.max(...sizes);
  const restoreS = (restore.restoreOneMs ?? NaN) / 1000;
  const p99s = rows.map((r) => `${r.replicas}: ${ms(r.d.p99)}`).join(', ');
  const kitMs = restore.restoreOneKitMs ?? NaN;
  const overheadMs = (restore.restoreOneMs ?? NaN) - kitMs;
  const small = runs.find((r) => r.gates === Math.min(...sizes));
  const large = runs.find((r) => r.gates === biggest);
  const goals: Goal[] = [
    {
      goal: 'restore 100 000 gates across 6 partitions (one replica)',
      target: '< 5 s',
      measured: `${int(restore.gates)} gates: start → restored ${restoreS.toFixed(1)} s (median of ${restore.restoreTrials.length}; max ${(Math.max(...restore.restoreTrials.map((t) => t.ms)) / 1000).toFixed(1)} s) (changelog read + parse ${ms(kitMs)} ms), peak RSS ${mib(restore.restoreOneRss ?? NaN)} MiB`,
      met: restore.gates >= 100_000 ? restoreS < 5 : null,
      note: `${restoreS < 5 ? 'under' : 'over'} by ${ms(Math.abs(5000 - (restore.restoreOneMs ?? NaN)))} ms; ${ms(overheadMs)} ms are process start (tsx) and the group join, the rest is readPartitionsToEnd + JSON.parse + zod per record on a shared core`,
    },
    {
      goal: 'failover: kill -9 of a replica → the survivor releasing a gate it took over',
      target: 'bounded by the session timeout',
      measured: `worst ${ms(worstFailover)} ms with up to ${int(biggest)} open gates`,
      met: worstFailover < SESSION_TIMEOUT_MS * 2 + 5000,
      note: `kafkajs sessionTimeout ${SESSION_TIMEOUT_MS / 1000} s (src/bus/kafka.ts default): the group notices the dead member only then; restore of the moved partitions and the release follow`,
    },
    {
      goal: 'release latency with 1, 2, 3 gate replicas',
      target: 'p99 < 50 ms (section 2) at each',
      measured: `p99 ms by replicas — ${p99s}`,
      met: rows.every((r) => r.d.p99 < 50),
      note: 'all replicas share the same 2 cores with the receiver, change worker and sandbox: more replicas add no CPU, so the spread is contention noise',
    },
  ];
  const body = `
Run \`${ctx.runId}\`${ctx.quick ? ' (quick)' : ''}, on the 2-core VM of the run line above, shared
with other agents' builds and test runs while it ran (numbers are noisy; CPU contention sets
the floor). Each gate
replica is its own process (\`bench/gate-failover-child.ts\`: \`startWorkers({ names: ['gate'] })\`,
what \`changegate worker gate\` runs); ServiceNow sandbox, CI emulator, receiver and change
worker run in the bench process. Topics have ${PARTITIONS} partitions.

**Seeding.** Creating 100 000 CRs through ServiceNow would take far longer than the benchmark,
so the open gates are written to the gate changelog directly: each gate registered by the gate
machine's own \`step()\`, encoded with the state kit's \`encodeEntry\` (state + wake timer),
checked against the worker's \`CrStateSchema\`, on the partition its CR number hashes to on the
input topic (kafkajs' default partitioner, as the bus uses). The worker restores them with its
own zod parse. The gates that are approved in (2) and (3) are real: GitHub protection rules
through receiver → change worker → CR in the sandbox → gate.

**(1) Restore.** One replica over ${int(restore.gates)} open gates (written in
${ms(restore.seedMs)} ms), started ${restore.restoreTrials.length} times one after another (each
stopped before the next): process spawn → "partitions assigned and restored" for all
${PARTITIONS} partitions ${restore.restoreTrials.map((t) => `${ms(t.ms)} ms (read + parse ${ms(t.kitMs)})`).join(', ')};
median **${ms(restore.restoreOneMs ?? NaN)} ms**, of which reading the ${PARTITIONS}
changelog partitions (in parallel) and parsing took ${ms(restore.restoreOneKitMs ?? NaN)} ms;
highest peak RSS ${mib(restore.restoreOneRss ?? NaN)} MiB. The read is bound by CPU, not Kafka: every
record is JSON-parsed and checked by the zod schema (\`CrStateSchema\`, which includes the
registered gate and its CR snapshot), one core for all ${PARTITIONS} partitions; the rest
(${ms(overheadMs)} ms) is loading the worker and joining the group.

**(2) Failover.** Two replicas in one group; 12 real gates registered; the replica owning more
partitions is killed with SIGKILL (no group leave), and at the same instant every real CR of its
partitions is approved in the sandbox. Measured from the kill: the survivor's log of its new,
restored assignment, and the CI emulator receiving each release (two business-rule round trips,
see section 2).

${table(
  [
    'open gates',
    'killed partitions',
    'kill → survivor restored, ms',
    'its restore, ms',
    'releases',
    'kill → first release, ms',
    'kill → last release, ms',
  ],
  failoverRows,
)}

The consumer session timeout dominates: kafkajs' \`sessionTimeout\` is ${SESSION_TIMEOUT_MS} ms
(the default in \`src/bus/kafka.ts\`, same as \`rebalanceTimeout\`; not in the config). Until it
expires the broker still counts the dead member, so its partitions wait; then the survivor
rejoins, restores only the partitions it gained, and handles the queued approvals. Failover time
≈ session timeout + rebalance + restore of the moved partitions + one release. With
${int(small?.gates ?? 0)} gates the survivor was restored ${ms(small?.takeoverMs ?? NaN)} ms after the kill
(under 10 s: the dead member's session started at its last heartbeat, before the kill); with
${int(large?.gates ?? 0)} gates ${ms(large?.takeoverMs ?? NaN)} ms, the difference being the restore of
the ~half of the gates that moved (${ms(large?.survivorRestoreMs ?? NaN)} ms). The releases follow the
restore by about ${ms(Math.min(...(large?.releases ?? [NaN])) - (large?.takeoverMs ?? NaN))} ms (the two round trips). A shorter session
timeout would cut failover nearly one for one, at the price of false evictions of a replica
paused by GC or CPU starvation.

**(3) Release latency by replicas.** One stack, replicas added one at a time (1 → 2 → 3, each
waiting for the group to settle); per step ${perStep} fresh real gates, approved at ${perSecond}/s;
approval → release at the CI emulator, as in section 2.

${table(
  ['replicas', 'gates', 'p50 ms', 'p99 ms', 'max ms', 'mean ms'],
  rows.map((r) => [r.replicas, r.count, ms(r.d.p50), ms(r.d.p99), ms(r.d.max), ms(r.d.mean)]),
)}

More replicas do not add CPU here (2 shared cores): the path is two business-rule round trips
through receiver, Kafka and the gate worker; a replica per node would spread it.
`;
  return {
    id: 'gate-failover',
    title: '3c. Gate replicas: restore, failover, latency by replicas',
    body,
    goals,
  };
}
