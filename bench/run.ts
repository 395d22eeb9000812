/**
 * `npm run bench [-- <name>…] [--quick]`: start a fresh local Kafka on 127.0.0.1:39092 (never
 * the test broker on 9092), run the selected benchmarks (all by default), each bounded in time,
 * and write their results into BENCHMARKS.md (sections of benchmarks not run are kept).
 *
 *   npm run bench                    full run (~10 min on 2 cores)
 *   npm run bench -- ingest --quick  one benchmark, short steps (harness check, noisy numbers)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ingestBenchmark } from './ingest.js';
import { spoolBenchmark } from './spool.js';
import { gateLatencyBenchmark } from './gate-latency.js';
import { scalingBenchmark } from './scaling.js';
import { gateStateBenchmark } from './gate-state.js';
import { gateFailoverBenchmark } from './gate-failover.js';
import { workersBenchmark } from './workers.js';
import { profileBenchmark } from './profile.js';
import type { BenchContext } from './lib/context.js';
import { startBenchKafka } from './lib/kafka.js';
import { ROOT } from './lib/process.js';
import { writeReport, type Section } from './lib/report.js';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<Section>> = {
  ingest: ingestBenchmark,
  spool: spoolBenchmark,
  gate: gateLatencyBenchmark,
  scaling: scalingBenchmark,
  'gate-state': gateStateBenchmark,
  'gate-failover': gateFailoverBenchmark,
  workers: workersBenchmark,
  profile: profileBenchmark,
};

const say = (line: string) => void process.stderr.write(`[bench] ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const write = !argv.includes('--no-write');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    say(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const started = Date.now();
  const kafka = await startBenchKafka((line) => say(`kafka: ${line}`));
  const ctx: BenchContext = {
    brokers: kafka.brokers,
    quick,
    runId: `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomBytes(2).toString('hex')}`,
    say,
  };
  const sections: Section[] = [];
  let failed = 0;
  try {
    for (const name of selected) {
      const t0 = Date.now();
      say(`── ${name} ──`);
      try {
        sections.push(await BENCHMARKS[name]!(ctx));
        say(`${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      } catch (err) {
        failed++;
        say(`${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      // Write after each benchmark, so an interrupted run keeps what it measured.
      if (write && sections.length > 0) writeReport(join(ROOT, 'BENCHMARKS.md'), sections, command);
    }
  } finally {
    if (kafka.startedByUs) await kafka.stop();
  }
  say(
    `all done in ${((Date.now() - started) / 1000).toFixed(0)} s${write ? '; BENCHMARKS.md updated' : ''}`,
  );
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
