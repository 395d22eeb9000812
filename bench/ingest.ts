/**
 * Benchmark 1, durable ingest: signed ~20 KB GitHub workflow_run deliveries at increasing
 * concurrency, 202 only after Kafka acknowledged (acks=all), against (a) `changegate start`,
 * (b) the naive baseline in bench/baseline/, (c) Kafka's ProducerPerformance at the same
 * record size on the same broker. Then a fixed 1000 deliveries/s run for the latency goal.
 *
 * @module
 */
import type { BenchContext } from './lib/context.js';
import { stepSeconds } from './lib/context.js';
import { startBaseline, startChangegate, type ChangegateProcess } from './lib/changegate.js';
import { changegateRecordBytes, githubDeliveries } from './lib/github-deliveries.js';
import { createTopics, producerPerformance, type ProducerPerfResult } from './lib/kafka.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { sampleRss } from './lib/process.js';
import type { Goal, Section } from './lib/report.js';
import { int, mib, ms, ratio, table } from './lib/stats.js';

const CONCURRENCY = [1, 16, 64, 256];
const TARGET_RATE = 1000;

interface Measured {
  target: 'changegate' | 'baseline';
  connections: number;
  load: LoadResult;
  rss: number;
}

async function measure(
  ctx: BenchContext,
  target: Measured['target'],
  server: ChangegateProcess,
  options: { connections: number; durationS: number; rate?: number; tag: string },
  deliveries: ReturnType<typeof githubDeliveries>,
): Promise<Measured> {
  const rss = sampleRss(server.child.pid);
  const load = await runLoad({
    url: server.url,
    deliveries,
    connections: options.connections,
    durationS: options.durationS,
    ...(options.rate ? { rate: options.rate } : {}),
    runId: `${ctx.runId}-${target}-${options.tag}`,
  });
  const { peak } = rss.stop();
  ctx.say(
    `ingest ${target} c=${options.connections}${options.rate ? ` rate=${options.rate}` : ''}: ` +
      `${load.acceptedPerSecond.toFixed(0)}/s p50 ${ms(load.latency.p50)} p99 ${ms(load.latency.p99)} ms, ` +
      `RSS ${mib(peak)} MiB, statuses ${JSON.stringify(load.statuses)}`,
  );
  return { target, connections: options.connections, load, rss: peak };
}

/** Run benchmark 1 and return its BENCHMARKS.md section. */
export async function ingestBenchmark(ctx: BenchContext): Promise<Section> {
  const seconds = stepSeconds(ctx);
  const deliveries = githubDeliveries(256);
  const recordBytes = await changegateRecordBytes(deliveries.bodies[0]!.body);
  const prefix = `bench-${ctx.runId}-ingest`;
  await createTopics(ctx.brokers, [`${prefix}.baseline`, `${prefix}.ceiling`], 6);

  const changegate = await startChangegate({ brokers: ctx.brokers, topicPrefix: prefix });
  const baseline = await startBaseline({ brokers: ctx.brokers, topic: `${prefix}.baseline` });
  const rows: Measured[] = [];
  let rate: { changegate: Measured; baseline: Measured };
  try {
    // Warm up both (JIT, connections, producer metadata); not reported.
    for (const [name, server] of [
      ['changegate', changegate],
      ['baseline', baseline],
    ] as const) {
      await measure(
        ctx,
        name,
        server,
        { connections: 16, durationS: 2, tag: 'warmup' },
        deliveries,
      );
    }
    // Interleaved per step so drift on the shared machine hits both alike.
    for (const c of CONCURRENCY) {
      rows.push(
        await measure(
          ctx,
          'changegate',
          changegate,
          { connections: c, durationS: seconds, tag: `c${c}` },
          deliveries,
        ),
      );
      rows.push(
        await measure(
          ctx,
          'baseline',
          baseline,
          { connections: c, durationS: seconds, tag: `c${c}` },
          deliveries,
        ),
      );
    }
    const fixed = { connections: 64, durationS: seconds, rate: TARGET_RATE, tag: 'rate' };
    rate = {
      changegate: await measure(ctx, 'changegate', changegate, fixed, deliveries),
      baseline: await measure(ctx, 'baseline', baseline, fixed, deliveries),
    };
  } finally {
    await changegate.stop();
    await baseline.stop();
  }

  const ceilings: ProducerPerfResult[] = [];
  for (const props of [[], ['batch.size=1048576', 'linger.ms=5']]) {
    const result = await producerPerformance({
      brokers: ctx.brokers,
      topic: `${prefix}.ceiling`,
      recordSize: recordBytes.value,
      durationS: seconds,
      props,
      sampleRss: (pid) => sampleRss(pid),
    });
    ctx.say(
      `ingest ProducerPerformance ${result.props}: ${result.recordsPerSecond.toFixed(0)} records/s, p99 ${result.p99} ms`,
    );
    ceilings.push(result);
  }

  return report(ctx, {
    rows,
    rate,
    ceilings,
    recordBytes,
    bodyBytes: deliveries.bodyBytes,
    seconds,
  });
}

function report(
  ctx: BenchContext,
  r: {
    rows: Measured[];
    rate: { changegate: Measured; baseline: Measured };
    ceilings: ProducerPerfResult[];
    recordBytes: { value: number; total: number };
    bodyBytes: number;
    seconds: number;
  },
): Section {
  const best = (target: Measured['target']) =>
    Math.max(...r.rows.filter((m) => m.target === target).map((m) => m.load.acceptedPerSecond));
  const cgBest = best('changegate');
  const baseBest = best('baseline');
  const ceiling = Math.max(...r.ceilings.map((c) => c.recordsPerSecond));
  const byConnections = (target: Measured['target'], c: number) =>
    r.rows.find((m) => m.target === target && m.connections === c)!;

  const throughput = table(
    [
      'target',
      'connections',
      'deliveries/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'peak RSS MiB',
      'not 202',
    ],
    r.rows.map((m) => [
      m.target,
      m.connections,
      int(m.load.acceptedPerSecond),
      ms(m.load.latency.p50),
      ms(m.load.latency.p99),
      ms(m.load.latency.p999),
      ms(m.load.latency.max),
      mib(m.rss),
      m.load.other,
    ]),
  );
  const ratios = table(
    ['connections', 'changegate / baseline'],
    CONCURRENCY.map((c) => [
      c,
      ratio(
        byConnections('changegate', c).load.acceptedPerSecond,
        byConnections('baseline', c).load.acceptedPerSecond,
      ),
    ]),
  );
  const ceilingTable = table(
    [
      'ProducerPerformance props (acks=all)',
      'records',
      'records/s',
      'MB/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'JVM peak RSS MiB',
    ],
    r.ceilings.map((c) => [
      `\`${c.props}\``,
      int(c.records),
      int(c.recordsPerSecond),
      c.mbPerSecond.toFixed(1),
      c.p50,
      c.p99,
      c.p999,
      c.maxMs,
      mib(c.rss),
    ]),
  );
  const rateTable = table(
    [
      'target',
      'asked /s',
      'achieved /s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'peak RSS MiB',
      'not 202',
    ],
    (['changegate', 'baseline'] as const).map((t) => {
      const m = r.rate[t];
      return [
        t,
        TARGET_RATE,
        int(m.load.acceptedPerSecond),
        ms(m.load.latency.p50),
        ms(m.load.latency.p99),
        ms(m.load.latency.p999),
        ms(m.load.latency.max),
        mib(m.rss),
        m.load.other,
      ];
    }),
  );

  const cgRate = r.rate.changegate;
  const rateReached = cgRate.load.acceptedPerSecond >= TARGET_RATE * 0.95;
  const vsBaseline = cgBest / baseBest;
  const vsCeiling = cgBest / ceiling;
  const goals: Goal[] = [
    {
      goal: 'ingest vs naive baseline',
      target: '≥ 5×',
      measured: `×${vsBaseline.toFixed(2)} (${int(cgBest)} vs ${int(baseBest)} deliveries/s, best of each)`,
      met: vsBaseline >= 5,
      note:
        vsBaseline >= 5
          ? 'group commit: one acks=all produce request carries hundreds of deliveries'
          : vsBaseline < 1
            ? `the naive baseline is faster (short of the goal by ×${(5 / vsBaseline).toFixed(1)}): against a local single-node broker a produce costs ~1 ms, so group commit saves little and both servers are CPU-bound; changegate parses, validates and deduplicates each delivery, the baseline only forwards bytes — see the notes and §4`
            : `short by ×${(5 / vsBaseline).toFixed(2)}; both are CPU-bound on 2 shared cores (HTTP + HMAC + JSON), see §4`,
    },
    {
      goal: 'ingest vs ProducerPerformance',
      target: '≥ 50 % of records/s',
      measured: `${(vsCeiling * 100).toFixed(0)} % (${int(cgBest)} vs ${int(ceiling)} records/s at ${int(r.recordBytes.value)} B)`,
      met: vsCeiling >= 0.5,
      note:
        vsCeiling >= 0.5
          ? 'HTTP + verify + normalize fit beside Kafka’s own producer'
          : `short by ${((0.5 - vsCeiling) * 100).toFixed(0)} points; ProducerPerformance does no HTTP, no HMAC, no JSON parse/validate and uses the Java client's native batching/compression path`,
    },
    {
      goal: 'p99 ack latency at 1 000 deliveries/s',
      target: '< 20 ms',
      measured: `${ms(cgRate.load.latency.p99)} ms at ${int(cgRate.load.acceptedPerSecond)}/s achieved`,
      met: rateReached ? cgRate.load.latency.p99 < 20 : false,
      note: rateReached
        ? cgRate.load.latency.p99 < 20
          ? 'linger ≤ 1 ms + one acks=all round trip per batch'
          : `over by ${ms(cgRate.load.latency.p99 - 20)} ms; GC pauses and a shared CPU`
        : `1 000/s not reached on this machine (×${(cgRate.load.acceptedPerSecond / TARGET_RATE).toFixed(2)}): CPU-bound`,
    },
    {
      goal: 'RSS at 1 000 deliveries/s',
      target: '< 200 MB',
      measured: `${mib(cgRate.rss)} MiB peak`,
      met: cgRate.rss < 200 * 1024 * 1024,
      note:
        cgRate.rss < 200 * 1024 * 1024
          ? 'heap holds one batch (≤ 900 KB) plus in-flight requests'
          : 'in-flight 20 KB bodies × connections plus the dedupe map',
    },
  ];

  const body = `
${runLine(ctx)}

Payload: the recorded \`workflow_run\` completed (\`@octokit/webhooks-examples\`
\`workflow_run[1]\`) as GitHub sends it (compact JSON,
${int(r.bodyBytes)} B), 256 run ids (keys spread over 6 partitions), a unique
\`X-GitHub-Delivery\` per request, HMAC-SHA256 signed. changegate writes a
${int(r.recordBytes.value)} B record value per delivery (CloudEvent binary mode, raw payload kept;
${int(r.recordBytes.total)} B with key and headers) plus a ~60 B dedupe marker in the same
produce request. ${r.seconds} s per step, autocannon in the bench process (it shares the 2 cores).
Latency = request sent → 202 received, i.e. after Kafka acknowledged with acks=all.

### Throughput and ack latency by concurrency

${throughput}

### Ratios (same run, interleaved)

${ratios}

Best of each: changegate / baseline **${ratio(cgBest, baseBest)}**, changegate / ceiling
**${ratio(cgBest, ceiling)}** (ceiling = best ProducerPerformance below).

### Ceiling: Kafka's ProducerPerformance, same broker, record size ${int(r.recordBytes.value)} B

${ceilingTable}

### Fixed rate: ${TARGET_RATE} deliveries/s, 64 connections

${rateTable}
`;
  return { id: 'ingest', title: '1. Durable ingest', body, goals };
}

function runLine(ctx: BenchContext): string {
  return `Run \`${ctx.runId}\`${ctx.quick ? ' (quick: short steps, indicative only)' : ''}.`;
}
