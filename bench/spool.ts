/**
 * Benchmark 1b, ingest with the spool in use: the same signed ~20 KB GitHub deliveries against
 * two receivers side by side in one run — one on the bench broker (202 after Kafka acks=all),
 * one whose broker is down (nothing listens on its port: 202 after the delivery is fsynced to
 * its spool) — interleaved per step so drift on the shared machine hits both alike. Then the
 * spool that the second receiver filled is drained by a receiver on the bench broker: how fast
 * a backlog reaches Kafka once it is back.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.js';
import { stepSeconds } from './lib/context.js';
import { startChangegate, type ChangegateProcess } from './lib/changegate.js';
import { githubDeliveries } from './lib/github-deliveries.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { sampleRss } from './lib/process.js';
import type { Goal, Section } from './lib/report.js';
import { int, mib, ms, ratio, table } from './lib/stats.js';

const CONCURRENCY = [1, 16, 64];
const FIXED_RATE = 500;
/** Nothing listens here: connection refused, the fastest way for a broker to be "down". */
const DOWN_BROKER = '127.0.0.1:1';

type Mode = 'kafka' | 'spooled';

interface Measured {
  mode: Mode;
  connections: number;
  rate?: number;
  load: LoadResult;
  rss: number;
}

async function waiting(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^changegate_spool_waiting_deliveries (\d+)/m.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export async function spoolBenchmark(ctx: BenchContext): Promise<Section> {
  const seconds = stepSeconds(ctx);
  const deliveries = githubDeliveries(256);
  const spoolDir = mkdtempSync(join(tmpdir(), 'changegate-bench-spool-'));
  const ingestFor = (dir: string) => ({ spool: { dir, maxBytes: 8 * 2 ** 30 } });
  const live = await startChangegate({
    brokers: ctx.brokers,
    topicPrefix: `bench-${ctx.runId}-spool-live`,
    ingest: ingestFor(mkdtempSync(join(tmpdir(), 'changegate-bench-spool-live-'))),
  });
  const down = await startChangegate({
    brokers: DOWN_BROKER,
    topicPrefix: `bench-${ctx.runId}-spool-down`,
    ingest: ingestFor(spoolDir),
  });
  const servers: Record<Mode, ChangegateProcess> = { kafka: live, spooled: down };
  const rows: Measured[] = [];
  let step = 0;
  const measure = async (mode: Mode, connections: number, rate?: number) => {
    step += 1;
    const server = servers[mode];
    const rss = sampleRss(server.child.pid);
    const load = await runLoad({
      url: server.url,
      deliveries,
      connections,
      durationS: seconds,
      ...(rate ? { rate } : {}),
      // Unique per step (the warm-up included): a repeated id or body would be a duplicate.
      runId: `${ctx.runId}-spool-${step}-${mode}-c${connections}-${rate ?? 'max'}`,
    });
    const { peak } = rss.stop();
    ctx.say(
      `spool ${mode} c=${connections}${rate ? ` rate=${rate}` : ''}: ${load.acceptedPerSecond.toFixed(0)}/s ` +
        `p50 ${ms(load.latency.p50)} p99 ${ms(load.latency.p99)} ms, statuses ${JSON.stringify(load.statuses)}`,
    );
    rows.push({ mode, connections, ...(rate ? { rate } : {}), load, rss: peak });
  };
  let drain: { deliveries: number; seconds: number } | undefined;
  try {
    for (const mode of ['kafka', 'spooled'] as const) await measure(mode, 16, undefined); // warm-up
    rows.length = 0;
    for (const c of CONCURRENCY) {
      await measure('kafka', c);
      await measure('spooled', c);
    }
    await measure('kafka', 64, FIXED_RATE);
    await measure('spooled', 64, FIXED_RATE);

    const backlog = await waiting(down.url);
    await down.stop();
    const started = performance.now();
    const drainer = await startChangegate({
      brokers: ctx.brokers,
      topicPrefix: `bench-${ctx.runId}-spool-down`,
      ingest: ingestFor(spoolDir),
    });
    try {
      while ((await waiting(drainer.url)) > 0) await new Promise((r) => setTimeout(r, 100));
      drain = { deliveries: backlog, seconds: (performance.now() - started) / 1000 };
      ctx.say(`spool drain: ${backlog} deliveries in ${drain.seconds.toFixed(1)} s`);
    } finally {
      await drainer.stop();
    }
  } finally {
    await live.stop();
    await down.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  }
  return report(rows, drain, seconds, deliveries.bodyBytes);
}

function report(
  rows: Measured[],
  drain: { deliveries: number; seconds: number } | undefined,
  seconds: number,
  bodyBytes: number,
): Section {
  const find = (mode: Mode, c: number, rate?: number) =>
    rows.find((r) => r.mode === mode && r.connections === c && r.rate === rate)!;
  const steps = [...CONCURRENCY.map((c) => [c, undefined] as const), [64, FIXED_RATE] as const];
  const body = [
    `Each step ${seconds} s, signed ${int(bodyBytes)} B GitHub \`workflow_run\` deliveries. \`kafka\`: a`,
    'receiver on the bench broker, answered 202 after acks=all. `spooled`: a receiver whose broker',
    'is down, answered 202 after the delivery is appended to its spool and fdatasync’d (group',
    'commit: appends that arrive together share one write and one fdatasync). Both receivers run',
    'at the same time and the steps alternate between them. Spooled can be the faster path:',
    'it skips the produce round trip and the delivery-log marker that the follow consumer reads',
    'back, and an fdatasync costs what the disk makes it cost — little on a disk with a write',
    'cache, one real flush per group commit on one without (these figures are from a VM disk).',
    '',
    table(
      [
        'mode',
        'connections',
        'rate',
        'deliveries/s',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'peak RSS MiB',
        'not 202',
      ],
      rows.map((m) => [
        m.mode,
        m.connections,
        m.rate ?? 'max',
        int(m.load.acceptedPerSecond),
        ms(m.load.latency.p50),
        ms(m.load.latency.p99),
        ms(m.load.latency.p999),
        ms(m.load.latency.max),
        mib(m.rss),
        m.load.other,
      ]),
    ),
    '',
    table(
      ['connections', 'rate', 'spooled / kafka throughput', 'p99 spooled / kafka'],
      steps.map(([c, rate]) => [
        c,
        rate ?? 'max',
        ratio(
          find('spooled', c, rate).load.acceptedPerSecond,
          find('kafka', c, rate).load.acceptedPerSecond,
        ),
        ratio(find('spooled', c, rate).load.latency.p99, find('kafka', c, rate).load.latency.p99),
      ]),
    ),
    '',
    drain
      ? `Drain: the ${int(drain.deliveries)} deliveries the \`spooled\` receiver acknowledged were on Kafka ${drain.seconds.toFixed(1)} s after a receiver on the bench broker was started on that spool directory (process start and delivery-log restore included): ${int(drain.deliveries / drain.seconds)} deliveries/s.`
      : 'Drain: not measured (the run failed before).',
  ].join('\n');
  const spooled = find('spooled', 64, FIXED_RATE);
  const kafka = find('kafka', 64, FIXED_RATE);
  const goals: Goal[] = [
    {
      goal: `ingest p99 at ${FIXED_RATE}/s with the broker down (spool)`,
      target: 'no worse than with Kafka up',
      measured: `p99 ${ms(spooled.load.latency.p99)} ms spooled vs ${ms(kafka.load.latency.p99)} ms on Kafka`,
      met: spooled.load.latency.p99 <= kafka.load.latency.p99 * 1.1,
      note: 'an fdatasync on local disk against an acks=all round trip to a local broker',
    },
  ];
  return { id: 'spool', title: '1b. Ingest with the spool in use (broker down)', body, goals };
}
