/**
 * Benchmark 4, the hot path under load: `changegate start --cpu-prof` driven at 64 connections,
 * then the profile is split into the stages verify → parse → normalize → validate → serialize →
 * produce (plus HTTP, GC, logging) to say what bounds ingest.
 *
 * @module
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChangegate } from './lib/changegate.js';
import type { BenchContext } from './lib/context.js';
import { stepSeconds } from './lib/context.js';
import { summarizeProfile } from './lib/cpu-profile.js';
import { githubDeliveries } from './lib/github-deliveries.js';
import { runLoad } from './lib/load.js';
import type { Section } from './lib/report.js';
import { int, ms, table } from './lib/stats.js';

const CONNECTIONS = 64;

/** Run benchmark 4 and return its BENCHMARKS.md section. */
export async function profileBenchmark(ctx: BenchContext): Promise<Section> {
  const seconds = stepSeconds(ctx, 15);
  const dir = mkdtempSync(join(tmpdir(), 'changegate-prof-'));
  const deliveries = githubDeliveries(256);
  const changegate = await startChangegate({
    brokers: ctx.brokers,
    topicPrefix: `bench-${ctx.runId}-profile`,
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'],
  });
  let load;
  let loadStarted = 0;
  let loadEnded = 0;
  try {
    await runLoad({
      url: changegate.url,
      deliveries,
      connections: 16,
      durationS: 2,
      runId: `${ctx.runId}-prof-warm`,
    });
    loadStarted = performance.now();
    load = await runLoad({
      url: changegate.url,
      deliveries,
      connections: CONNECTIONS,
      durationS: seconds,
      runId: `${ctx.runId}-prof`,
    });
    loadEnded = performance.now();
  } finally {
    await changegate.stop();
  }
  const stopped = performance.now();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`[bench] no .cpuprofile written in ${dir}`);
  // Only the measured load: start-up (tsx compiling modules) and shutdown would blur the stages.
  const summary = summarizeProfile(join(dir, file), {
    fromEndMs: stopped - loadStarted,
    toEndMs: stopped - loadEnded,
  });
  ctx.say(
    `profile: ${load.acceptedPerSecond.toFixed(0)}/s; ` +
      summary.stages
        .slice(0, 6)
        .map((s) => `${s.stage} ${(s.share * 100).toFixed(0)}%`)
        .join(', '),
  );

  const perDelivery = (t: number) => (load.accepted > 0 ? (t / load.accepted) * 1000 : Number.NaN);
  const stageTable = table(
    ['stage', 'sampled ms', 'share of busy time', 'µs per delivery (wall, incl. descheduling)'],
    summary.stages.map((s) => [
      s.stage,
      int(s.ms),
      `${(s.share * 100).toFixed(1)} %`,
      int(perDelivery(s.ms)),
    ]),
  );
  const topTable = table(
    ['function (self time)', 'where', 'sampled ms', 'share'],
    summary.top.map((t) => [
      `\`${t.fn}\``,
      t.where ? `\`${t.where}\`` : '',
      int(t.ms),
      `${(t.share * 100).toFixed(1)} %`,
    ]),
  );
  const bound = summary.stages[0];
  const busyShare = summary.busyMs / summary.totalMs;
  const body = `
Run \`${ctx.runId}\`${ctx.quick ? ' (quick)' : ''}. \`changegate start\` under \`node --cpu-prof
--cpu-prof-interval=500\` (µs), ${CONNECTIONS} connections for ${seconds} s after a warm-up:
${int(load.acceptedPerSecond)} deliveries/s, p50 ${ms(load.latency.p50)} ms, p99
${ms(load.latency.p99)} ms (the profiler itself costs some throughput). The process was busy
${(busyShare * 100).toFixed(0)} % of the profiled wall time (${int(summary.busyMs)} of
${int(summary.totalMs)} ms of the load phase), i.e. the main thread is
${busyShare > 0.8 ? 'saturated: ingest is CPU-bound in this process' : 'not saturated: the bound is outside this process (Kafka round trips or the shared CPU)'}.
The largest stage is **${bound?.stage ?? '–'}** (${((bound?.share ?? 0) * 100).toFixed(0)} % of busy time).
V8 samples on a wall-clock interval, so on a loaded machine the ms (not the shares) include
time the process waited for a core.
Stages are attributed by the innermost frame of each sample that belongs to a known module.

${stageTable}

Top functions by self time:

${topTable}
`;
  return { id: 'profile', title: '4. Hot-path profile', body, goals: [] };
}
