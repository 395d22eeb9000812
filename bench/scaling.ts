/**
 * Benchmark 3, scaling: 1 vs 2 receiver processes, 1 → 6 partitions, and payload size
 * 1 KB → 1 MB (throughput, latency, CPU time and memory per delivery). Pending gates are in
 * bench/gate-state.ts.
 *
 * @module
 */
import { startChangegate, type ChangegateProcess } from './lib/changegate.js';
import type { BenchContext } from './lib/context.js';
import { stepSeconds } from './lib/context.js';
import { githubDeliveries, type DeliverySet } from './lib/github-deliveries.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { cpuSecondsOf, sampleRss } from './lib/process.js';
import type { Section } from './lib/report.js';
import { int, mib, ms, ratio, table } from './lib/stats.js';

interface Step {
  load: LoadResult;
  rss: number;
  cpuSeconds: number;
}

/** Load every server at once (connections split evenly) and sum what they accepted. */
async function drive(
  ctx: BenchContext,
  servers: ChangegateProcess[],
  deliveries: DeliverySet,
  connections: number,
  durationS: number,
  tag: string,
): Promise<Step> {
  const samplers = servers.map((s) => sampleRss(s.child.pid));
  const cpu0 = servers.map((s) => cpuSecondsOf(s.child.pid));
  const loads = await Promise.all(
    servers.map((s, i) =>
      runLoad({
        url: s.url,
        deliveries,
        connections: Math.max(1, Math.round(connections / servers.length)),
        durationS,
        runId: `${ctx.runId}-${tag}-${i}`,
      }),
    ),
  );
  const rss = samplers.map((s) => s.stop().peak);
  const cpuSeconds = servers.reduce((sum, s, i) => sum + cpuSecondsOf(s.child.pid) - cpu0[i]!, 0);
  const all = loads.flatMap((l) => [l]);
  const merged: LoadResult = {
    acceptedPerSecond: all.reduce((a, l) => a + l.acceptedPerSecond, 0),
    accepted: all.reduce((a, l) => a + l.accepted, 0),
    other: all.reduce((a, l) => a + l.other, 0),
    statuses: {},
    // Latency of the first server stands for all (they are identical processes).
    latency: all[0]!.latency,
    seconds: Math.max(...all.map((l) => l.seconds)),
  };
  ctx.say(
    `scaling ${tag}: ${merged.acceptedPerSecond.toFixed(0)}/s p99 ${ms(merged.latency.p99)} ms, RSS ${rss.map(mib).join('+')} MiB`,
  );
  return { load: merged, rss: Math.max(...rss), cpuSeconds };
}

async function withServers<T>(
  count: number,
  start: () => Promise<ChangegateProcess>,
  fn: (servers: ChangegateProcess[]) => Promise<T>,
): Promise<T> {
  const servers: ChangegateProcess[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await start());
    return await fn(servers);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Run benchmark 3 and return its BENCHMARKS.md section. */
export async function scalingBenchmark(ctx: BenchContext): Promise<Section> {
  const seconds = stepSeconds(ctx, 8);
  const deliveries = githubDeliveries(256);
  const connections = 64;

  // 1, 2 and 4 receivers on the same topics (each restores and follows the shared dedupe log).
  const receivers: { n: number; step: Step }[] = [];
  for (const n of [1, 2, 4]) {
    const prefix = `bench-${ctx.runId}-recv${n}`;
    const step = await withServers(
      n,
      () => startChangegate({ brokers: ctx.brokers, topicPrefix: prefix }),
      async (servers) => {
        await drive(ctx, servers, deliveries, 16, 2, `recv${n}-warm`);
        return drive(ctx, servers, deliveries, connections, seconds, `recv${n}`);
      },
    );
    receivers.push({ n, step });
  }

  const partitions: { p: number; step: Step }[] = [];
  for (const p of [1, 3, 6]) {
    const step = await withServers(
      1,
      () =>
        startChangegate({
          brokers: ctx.brokers,
          topicPrefix: `bench-${ctx.runId}-p${p}`,
          partitions: p,
        }),
      async (servers) => {
        await drive(ctx, servers, deliveries, 16, 2, `p${p}-warm`);
        return drive(ctx, servers, deliveries, connections, seconds, `p${p}`);
      },
    );
    partitions.push({ p, step });
  }

  const sizes: { bytes: number; step: Step }[] = [];
  const sizeList = [1_000, 20_000, 100_000, 500_000, 1_000_000];
  await withServers(
    1,
    () => startChangegate({ brokers: ctx.brokers, topicPrefix: `bench-${ctx.runId}-size` }),
    async ([server]) => {
      for (const target of sizeList) {
        const set = githubDeliveries(target >= 500_000 ? 16 : 64, target);
        await drive(ctx, [server!], set, 4, 1, `size${target}-warm`);
        const step = await drive(ctx, [server!], set, 8, seconds, `size${target}`);
        sizes.push({ bytes: set.bodyBytes, step });
      }
    },
  );

  const row = (label: string | number, s: Step, base?: Step) => [
    label,
    int(s.load.acceptedPerSecond),
    base ? ratio(s.load.acceptedPerSecond, base.load.acceptedPerSecond) : '×1.00',
    ms(s.load.latency.p50),
    ms(s.load.latency.p99),
    mib(s.rss),
    ms((s.cpuSeconds / Math.max(1, s.load.accepted)) * 1000),
  ];
  const head = [
    'deliveries/s',
    'vs first',
    'p50 ms',
    'p99 ms',
    'peak RSS MiB (per process)',
    'CPU ms per delivery',
  ];
  const body = `
Run \`${ctx.runId}\`${ctx.quick ? ' (quick)' : ''}. \`changegate start\` processes on the bench
broker, ${seconds} s per step after a 2 s warm-up; the load generator shares the machine.
CPU ms per delivery = user + system time of the changegate process(es) / accepted deliveries.

### Receiver processes (${connections} connections split across them, same topics)

${table(
  ['receivers', ...head],
  receivers.map((r) => row(r.n, r.step, receivers[0]!.step)),
)}

### Partitions of the topics (1 receiver, ${connections} connections, 256 keys)

${table(
  ['partitions', ...head],
  partitions.map((r) => row(r.p, r.step, partitions[0]!.step)),
)}

### Payload size (1 receiver, 8 connections)

Bodies are the workflow_run fixture padded (or slimmed) to size; above \`ingest.rawMaxBytes\`
(256 KiB) the raw payload is not copied into the event, so the record stays small.

${table(
  ['body bytes', ...head, 'MB/s in'],
  sizes.map((r) => [
    ...row(int(r.bytes), r.step, sizes[0]!.step),
    ((r.step.load.acceptedPerSecond * r.bytes) / 1e6).toFixed(1),
  ]),
)}

Not measured here: 4 receiver processes (2 cores: more processes than cores only shows the CPU
limit) and worker throughput through the change + gate workers against a slow ServiceNow (see
the gate benchmark for the worker path's latency).
`;
  return { id: 'scaling', title: '3. Scaling', body, goals: [] };
}
