/**
 * Benchmark 3b, pending gates 1 → 100 000: memory and step() time of the gate state machine,
 * bytes on the compacted changelog and its read-back time from Kafka. The real gate worker's
 * restore (per partition, through the state kit) is measured by gate-failover (§3c). Runs in a
 * child with `--expose-gc` (bench/gate-state-child.ts).
 *
 * @module
 */
import type { BenchContext } from './lib/context.js';
import { spawnTs } from './lib/process.js';
import type { Goal, Section } from './lib/report.js';
import { int, mib, ms, table } from './lib/stats.js';

interface ChildResult {
  memory: { n: number; heapBytes: number; rssBytes: number; stepUs: number; jsonBytes: number }[];
  restore: { n: number; writeMs: number; restoreMs: number; heapBytes: number };
}

/** Run the pending-gates benchmark and return its BENCHMARKS.md section. */
export async function gateStateBenchmark(ctx: BenchContext): Promise<Section> {
  const counts = ctx.quick ? [1, 1_000, 10_000, 20_000] : [1, 1_000, 10_000, 100_000];
  const child = spawnTs({
    entry: 'bench/gate-state-child.ts',
    nodeFlags: ['--expose-gc', '--max-old-space-size=2048'],
    args: [ctx.brokers, `bench-${ctx.runId}-gates`, counts.join(',')],
  });
  const timer = setTimeout(() => void child.stop(1000), 300_000);
  const code = await child.exited;
  clearTimeout(timer);
  const line = child
    .output()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"memory"'));
  if (code !== 0 || !line)
    throw new Error(`[bench] gate-state child failed (${code}):\n${child.output()}`);
  const r = JSON.parse(line) as ChildResult;
  const top = r.memory[r.memory.length - 1]!;
  ctx.say(
    `gate-state: ${top.n} gates ${mib(top.heapBytes)} MiB heap; restore ${r.restore.n} in ${ms(r.restore.restoreMs)} ms`,
  );

  const memoryTable = table(
    [
      'pending gates',
      'heap MiB',
      'heap bytes / gate',
      'RSS growth MiB',
      'step() µs / gate',
      'changelog MiB (JSON)',
    ],
    r.memory.map((m) => [
      int(m.n),
      mib(m.heapBytes),
      int(m.heapBytes / m.n),
      mib(m.rssBytes),
      m.stepUs.toFixed(1),
      mib(m.jsonBytes),
    ]),
  );
  const restoreSeconds = r.restore.restoreMs / 1000;
  const goals: Goal[] = [
    {
      goal: '100 000 pending gates in memory',
      target: '< 500 MB',
      measured:
        top.n >= 100_000
          ? `${mib(top.heapBytes)} MiB heap`
          : `${int(top.n)} gates: ${mib(top.heapBytes)} MiB (quick run)`,
      met: top.n >= 100_000 ? top.heapBytes < 500 * 1024 * 1024 : null,
      note: `${int(top.heapBytes / top.n)} B per gate (the gate, its CR snapshot and the sealed callback)`,
    },
    {
      goal: 'restore 100 000 gates from the changelog',
      target: 'seconds',
      measured: `readToEnd + parse: ${restoreSeconds.toFixed(1)} s for ${int(r.restore.n)}`,
      met: r.restore.n >= 100_000 ? restoreSeconds < 10 : null,
      note: 'one partition, read and parsed; the gate worker restoring its partitions through the state kit, timers armed, is the 3c row below',
    },
  ];
  const body = `
Run \`${ctx.runId}\`${ctx.quick ? ' (quick: up to 20 000 gates)' : ''}. In-process in a child
with \`--expose-gc\`: one CR per gate, each gate registered through \`step()\` with a realistic
\`gate.registered\` (sealed callback ~320 B, CR snapshot awaiting approval). Heap is measured
after a full GC.

${memoryTable}

Changelog restore (compacted topic, 1 partition, on the bench broker): ${int(r.restore.n)} states
written in ${ms(r.restore.writeMs)} ms, read back with \`readToEnd\` + \`JSON.parse\` (what the gate
worker does) in **${ms(r.restore.restoreMs)} ms**, ${mib(r.restore.heapBytes)} MiB heap after.

The gate worker restoring 100 000 gates across 6 partitions (state kit, zod-parsed, timers
armed) and the failover time are in §3c.
`;
  return {
    id: 'gate-state',
    title: '3b. Pending gates (state machine, changelog restore)',
    body,
    goals,
  };
}
